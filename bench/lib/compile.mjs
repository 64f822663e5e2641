// Compiles bench/demo sources (.ts with "use tasklet" functions) with the built
// transformer, and the same sources with the directives removed as ordinary code.
// Shared by bench/run.mjs and demo/run.mjs.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const distDir = path.join(root, 'dist');
export const transformerPath = path.join(distDir, 'transformer', 'index.js');
export const runtimeIndexPath = path.join(distDir, 'runtime', 'index.js');
export const runtimeInternalPath = path.join(distDir, 'runtime', 'internal.js');
export const runtimeIndexURL = pathToFileURL(runtimeIndexPath).href;
export const runtimeInternalURL = pathToFileURL(runtimeInternalPath).href;

/** Which parts of dist/ are missing (empty when the build is complete). */
export function missingDist() {
  return [transformerPath, runtimeIndexPath, runtimeInternalPath].filter((p) => !existsSync(p));
}

/** Loads `transform` from dist/transformer/index.js. */
export async function loadTransformer() {
  const mod = await import(pathToFileURL(transformerPath).href);
  const transform = mod.transform ?? mod.default?.transform ?? mod.default;
  if (typeof transform !== 'function') {
    throw new Error(`${transformerPath} exports no transform() (exports: ${Object.keys(mod).join(', ')})`);
  }
  return transform;
}

/** Loads the public runtime (dist/runtime/index.js), the same module instance compiled code uses. */
export function loadRuntime() {
  return import(runtimeIndexURL);
}

/** Points `import ... from "stackless"` (and dynamic imports of it) at the built runtime. */
export function rewriteStacklessImports(code) {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])stackless\2/g,
    (_m, pre, q) => `${pre}${q}${runtimeIndexURL}${q}`,
  );
}

/** Removes every `"use tasklet"` directive, leaving ordinary functions. */
export function stripDirectives(code) {
  return code.replace(/^([ \t]*)(['"])use tasklet\2;?[ \t]*$/gm, '$1');
}

let ts;
/** TypeScript -> JavaScript with nothing else changed (types erased by tsc, ESNext target). */
export async function stripTypes(code, fileName) {
  ts ??= (await import('typescript')).default;
  const out = ts.transpileModule(code, {
    fileName,
    compilerOptions: {
      target: ts.ScriptTarget.ESNext,
      module: ts.ModuleKind.ESNext,
      useDefineForClassFields: true,
      sourceMap: false,
    },
  });
  return out.outputText;
}

export class CompileError extends Error {}

function formatDiagnostics(diags) {
  return diags
    .map((d) => `${d.severity} ${d.code} ${d.file}:${d.start?.line}:${d.start?.column} ${d.message}\n${d.frame ?? ''}`)
    .join('\n');
}

/**
 * A temp directory holding compiled modules. `tasklet(src)` compiles a source
 * with the transformer; `plain(src)` writes the same source without its
 * directives, types stripped by tsc. Both return a file URL to import.
 */
export class Workspace {
  static async create(prefix = 'stackless-bench-') {
    const ws = new Workspace();
    ws.dir = await mkdtemp(path.join(tmpdir(), prefix));
    return ws;
  }

  async tasklet(transform, srcPath, options = {}) {
    const source = await readFile(srcPath, 'utf8');
    const result = await transform(source, srcPath, {
      stripTypes: true,
      runtimeModule: runtimeInternalURL,
      root,
      ...options,
    });
    const diagnostics = result.diagnostics ?? [];
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new CompileError(`transform(${path.relative(root, srcPath)}) failed:\n${formatDiagnostics(errors)}`);
    if (!result.changed) throw new CompileError(`transform(${path.relative(root, srcPath)}) reported changed: false`);
    const base = path.basename(srcPath).replace(/\.[cm]?tsx?$/, '');
    const suffix = options.ticks === false ? '.noticks' : '';
    const outPath = path.join(this.dir, `${base}${suffix}.tasklet.mjs`);
    let code = rewriteStacklessImports(result.code);
    if (result.map) {
      await writeFile(`${outPath}.map`, JSON.stringify(result.map));
      code += `\n//# sourceMappingURL=${path.basename(outPath)}.map\n`;
    }
    await writeFile(outPath, code);
    return { url: pathToFileURL(outPath).href, path: outPath, warnings: diagnostics.filter((d) => d.severity !== 'error') };
  }

  async plain(srcPath) {
    const source = await readFile(srcPath, 'utf8');
    const base = path.basename(srcPath).replace(/\.[cm]?tsx?$/, '');
    const outPath = path.join(this.dir, `${base}.plain.mjs`);
    const code = await stripTypes(stripDirectives(source), srcPath);
    if (/['"]use tasklet['"]/.test(code)) throw new CompileError(`could not strip "use tasklet" from ${srcPath}`);
    await writeFile(outPath, rewriteStacklessImports(code));
    return { url: pathToFileURL(outPath).href, path: outPath };
  }

  async dispose() {
    await rm(this.dir, { recursive: true, force: true });
  }
}
