/**
 * One module's source → the code Node runs, for the register hooks: the "use tasklet"
 * transform when the file contains the directive, Babel's TypeScript stripping when it is
 * TypeScript, and an inline source map pointing back at the original file.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transformAsync, type PluginItem } from '@babel/core';
import { transform } from '../transformer/index.js';
import type { Diagnostic } from '../transformer/types.js';

const require = createRequire(import.meta.url);

export interface CompileOptions {
  /** the file is TypeScript: strip its types */
  typescript: boolean;
  /** how Node runs the file; compiled tasklet functions import the runtime, so they need 'module' */
  format: 'module' | 'commonjs';
  /** project root, for stable tasklet function ids */
  root: string;
}

/** A compile error in a module loaded through `stackless/register`, with code frames. */
export class StacklessCompileError extends Error {
  override name = 'StacklessCompileError';
  declare readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n\n'));
    // Kept off the printed error: the message already shows every diagnostic with its frame,
    // and the loader-thread stack says nothing about the user's code.
    Object.defineProperty(this, 'diagnostics', { value: diagnostics, enumerable: false });
    this.stack = `${this.name}: ${this.message}`;
  }
}

export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.start.line}:${d.start.column + 1} - ${d.severity} ${d.code}: ${d.message}`;
  return d.frame ? `${head}\n${d.frame}` : head;
}

export async function compileModule(source: string, path: string, options: CompileOptions): Promise<string> {
  let output: { code: string; map: object | null } | undefined;

  if (source.includes('use tasklet')) {
    const result = await transform(source, path, { stripTypes: options.typescript, sourceMap: true, root: options.root });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    for (const d of result.diagnostics) {
      if (d.severity !== 'error') process.stderr.write(`${formatDiagnostic(d)}\n`);
    }
    if (errors.length > 0) throw new StacklessCompileError(errors);
    if (result.changed && options.format === 'commonjs') {
      const error = new Error(
        `stackless/register: ${path} has tasklet functions but Node runs it as CommonJS; compiled tasklet ` +
          `functions import the runtime, so they need an ES module: use the .mjs/.mts extension or ` +
          `"type": "module" in package.json.`,
      );
      error.stack = `Error: ${error.message}`; // the loader thread's stack says nothing about user code
      throw error;
    }
    if (result.changed) output = { code: result.code, map: result.map };
  }

  if (output === undefined) {
    if (!options.typescript) return source;
    output = await stripTypes(source, path);
  }
  return output.map ? `${output.code}\n${inlineSourceMap(output.map, path)}` : output.code;
}

let typescriptPlugin: PluginItem | undefined;

/** TypeScript → JavaScript with Babel, the way `tsc --isolatedModules` would (type-only imports elided). */
async function stripTypes(source: string, path: string): Promise<{ code: string; map: object | null }> {
  if (typescriptPlugin === undefined) {
    const mod = require('@babel/plugin-transform-typescript') as { default?: PluginItem } & PluginItem;
    typescriptPlugin = mod.default ?? mod;
  }
  const result = await transformAsync(source, {
    filename: path,
    babelrc: false,
    configFile: false,
    sourceType: 'unambiguous',
    sourceMaps: true,
    plugins: [[typescriptPlugin, { isTSX: path.endsWith('.tsx'), allExtensions: true, allowDeclareFields: true }]],
  });
  if (result?.code == null) throw new Error(`stackless/register: Babel returned no code for ${path}`);
  return { code: result.code, map: result.map ?? null };
}

function inlineSourceMap(map: object, path: string): string {
  // Name sources by file URL: a data: URL gives Node no base to resolve relative names against.
  const sources = ((map as { sources?: string[] }).sources ?? []).map((source) =>
    source.startsWith('file:') ? source : pathToFileURL(resolve(dirname(path), source)).href,
  );
  const withSource = { ...map, sources, file: undefined };
  const base64 = Buffer.from(JSON.stringify(withSource)).toString('base64');
  return `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${base64}`;
}

const packageTypes = new Map<string, string | undefined>();

/** The nearest package.json's "type" field (undefined when absent), as Node reads it for `.js` files. */
async function packageType(dir: string): Promise<string | undefined> {
  if (packageTypes.has(dir)) return packageTypes.get(dir);
  let type: string | undefined;
  try {
    const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { type?: unknown };
    type = typeof json.type === 'string' ? json.type : undefined;
  } catch (error) {
    const parent = dirname(dir);
    const code = (error as { code?: string }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    type = parent === dir ? undefined : await packageType(parent);
  }
  packageTypes.set(dir, type);
  return type;
}

const ESM_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s)|\bimport\.meta\b/m;

/**
 * `.mts` is always an ES module and `.cts` CommonJS; `.ts`/`.tsx` follow the nearest
 * package.json's "type", and without that field are ES modules when they use import/export
 * (as Node detects for `.js`).
 */
export async function moduleFormat(path: string, source: string): Promise<'module' | 'commonjs'> {
  if (path.endsWith('.mts')) return 'module';
  if (path.endsWith('.cts')) return 'commonjs';
  const type = await packageType(dirname(path));
  if (type === 'module') return 'module';
  if (type === undefined && ESM_SYNTAX.test(source)) return 'module';
  return 'commonjs';
}
