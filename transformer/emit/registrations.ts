/**
 * What a compiled module registers for snapshots besides its tasklet functions
 * (docs/snapshot-format.md, runtime/snapshot/NEEDS.md §1, §4-§6), added once the
 * whole file is compiled:
 *
 * - each closure factory learns the compiled metadata of the tasklet closure it
 *   makes (`registerFactory($factory, $mk_inner, $meta$2)`), so a frame of that
 *   closure can be saved and restored;
 * - for-of's saveable-iterator helper gets the file's local name of its import;
 * - module-level classes are registered under "module id#Name" right after their
 *   declaration (`registerClass(Ledger, "src/a.ts#Ledger")`), so their instances can be
 *   saved without the user calling registerClass;
 * - module-level function declarations, classes and variables are registered as module
 *   values (`registerValue("src/a.ts#helper", () => helper)`): a function or object that is
 *   the current value of one is saved by reference, as Stackless pickles module globals, and
 *   a channel held by one is restored into the channel the binding holds then (if idle);
 * - the module itself: `registerModule({ id, fp, src, functions })`, a fingerprint of all its
 *   tasklet functions and one of its source text (runtime `moduleRegistry`).
 */
import * as t from '../ast.js';
import type { FileState } from '../compile-function.js';

export function emitRegistrations(ast: t.File, file: FileState): void {
  if (file.functions.length === 0 && file.imports.size === 0) return;
  const factories = linkFactories(ast, file);
  registerModuleValues(ast, file, factories);
  registerModule(file);
}

/** 32-bit FNV-1a, as hex: stable across runs and platforms. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** `registerModule({ id, fp, src, functions })`: the module's fingerprints, for pinning a run to its code. */
function registerModule(file: FileState): void {
  const fps = file.functions.map((f) => `${f.id}:${f.fingerprint}`).sort();
  const entry = `{ id: ${JSON.stringify(file.moduleId)}, fp: "${hash(fps.join('\n'))}", src: "${hash(file.source)}", functions: ${fps.length} }`;
  file.registrations.push(t.rawStatements(`${file.importRuntime('registerModule')}(${entry})`));
}

/** The metadata of the tasklet function each factory `$mk_x` returns: its id is "<module>#$mk_x/<name>". */
function linkFactories(ast: t.File, file: FileState): Set<string> {
  const factories = new Set<string>();
  const registerFactory = file.imports.get('registerFactory');
  if (registerFactory === undefined) return factories;
  const byFactory = new Map<string, string[]>();
  const prefix = `${file.moduleId}#`;
  for (const meta of file.metas) {
    if (!meta.id.startsWith(prefix)) continue;
    const q = meta.id.slice(prefix.length);
    const slash = q.indexOf('/');
    if (slash < 0 || q.indexOf('/', slash + 1) >= 0) continue; // not directly inside a module-level function
    const owner = q.slice(0, slash);
    const list = byFactory.get(owner) ?? [];
    list.push(meta.name);
    byFactory.set(owner, list);
  }
  // factory metadata objects by name, to make their ids unique: two closures of one function
  // may get the same name (`let f = () => 1; ... f = () => 2;`), and a second registration
  // under one id would replace the first
  const factoryMetas = new Map<string, { id: t.StringLiteral; at: number }>();
  for (const stmt of ast.program.body) {
    if (!t.isVariableDeclaration(stmt) || stmt.declarations.length !== 1) continue;
    const d = stmt.declarations[0];
    if (!t.isIdentifier(d.id) || !t.isObjectExpression(d.init)) continue;
    const prop = (key: string) => (d.init as t.ObjectExpression).properties.find((p): p is t.ObjectProperty => t.isObjectProperty(p) && t.isIdentifier(p.key, { name: key }))?.value;
    const id = prop('id');
    const line = prop('line');
    const column = prop('column');
    if (t.isStringLiteral(id) && t.isNumericLiteral(line) && t.isNumericLiteral(column)) factoryMetas.set(d.id.name, { id, at: line.value * 1e6 + column.value });
  }
  const seenIds = new Map<string, number>();
  const calls: t.CallExpression[] = [];
  for (const stmt of ast.program.body) {
    if (!t.isExpressionStatement(stmt) || !t.isCallExpression(stmt.expression)) continue;
    const call = stmt.expression;
    if (t.isIdentifier(call.callee, { name: registerFactory }) && call.arguments.length === 2) calls.push(call);
  }
  // in source order of the closures (line, column), so the ids are the same on every compile
  const metas = calls.map((c) => (t.isIdentifier(c.arguments[0]) ? factoryMetas.get(c.arguments[0].name) : undefined)).filter((m) => m !== undefined);
  for (const m of metas.sort((a, b) => a.at - b.at)) {
    const n = (seenIds.get(m.id.value) ?? 0) + 1;
    seenIds.set(m.id.value, n);
    if (n > 1) m.id.value = `${m.id.value}~${n}`;
  }
  for (const call of calls) {
    const mk = call.arguments[1];
    if (t.isIdentifier(mk)) factories.add(mk.name);
    const metas = t.isIdentifier(mk) ? byFactory.get(mk.name) : undefined;
    if (metas !== undefined && metas.length === 1) call.arguments.push(t.identifier(metas[0]));
  }
  return factories;
}

/** `factories`: the compiler's own factory functions, which are not module values. */
/**
 * Instances of a class with `#private` members cannot be re-created (a restored object would
 * lack the private brand), so such classes are left unregistered: snapshots refuse them.
 */
function hasPrivateMembers(c: t.ClassDeclaration): boolean {
  return c.body.body.some((m) => t.isClassPrivateProperty(m) || t.isClassPrivateMethod(m) || (t.isClassAccessorProperty(m) && t.isPrivateName(m.key)));
}

function registerModuleValues(ast: t.File, file: FileState, factories: Set<string>): void {
  const body = ast.program.body;
  // registrations are written as text: a module-level name and a string, one node each to print
  const value = (name: string) => t.rawStatements(`${file.importRuntime('registerValue')}(${JSON.stringify(`${file.moduleId}#${name}`)}, () => ${name})`);
  for (let i = 0; i < body.length; i++) {
    const stmt = body[i];
    const decl = t.isExportNamedDeclaration(stmt) || t.isExportDefaultDeclaration(stmt) ? stmt.declaration : stmt;
    if (t.isClassDeclaration(decl) && decl.id && !decl.declare) {
      const name = decl.id.name;
      file.registrations.push(value(name));
      if (hasPrivateMembers(decl)) continue;
      // after the declaration: a class is in its temporal dead zone before it
      const reg = t.rawStatements(`${file.importRuntime('registerClass')}(${name}, ${JSON.stringify(`${file.moduleId}#${name}`)})`);
      body.splice(i + 1, 0, reg);
      i++;
    } else if (t.isFunctionDeclaration(decl) && decl.id && !decl.declare && decl.body && !factories.has(decl.id.name)) {
      file.registrations.push(value(decl.id.name));
    } else if (t.isVariableDeclaration(decl) && !decl.declare) {
      // every binding: the getter reads its current value when a snapshot is taken
      for (const d of decl.declarations) if (t.isIdentifier(d.id)) file.registrations.push(value(d.id.name));
    }
  }
}
