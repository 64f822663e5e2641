/**
 * Module customization hooks for `stackless/register` (they run on Node's loader thread).
 *
 * - `resolve`: a relative `./x.js` that does not exist is looked up as `./x.ts` (and
 *   `.mjs` → `.mts`, `.jsx` → `.tsx`), as TypeScript users write their imports.
 * - `load`: `.ts`/`.mts`/`.cts`/`.tsx` files are read here, stripped of their types and, when
 *   they contain "use tasklet", transformed; `.js`/`.mjs` ES modules that contain the
 *   directive are transformed. CommonJS files may not hold tasklet functions (compiled ones
 *   import the runtime): that is an error, not a silent no-op. Nothing inside `node_modules`
 *   is touched.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compileModule, moduleFormat } from './compile.js';

interface InitializeData {
  root?: string;
}

interface ResolveContext {
  conditions: string[];
  importAttributes: Record<string, string>;
  parentURL?: string;
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context?: Partial<ResolveContext>) => Promise<ResolveResult>;

interface LoadContext {
  conditions: string[];
  format?: string | null;
  importAttributes: Record<string, string>;
}
interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | ArrayBufferView | null;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context?: Partial<LoadContext>) => Promise<LoadResult>;

let root = process.cwd();

export async function initialize(data: InitializeData | undefined): Promise<void> {
  if (data?.root) root = data.root;
}

const TS_FOR_JS: Record<string, string[]> = {
  '.js': ['.ts', '.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
  '.jsx': ['.tsx'],
};

export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<ResolveResult> {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const ext = /\.[mc]?jsx?$/.exec(specifier)?.[0];
    const relative = /^(?:\.{1,2}\/|\/|file:)/.test(specifier);
    if (!ext || !relative || (error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    const stem = specifier.slice(0, -ext.length);
    for (const tsExt of TS_FOR_JS[ext] ?? []) {
      try {
        return await nextResolve(stem + tsExt, context);
      } catch {
        // try the next candidate; the original error is the one to report
      }
    }
    throw error;
  }
}

const TS_FILE = /\.(?:ts|mts|cts|tsx)$/;
const JS_FILE = /\.(?:js|mjs|cjs)$/;
const NODE_MODULES = /[\\/]node_modules[\\/]/;

export async function load(url: string, context: LoadContext, nextLoad: NextLoad): Promise<LoadResult> {
  if (!url.startsWith('file:')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  if (NODE_MODULES.test(path)) return nextLoad(url, context);

  if (TS_FILE.test(path)) {
    const source = await readFile(path, 'utf8');
    const format = await moduleFormat(path, source);
    // CommonJS gets its source from here too: Node then sends its require() calls through these hooks.
    return { format, source: await compileModule(source, path, { typescript: true, format, root }), shortCircuit: true };
  }

  if (JS_FILE.test(path)) {
    const loaded = await nextLoad(url, context);
    if (loaded.format !== 'module' && loaded.format !== 'commonjs') return loaded;
    // Node leaves a CommonJS file's source to its own loader (null here): read it to look for tasklets.
    const source =
      loaded.source == null
        ? await readFile(path, 'utf8')
        : typeof loaded.source === 'string'
          ? loaded.source
          : new TextDecoder().decode(loaded.source as ArrayBuffer | Uint8Array);
    if (!source.includes('use tasklet')) return loaded;
    const compiled = await compileModule(source, path, { typescript: false, format: loaded.format, root });
    return compiled === source ? loaded : { ...loaded, source: compiled };
  }

  return nextLoad(url, context);
}
