/**
 * `stackless/rollup`: the "use tasklet" transform as a Rollup 4 plugin.
 *
 *     import stackless from 'stackless/rollup';
 *     export default { input: 'src/main.js', plugins: [stackless()] };
 */
import type { Plugin } from 'rollup';
import { createTransformHandler, DIRECTIVE, MODULE_ID, type StacklessPluginOptions } from './shared.js';

export type { StacklessPluginOptions, FilterPattern } from './shared.js';

export function stackless(options: StacklessPluginOptions = {}): Plugin {
  const root = options.root ?? process.cwd();
  return {
    name: 'stackless',
    transform: {
      filter: { id: MODULE_ID, code: DIRECTIVE },
      handler: createTransformHandler(options, () => root),
    },
  };
}

export default stackless;
