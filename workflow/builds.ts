// `stackless workflows check <old build> <new build>`: the fingerprints of the tasklet functions
// of two builds, what changed between them, and which stored runs the change would strand
// (their pinned workflow function or a function on their saved stack changed or disappeared).
//
// A build is a directory. Every .js/.mjs/.cjs/.ts/.mts/.cts/.jsx/.tsx file under it (not in
// node_modules or a dot-folder, not .d.ts) is read:
// - a source file (it contains a "use tasklet" directive) is compiled with the directory as the
//   root, so its function ids are what `node --import stackless/register` started in that
//   directory (or Vite with that root) gives them;
// - a compiled file (the output of Vite, Rollup, Babel or the Node hook) carries its ids and
//   fingerprints in the metadata objects registerFunction() receives: they are read as written.
// Nothing is imported or run.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import type * as BabelParser from '@babel/parser';
import type * as T from '@babel/types';
import { transform } from '../transformer/index.js';

const parser = createRequire(import.meta.url)('@babel/parser') as typeof BabelParser;

export interface BuildFunction {
  id: string;
  fp: string;
  /** Where it was found, relative to the build's directory. */
  source: string;
  line: number;
  /** Its compiled metadata (what registerFunction receives), for dry runs of migrations. */
  meta?: { id: string; fp: string; name: string; file: string; line: number; states: number; locals: Array<[string, string]>; pcs: number[] };
}

export interface Build {
  dir: string;
  files: number;
  functions: Map<string, BuildFunction>;
}

const EXT = /\.(?:[mc]?[jt]s|[jt]sx)$/;

/** Reads the tasklet functions of the build in `dir`. Throws an Error that says which file and why. */
export function readBuild(dir: string): Build {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new Error(`cannot find the build '${dir}' (give a directory: the project's sources or its built output)`);
  }
  if (!st.isDirectory()) throw new Error(`the build '${dir}' is not a directory (give the project's directory or its built output folder)`);
  const build: Build = { dir, files: 0, functions: new Map() };
  const root = resolve(dir);
  for (const file of walk(root)) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(root, file).split(sep).join('/');
    let found: BuildFunction[];
    if (text.includes('use tasklet')) found = fromSource(text, file, root, rel);
    else if (text.includes('fp') && text.includes('pcs')) found = fromCompiled(text, file, rel);
    else continue;
    if (found.length === 0) continue;
    build.files++;
    for (const f of found) {
      const seen = build.functions.get(f.id);
      if (seen !== undefined && seen.fp !== f.fp) {
        throw new Error(
          `the build '${dir}' has two versions of tasklet function ${f.id}: fingerprint ${seen.fp} in ${seen.source}, ${f.fp} in ${f.source} ` +
            `(give either the sources or the built output, not a folder with both, or rebuild the output)`,
        );
      }
      build.functions.set(f.id, f);
    }
  }
  return build;
}

function* walk(dir: string): Generator<string> {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* walk(path);
    else if (e.isFile() && EXT.test(e.name) && !/\.d\.[mc]?ts$/.test(e.name)) yield path;
  }
}

function fromSource(text: string, file: string, root: string, rel: string): BuildFunction[] {
  let r;
  try {
    r = transform(text, file, { root, stripTypes: true, sourceMap: false });
  } catch (e) {
    throw new Error(`${rel}: cannot compile it (${(e as Error).message.split('\n')[0]}); fix it or leave it out of the build`);
  }
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const d = errors[0];
    throw new Error(`${rel}:${d.start?.line ?? '?'}: cannot compile it (${d.code}: ${d.message}); fix it or leave it out of the build`);
  }
  const registered = new Set((r.functions ?? []).map((f) => f.id));
  // the compiled code's metadata objects: the same ids and fingerprints, plus locals and resume points
  const metas = new Map(fromCompiled(r.code, file, rel).map((m) => [m.id, m]));
  return (r.functions ?? []).filter((f) => registered.has(f.id)).map((f) => ({ id: f.id, fp: f.fingerprint, source: rel, line: f.line, meta: metas.get(f.id)?.meta }));
}

/** The metadata objects of compiled tasklet functions: { id: '…', fp: '…', states: n, pcs: [...] }. */
function fromCompiled(text: string, file: string, rel: string): BuildFunction[] {
  let ast: T.File;
  try {
    ast = parser.parse(text, { sourceType: 'unambiguous', allowReturnOutsideFunction: true, errorRecovery: false, plugins: ['jsx'] });
  } catch {
    return []; // not JavaScript we can read (a TypeScript file without tasklet functions, say): nothing registered here
  }
  const out: BuildFunction[] = [];
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    const n = node as T.Node;
    if (n.type === 'ObjectExpression') {
      const meta = metaOf(n);
      if (meta !== null) out.push({ ...meta, source: rel });
    }
    for (const key of Object.keys(n)) {
      if (key === 'loc' || key === 'start' || key === 'end' || key === 'leadingComments' || key === 'trailingComments') continue;
      visit((n as unknown as Record<string, unknown>)[key]);
    }
  };
  visit(ast.program);
  void file;
  return out;
}

