/**
 * `stackless/vite`: the "use tasklet" transform as a Vite plugin, for dev, build, SSR and Vitest.
 *
 *     import { defineConfig } from 'vite';
 *     import stackless from 'stackless/vite';
 *     export default defineConfig({ plugins: [stackless()] });
 */
import type { Plugin } from 'vite';
import {
  createTransformHandler,
  DIRECTIVE,
  MODULE_ID,
  type StacklessPluginOptions,
} from '../plugin-rollup/shared.js';

export type { StacklessPluginOptions, FilterPattern } from '../plugin-rollup/shared.js';

const DEFAULT_RUNTIME_MODULE = 'stackless/internal';

export function stackless(options: StacklessPluginOptions = {}): Plugin {
  let root = options.root ?? process.cwd();
  return {
    name: 'stackless',
    // Run before Vite's own TypeScript stripping, so the transform sees the user's source
    // and its diagnostics point at the user's lines.
    enforce: 'pre',
    config() {
      // Vite's dependency scanner only sees imports written in the source; the runtime
      // import that compiled code gains would otherwise be found late and force a reload.
      // Both entries are pre-bundled together so they share one runtime instance.
      const runtime = options.runtimeModule ?? DEFAULT_RUNTIME_MODULE;
      const include = ['stackless'];
      if (isBareSpecifier(runtime) && runtime !== 'stackless') include.push(runtime);
      return { optimizeDeps: { include } };
    },
    configResolved(config) {
      if (options.root === undefined) root = config.root;
    },
    transform: {
      filter: { id: MODULE_ID, code: DIRECTIVE },
      handler: createTransformHandler(options, () => root),
    },
  };
}

/** A package name (with an optional subpath), the only kind of id `optimizeDeps.include` takes. */
function isBareSpecifier(id: string): boolean {
  return !/^(?:[./\\]|[a-zA-Z]:|[a-zA-Z][\w+.-]*:|\0)/.test(id);
}

export default stackless;
