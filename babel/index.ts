/**
 * `stackless/babel`: the "use tasklet" transform as a Babel 7 plugin.
 *
 *     { "plugins": ["stackless/babel", "@babel/plugin-transform-typescript"] }
 *
 * The core transform works on source text (`transform(code, id)`), so this plugin hands it the
 * file's original code when the Program is entered and puts the result in place of the
 * program, before any other plugin has changed it. Every node of the result is given the
 * position its code had in the original file (read from the transform's source map), so the
 * source map Babel finally writes still points at the user's lines and other plugins'
 * errors point there too.
 */
import { types as t, type ConfigAPI, type NodePath, type PluginObj, type PluginPass } from '@babel/core';
import { parse, type ParserOptions } from '@babel/parser';
import { originalPositionFor, TraceMap, type SourceMapInput } from '@jridgewell/trace-mapping';
import { transform } from '../transformer/index.js';
import type { Diagnostic, TransformOptions } from '../transformer/types.js';

/** Every transform option except the source-map ones: Babel's own `sourceMaps` decides those. */
export type StacklessBabelOptions = Omit<TransformOptions, 'sourceMap' | 'inputSourceMap'>;

const DIRECTIVE = 'use tasklet';

export default function stacklessBabel(api: ConfigAPI, options: StacklessBabelOptions = {}): PluginObj<PluginPass> {
  api.assertVersion(7);
  return {
    name: 'stackless',
    visitor: {
      Program(path, state) {
        const { file } = state;
        // The transform needs the source text; Babel has it unless given only an AST.
        if (typeof file.code !== 'string' || !file.code.includes(DIRECTIVE)) return;
        const filename = state.filename ?? file.opts.filename ?? 'unknown.js';
        const result = transform(file.code, filename, { root: file.opts.cwd ?? undefined, ...options, sourceMap: true });

        for (const d of result.diagnostics) {
          if (d.severity !== 'error') console.warn(`${filename}:${d.start.line}:${d.start.column + 1} ${d.code} ${d.message}`);
        }
        const error = result.diagnostics.find((d) => d.severity === 'error');
        if (error) throw compileError(path, error, result.diagnostics);
        if (!result.changed || result.map === null) return;

        const program = parse(result.code, {
          ...(file.opts.parserOpts as ParserOptions),
          sourceType: path.node.sourceType,
        }).program;
        restoreOriginalPositions(program, new TraceMap(result.map as SourceMapInput));
        path.node.body = program.body;
        path.node.directives = program.directives;
        path.scope.crawl();
      },
    },
  };
}

/** Babel's own code-frame error at the diagnostic's position, carrying its `code`. */
function compileError(path: NodePath<t.Program>, d: Diagnostic, all: Diagnostic[]): Error {
  const at = { loc: { start: d.start, end: d.end } } as unknown as t.Node;
  const error = path.hub.buildError(at, `${d.code} ${d.message} (${d.url})`, SyntaxError);
  return Object.assign(error, { code: d.code, diagnostics: all });
}

type Loc = { line: number; column: number; index: number };

/**
 * Gives each node the position (in the original file) that the transform's source map
 * assigns to it; nodes the map does not cover lose their position, so Babel maps nothing
 * for them rather than something wrong.
 */
function restoreOriginalPositions(program: t.Program, map: TraceMap): void {
  const original = (pos: { line: number; column: number }): Loc | null => {
    const p = originalPositionFor(map, { line: pos.line, column: pos.column });
    return p.line === null ? null : { line: p.line, column: p.column, index: -1 };
  };
  t.traverseFast(program, (node) => {
    const loc = node.loc;
    if (!loc) return;
    const start = original(loc.start);
    if (start === null) {
      node.loc = null;
      return;
    }
    const end = original(loc.end);
    node.loc = { ...loc, start, end: end && end.line >= start.line ? end : start };
  });
}