function metaOf(o: T.ObjectExpression): { id: string; fp: string; line: number; meta?: BuildFunction['meta'] } | null {
  const props = new Map<string, T.Node>();
  for (const p of o.properties) {
    if (p.type !== 'ObjectProperty' || p.computed) continue;
    const k = p.key.type === 'Identifier' ? p.key.name : p.key.type === 'StringLiteral' ? p.key.value : null;
    if (k !== null) props.set(k, p.value);
  }
  const id = props.get('id');
  const fp = props.get('fp');
  const states = props.get('states');
  const pcs = props.get('pcs');
  const line = props.get('line');
  if (id?.type !== 'StringLiteral' || fp?.type !== 'StringLiteral' || states?.type !== 'NumericLiteral' || pcs?.type !== 'ArrayExpression') return null;
  const str = (n: T.Node | undefined) => (n?.type === 'StringLiteral' ? n.value : null);
  const lineNo = line?.type === 'NumericLiteral' ? line.value : 0;
  const out: { id: string; fp: string; line: number; meta?: BuildFunction['meta'] } = { id: id.value, fp: fp.value, line: lineNo };
  const locals = props.get('locals');
  const pcList = pcs.elements.map((e) => (e?.type === 'NumericLiteral' ? e.value : null));
  const pairs = locals?.type === 'ArrayExpression'
    ? locals.elements.map((e) => (e?.type === 'ArrayExpression' && e.elements.length === 2 ? [str(e.elements[0] ?? undefined), str(e.elements[1] ?? undefined)] : null))
    : null;
  if (pairs !== null && pairs.every((p) => p !== null && p[0] !== null && p[1] !== null) && pcList.every((x) => x !== null)) {
    out.meta = {
      id: id.value, fp: fp.value, name: str(props.get('name')) ?? id.value, file: str(props.get('file')) ?? '', line: lineNo,
      states: states.value, locals: pairs as Array<[string, string]>, pcs: pcList as number[],
    };
  }
  return out;
}

export interface FunctionChange {
  id: string;
  change: 'changed' | 'removed' | 'added';
  old: string | null;
  new: string | null;
  /** Where it is in the new build (the old one for a removed function). */
  source: string;
  line: number;
}

/** What changed between two builds, sorted by id. */
export function diffBuilds(old: Build, next: Build): FunctionChange[] {
  const out: FunctionChange[] = [];
  for (const [id, o] of old.functions) {
    const n = next.functions.get(id);
    if (n === undefined) out.push({ id, change: 'removed', old: o.fp, new: null, source: o.source, line: o.line });
    else if (n.fp !== o.fp) out.push({ id, change: 'changed', old: o.fp, new: n.fp, source: n.source, line: n.line });
  }
  for (const [id, n] of next.functions) if (!old.functions.has(id)) out.push({ id, change: 'added', old: null, new: n.fp, source: n.source, line: n.line });
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A function a stored run depends on, with the fingerprint it depends on. */
export interface Pin {
  id: string;
  fp: string;
  /** 'workflow': the run's own workflow function (pinned at start); 'stack': in its last checkpoint. */
  as: 'workflow' | 'stack';
}

/** The pins of a stored run: its workflow function and every function its checkpoint names. */
export function pinsOf(run: { fn: string; fp: string; snapshot: string | null }): Pin[] {
  const pins: Pin[] = [{ id: run.fn, fp: run.fp, as: 'workflow' }];
  if (run.snapshot === null) return pins;
  let data: unknown;
  try {
    data = JSON.parse(run.snapshot);
  } catch {
    return pins;
  }
  const fns = (data as { fns?: unknown }).fns;
  if (!Array.isArray(fns)) return pins;
  for (const f of fns) {
    if (!Array.isArray(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string') continue;
    if (f[0] === run.fn && f[1] === run.fp) continue;
    pins.push({ id: f[0], fp: f[1], as: 'stack' });
  }
  return pins;
}

export interface Mismatch {
  id: string;
  as: 'workflow' | 'stack';
  pinned: string;
  /** The fingerprint in the build, or null: the function is not in it. */
  build: string | null;
}

/** The pins of a run that the build does not satisfy (empty: the run can resume on it). */
export function mismatches(pins: Pin[], build: Build): Mismatch[] {
  const out: Mismatch[] = [];
  for (const p of pins) {
    const f = build.functions.get(p.id);
    if (f === undefined || f.fp !== p.fp) out.push({ id: p.id, as: p.as, pinned: p.fp, build: f?.fp ?? null });
  }
  return out;
}
