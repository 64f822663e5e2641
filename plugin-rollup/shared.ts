/**
 * What the Rollup and Vite adapters share: option splitting, the id/code filter
 * and the mapping of core diagnostics to `this.error` / `this.warn`.
 *
 * Everything that decides what the transform does lives in `transformer/`; this
 * file only moves data between a bundler's plugin context and `transform()`.
 */
import { createFilter, type FilterPattern } from '@rollup/pluginutils';
import { transform } from '../transformer/index.js';
import type { Diagnostic, TransformOptions, TransformResult } from '../transformer/types.js';

export type { FilterPattern };

/**
 * The two methods of a transform-hook context the adapters use. Written structurally so
 * the same handler fits Rollup 4, Vite 6/7 (Rollup types) and Vite 8 (Rolldown types).
 */
export interface DiagnosticSink {
  warn(log: { message: string; code?: string; url?: string }, pos?: { line: number; column: number }): void;
  error(log: { message: string; code?: string; url?: string }, pos?: { line: number; column: number }): never;
}

/** A v3 source map as the core returns it. */
export type SourceMap = NonNullable<TransformResult['map']>;

/** What the handler returns: Rollup's `{ code, map }` or `null` for "not mine". */
export type HandlerResult = { code: string; map: SourceMap | { mappings: '' } } | null;

export interface StacklessPluginOptions extends TransformOptions {
  /** picomatch pattern(s) or RegExp(s) of module ids to transform (default: every JS/TS module) */
  include?: FilterPattern;
  /** module ids never transformed (default: anything inside `node_modules`) */
  exclude?: FilterPattern;
}

/** Modules the plugins look at: .js .jsx .ts .tsx and their .m/.c variants, with an optional `?query`. */
export const MODULE_ID = /\.[cm]?[jt]sx?(?:$|\?)/;
/** Only modules mentioning the directive can contain a tasklet function. */
export const DIRECTIVE = /use tasklet/;

export const DEFAULT_EXCLUDE = /[\\/]node_modules[\\/]/;

/** The part of a bundler id that names the file (Vite appends `?v=…`, `?t=…`, `?direct`). */
export function cleanId(id: string): string {
  const q = id.indexOf('?');
  return q === -1 ? id : id.slice(0, q);
}

/**
 * The transform hook body shared by both plugins. `getRoot` is asked on every call
 * because Vite only knows its root after `configResolved`.
 */
export function createTransformHandler(
  options: StacklessPluginOptions,
  getRoot: () => string,
): (this: DiagnosticSink, code: string, id: string) => Promise<HandlerResult> {
  const { include, exclude, ...transformOptions } = options;
  const accepts = createFilter(include, exclude ?? DEFAULT_EXCLUDE);
  const sourceMap = transformOptions.sourceMap ?? true;

  return async function handler(code, id) {
    const file = cleanId(id);
    // The hook filter already checked this on Rollup >= 4.38 and Vite >= 6.3; older hosts do not.
    if (!MODULE_ID.test(file) || !DIRECTIVE.test(code) || !accepts(file)) return null;

    const result = await transform(code, file, { ...transformOptions, sourceMap, root: getRoot() });
    report(this, result.diagnostics);
    if (!result.changed) return null;
    // The transform moves code into state machines, so `map: null` ("code did not move")
    // would be wrong; with maps turned off Rollup's documented "no map" value is used.
    return { code: result.code, map: sourceMap && result.map ? result.map : { mappings: '' } };
  };
}

/**
 * Warnings go to `this.warn`, the first error to `this.error` (which throws) with the
 * other errors listed in its message. `code` is passed, not `pluginCode`: Rollup renames
 * it itself, and Vite's dev server would drop `loc`/`frame` from a log that already has
 * `pluginCode`. Rollup and Vite add `loc` ({ file, line, column }), `frame`, `id`, `plugin`.
 */
function report(ctx: DiagnosticSink, diagnostics: readonly Diagnostic[]): void {
  const errors: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (d.severity === 'error') errors.push(d);
    else ctx.warn({ message: d.message, code: d.code, url: d.url }, position(d));
  }
  if (errors.length === 0) return;
  const [first, ...rest] = errors;
  let message = first.message;
  if (rest.length > 0) {
    const more = rest.map((d) => `  ${d.file}:${d.start.line}:${d.start.column + 1} ${d.code} ${d.message}`);
    message += `\n${rest.length} more error${rest.length === 1 ? '' : 's'}:\n${more.join('\n')}`;
  }
  ctx.error({ message, code: first.code, url: first.url }, position(first));
}

/** Rollup's position object: 1-based line, 0-based column, the same convention as a Diagnostic. */
function position(d: Diagnostic): { line: number; column: number } {
  return { line: d.start.line, column: d.start.column };
}
