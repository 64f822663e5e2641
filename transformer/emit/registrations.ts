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
  emitLiveness(ast, file);
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
  const entry = t.objectExpression([
    t.objectProperty(t.identifier('id'), t.stringLiteral(file.moduleId)),
    t.objectProperty(t.identifier('fp'), t.stringLiteral(hash(fps.join('\n')))),
    t.objectProperty(t.identifier('src'), t.stringLiteral(hash(file.source))),
    t.objectProperty(t.identifier('functions'), t.numericLiteral(fps.length)),
  ]);
  file.registrations.push(t.expressionStatement(t.callExpression(t.identifier(file.importRuntime('registerModule')), [entry])));
}

/** The metadata of the tasklet function each factory `$mk_x` returns: its id is "<module>#$mk_x/<name>". */
function linkFactories(ast: t.File, file: FileState): Set<string> {
  const factories = new Set<string>();
  const registerFactory = file.imports.get('registerFactory');
  if (registerFactory === undefined) return factories;
  const byFactory = new Map<string, string[]>();
  const prefix = `${file.moduleId}#`;
  for (const stmt of file.metas) {
    const d = (stmt as t.VariableDeclaration).declarations?.[0];
    if (!d || !t.isIdentifier(d.id) || !t.isObjectExpression(d.init)) continue;
    const idProp = d.init.properties.find((p): p is t.ObjectProperty => t.isObjectProperty(p) && t.isIdentifier(p.key, { name: 'id' }));
    if (!idProp || !t.isStringLiteral(idProp.value) || !idProp.value.value.startsWith(prefix)) continue;
    const q = idProp.value.value.slice(prefix.length);
    const slash = q.indexOf('/');
    if (slash < 0 || q.indexOf('/', slash + 1) >= 0) continue; // not directly inside a module-level function
    const owner = q.slice(0, slash);
    const list = byFactory.get(owner) ?? [];
    list.push(d.id.name);
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
  const value = (name: string) =>
    t.expressionStatement(
      t.callExpression(t.identifier(file.importRuntime('registerValue')), [
        t.stringLiteral(`${file.moduleId}#${name}`),
        t.arrowFunctionExpression([], t.identifier(name)),
      ]),
    );
  for (let i = 0; i < body.length; i++) {
    const stmt = body[i];
    const decl = t.isExportNamedDeclaration(stmt) || t.isExportDefaultDeclaration(stmt) ? stmt.declaration : stmt;
    if (t.isClassDeclaration(decl) && decl.id && !decl.declare) {
      const name = decl.id.name;
      file.registrations.push(value(name));
      if (hasPrivateMembers(decl)) continue;
      // after the declaration: a class is in its temporal dead zone before it
      const reg = t.expressionStatement(
        t.callExpression(t.identifier(file.importRuntime('registerClass')), [t.identifier(name), t.stringLiteral(`${file.moduleId}#${name}`)]),
      );
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

// ---------------------------------------------------------------------------
// Liveness of compiler temporaries at resume points (runtime/snapshot/NEEDS.md §3), and
// whether a function's records save `this` (`th: 0 | 1` in its metadata, NEEDS.md §2)
//
// For each compiled function, `live: { [pc]: [slot, ...] }` is added to its metadata: the
// indexes (into `locals`) of the temporaries (`$t…`) that may still be read after resuming at
// `pc`. A snapshot saves the other temporaries as undefined. The analysis reads the emitted
// state machine (`switch ($pc)` in `$loop: for (;;) try { ... } catch { ... }`) backwards,
// case by case, to a fixed point: a plain `$tN = e;` at the top of a case's statement list kills
// `$tN`; any other mention of a temporary counts as a read; `$pc = X; continue $loop` and a
// suspension (`break $save`, resumed at the last `$pc = X`) are edges to case X; anything in
// the try may throw into the catch, whose reads and `$pc = X` targets are live everywhere.
// Whatever it does not recognise (another jump shape, a computed `$pc`) leaves the function
// without `live`, so snapshots keep every temporary: unknown never means dead.

const TEMP = /^\$t\d/;

class Unknown extends Error {}

interface FnShape {
  pcVar: string;
  meta: t.ObjectExpression;
  fn: t.Node;
  /** every `try { ... switch (x) ... } catch` directly in `fn`, by the switch's discriminant */
  dispatch: Map<string, Array<{ sw: t.SwitchStatement; handler: t.BlockStatement }>>;
}

/** Calls `visit` on every node below `node` (not `node` itself); `visit` returns false to skip a subtree. */
function eachBelow(node: t.Node, visit: (n: t.Node) => boolean): void {
  const keys = t.VISITOR_KEYS[node.type];
  if (keys === undefined) return;
  for (let k = 0; k < keys.length; k++) {
    const v = (node as unknown as Record<string, unknown>)[keys[k]];
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let j = 0; j < v.length; j++) {
        const x = v[j] as t.Node | null;
        if (x !== null && typeof x === 'object' && typeof x.type === 'string' && visit(x)) eachBelow(x, visit);
      }
    } else if (typeof (v as t.Node).type === 'string' && visit(v as t.Node)) eachBelow(v as t.Node, visit);
  }
}

function children(node: t.Node): t.Node[] {
  const out: t.Node[] = [];
  for (const k of t.VISITOR_KEYS[node.type] ?? []) {
    const v = (node as unknown as Record<string, unknown>)[k];
    if (Array.isArray(v)) {
      for (const x of v) if (x && typeof (x as t.Node).type === 'string') out.push(x as t.Node);
    } else if (v && typeof (v as t.Node).type === 'string') out.push(v as t.Node);
  }
  return out;
}

function emitLiveness(ast: t.File, file: FileState): void {
  const metas = new Map<string, t.ObjectExpression>();
  for (const stmt of file.metas) {
    const d = (stmt as t.VariableDeclaration).declarations?.[0];
    if (d && t.isIdentifier(d.id) && t.isObjectExpression(d.init)) metas.set(d.id.name, d.init);
  }
  if (metas.size === 0) return;
  // compiled functions: the record literal { f, pc: $pc, up, m: $meta, ... } names both
  const shapes: FnShape[] = [];
  const seen = new Set<t.ObjectExpression>();
  const dispatches = new Map<t.Node, FnShape['dispatch']>();
  const visit = (fn: t.Node) => (node: t.Node): boolean => {
    const type = node.type;
    if (type === 'FunctionDeclaration' || type === 'FunctionExpression' || type === 'ArrowFunctionExpression' || type === 'ObjectMethod' || type === 'ClassMethod' || type === 'ClassPrivateMethod') {
      eachBelow(node, visit(node));
      return false;
    }
    if (type === 'TryStatement') {
      const tr = node as t.TryStatement;
      if (tr.handler) {
        for (const st of tr.block.body) {
          if (st.type !== 'SwitchStatement' || st.discriminant.type !== 'Identifier') continue;
          let d = dispatches.get(fn);
          if (d === undefined) dispatches.set(fn, (d = new Map()));
          const list = d.get(st.discriminant.name) ?? [];
          list.push({ sw: st, handler: tr.handler.body });
          d.set(st.discriminant.name, list);
        }
      }
    } else if (type === 'ObjectExpression') {
      const o = node as t.ObjectExpression;
      let pc: t.Node | undefined;
      let m: t.Node | undefined;
      let up = false;
      let th = false;
      for (const p of o.properties) {
        if (p.type !== 'ObjectProperty' || p.computed || p.key.type !== 'Identifier') continue;
        if (p.key.name === 'pc') pc = p.value;
        else if (p.key.name === 'm') m = p.value;
        else if (p.key.name === 'up') up = true;
        else if (p.key.name === 'th') th = true;
      }
      if (up && pc?.type === 'Identifier' && m?.type === 'Identifier' && metas.has(m.name)) {
        const meta = metas.get(m.name)!;
        if (!seen.has(meta)) {
          seen.add(meta);
          shapes.push({ pcVar: pc.name, meta, fn, dispatch: new Map() });
          // whether its records save `this` (restore then checks a frame's slot count exactly)
          meta.properties.push(t.objectProperty(t.identifier('th'), t.numericLiteral(th ? 1 : 0)));
        }
      }
    }
    return true;
  };
  eachBelow(ast.program, visit(ast.program));
  for (const s of shapes) {
    s.dispatch = dispatches.get(s.fn) ?? new Map();
    try {
      const live = functionLiveness(s);
      if (live !== null) s.meta.properties.push(t.objectProperty(t.identifier('live'), live));
    } catch (e) {
      if (!(e instanceof Unknown)) throw e;
    }
  }
}

function metaArray(meta: t.ObjectExpression, key: string): t.ArrayExpression | null {
  const p = meta.properties.find((q): q is t.ObjectProperty => t.isObjectProperty(q) && t.isIdentifier(q.key, { name: key }));
  return p && t.isArrayExpression(p.value) ? p.value : null;
}

function functionLiveness({ pcVar, meta, dispatch }: FnShape): t.ObjectExpression | null {
  const localsNode = metaArray(meta, 'locals');
  const pcsNode = metaArray(meta, 'pcs');
  if (localsNode === null || pcsNode === null) return null;
  const slot = new Map<string, number>();
  localsNode.elements.forEach((e, i) => {
    if (t.isArrayExpression(e) && t.isStringLiteral(e.elements[0]) && TEMP.test(e.elements[0].value)) slot.set(e.elements[0].value, i);
  });
  const pcs: number[] = [];
  for (let i = 0; i < pcsNode.elements.length; i += 3) {
    const e = pcsNode.elements[i];
    if (!t.isNumericLiteral(e)) return null;
    pcs.push(e.value);
  }
  if (pcs.length === 0) return null;
  // the dispatch: one `switch ($pc)` directly in the block of a try with a catch clause
  const found = dispatch.get(pcVar);
  if (found === undefined || found.length !== 1) return null;
  const sw: t.SwitchStatement = found[0].sw;
  const handler: t.BlockStatement = found[0].handler;
  const cases = (sw as t.SwitchStatement).cases;
  const index = new Map<number, number>();
  cases.forEach((c, i) => {
    if (!t.isNumericLiteral(c.test)) throw new Unknown();
    index.set(c.test.value, i);
  });
  for (const pc of pcs) if (!index.has(pc)) return null;
  // inside the dispatch, $pc is only ever set to a constant (-X while a call is in progress)
  eachBelow(sw, (node) => {
    if (node.type === 'AssignmentExpression' && node.left.type === 'Identifier' && node.left.name === pcVar) {
      const r = node.right;
      if (node.operator !== '=' || !(t.isNumericLiteral(r) || (t.isUnaryExpression(r, { operator: '-' }) && t.isNumericLiteral(r.argument)))) throw new Unknown();
    }
    if (node.type === 'UpdateExpression' && node.argument.type === 'Identifier' && node.argument.name === pcVar) throw new Unknown();
    return !t.isFunction(node);
  });
  const last = cases[cases.length - 1].consequent;
  const end = last[last.length - 1];
  if (end === undefined || !(t.isReturnStatement(end) || t.isThrowStatement(end) || t.isContinueStatement(end))) return null;

  const isPcAssign = (n: t.Node): n is t.ExpressionStatement =>
    t.isExpressionStatement(n) && t.isAssignmentExpression(n.expression, { operator: '=' }) && t.isIdentifier(n.expression.left, { name: pcVar });
  const pcLiteral = (n: t.ExpressionStatement): number | null => {
    const r = (n.expression as t.AssignmentExpression).right;
    return t.isNumericLiteral(r) ? r.value : t.isUnaryExpression(r, { operator: '-' }) && t.isNumericLiteral(r.argument) ? -r.argument.value : null;
  };
  // the temporaries a subtree mentions, computed once per node (the fixed point revisits them)
  const readCache = new Map<t.Node, number[]>();
  const collect = (node: t.Node, into: Set<number>): void => {
    const add = (n: t.Node): void => {
      if (n.type === 'Identifier') {
        const i = slot.get(n.name);
        if (i !== undefined) into.add(i);
      }
    };
    add(node);
    eachBelow(node, (n) => {
      add(n);
      // a non-computed property name is no read (its value is visited by eachBelow below)
      if (n.type === 'MemberExpression' && !n.computed) {
        eachBelow(n.object, (x) => (add(x), true));
        add(n.object);
        return false;
      }
      return true;
    });
  };
  const reads = (node: t.Node, into: Set<number>): void => {
    let r = readCache.get(node);
    if (r === undefined) {
      const found = new Set<number>();
      collect(node, found);
      readCache.set(node, (r = [...found]));
    }
    for (const i of r) into.add(i);
  };
  const liveIn: Array<Set<number>> = cases.map(() => new Set());
  const target = (pc: number | null): Set<number> => {
    const i = pc === null ? undefined : index.get(pc);
    if (i === undefined) throw new Unknown();
    return liveIn[i];
  };
  // the catch: its reads, and every case it can route to, are live wherever something may throw
  let handlerTargets: number[] | null = null;
  const catchLive = (): Set<number> => {
    const out = new Set<number>();
    const scan = (node: t.Node): void => {
      if (isPcAssign(node)) {
        const r = (node.expression as t.AssignmentExpression).right;
        const neg = (e: t.Node) => t.isUnaryExpression(e, { operator: '-' }) && t.isIdentifier(e.argument, { name: pcVar });
        if (t.isNumericLiteral(r)) {
          target(r.value); // known case, or Unknown
          (handlerTargets as number[]).push(r.value);
        }
        // -$pc, -$pc - 1: the pc of a call in progress made positive (a resume point), not a jump
        else if (!neg(r) && !(t.isBinaryExpression(r, { operator: '-' }) && neg(r.left) && t.isNumericLiteral(r.right, { value: 1 }))) throw new Unknown();
      }
      for (const c of children(node)) scan(c);
    };
    reads(handler as t.BlockStatement, out);
    if (handlerTargets === null) {
      handlerTargets = [];
      scan(handler as t.BlockStatement);
    }
    for (const pc of handlerTargets) for (const x of target(pc)) out.add(x);
    return out;
  };
  const union = (a: Set<number>, b: Iterable<number>): Set<number> => {
    const out = new Set(a);
    for (const x of b) out.add(x);
    return out;
  };
  const hasJump = (node: t.Node): boolean => {
    if ((t.isContinueStatement(node) || t.isBreakStatement(node)) && node.label) return true;
    if (isPcAssign(node)) return true;
    if (t.isFunction(node)) return false;
    return children(node).some(hasJump);
  };

  let thrown = new Set<number>();
  const checked = new Set<t.Node>();
  // live before `list`, given live after it and the last `$pc = X` before it
  const listLive = (list: t.Statement[], after: Set<number>, pcBefore: number | null): Set<number> => {
    const pcAt: Array<number | null> = [];
    let pc = pcBefore;
    for (const s of list) {
      pcAt.push(pc);
      if (isPcAssign(s)) pc = pcLiteral(s);
    }
    let live = after;
    for (let j = list.length - 1; j >= 0; j--) live = stmtLive(list[j], live, pcAt[j]);
    return live;
  };
  const stmtLive = (s: t.Statement, after: Set<number>, pcBefore: number | null): Set<number> => {
    if (t.isExpressionStatement(s)) {
      const e = s.expression;
      if (isPcAssign(s)) return after;
      const out = new Set(after);
      if (t.isAssignmentExpression(e, { operator: '=' }) && t.isIdentifier(e.left) && slot.has(e.left.name)) {
        out.delete(slot.get(e.left.name)!);
        reads(e.right, out);
      } else reads(e, out);
      return union(out, thrown);
    }
    if (t.isContinueStatement(s)) {
      if (s.label === null || s.label === undefined) throw new Unknown();
      return union(target(pcBefore), []);
    }
    if (t.isBreakStatement(s)) {
      if (s.label === null || s.label === undefined) throw new Unknown();
      return union(target(pcBefore), []); // a suspension: resumed where $pc points
    }
    if (t.isReturnStatement(s) || t.isThrowStatement(s)) {
      const out = new Set<number>();
      if (s.argument) reads(s.argument, out);
      return union(out, thrown);
    }
    if (t.isBlockStatement(s)) return listLive(s.body, after, pcBefore);
    if (t.isIfStatement(s)) {
      const out = new Set<number>();
      reads(s.test, out);
      const a = stmtLive(s.consequent, after, pcBefore);
      const b = s.alternate ? stmtLive(s.alternate, after, pcBefore) : after;
      return union(union(union(out, a), b), thrown);
    }
    if (t.isEmptyStatement(s)) return after;
    // anything else (user code without call sites, try/catch, loops): no kills, no jumps out
    if (!checked.has(s) && hasJump(s)) {
      // labelled jumps that stay inside it are fine; the compiler's own labels are not
      const own = new Set<string>();
      const labels = (n: t.Node): void => {
        if (t.isLabeledStatement(n)) own.add(n.label.name);
        if (!t.isFunction(n)) for (const c of children(n)) labels(c);
      };
      labels(s);
      const check = (n: t.Node): void => {
        if ((t.isContinueStatement(n) || t.isBreakStatement(n)) && n.label && !own.has(n.label.name)) throw new Unknown();
        if (isPcAssign(n)) throw new Unknown();
        if (!t.isFunction(n)) for (const c of children(n)) check(c);
      };
      check(s);
    }
    checked.add(s);
    const out = new Set(after);
    reads(s, out);
    return union(out, thrown);
  };

  for (let round = 0; ; round++) {
    if (round > 200) throw new Unknown();
    thrown = catchLive();
    let changed = false;
    for (let i = cases.length - 1; i >= 0; i--) {
      const after = i + 1 < cases.length ? liveIn[i + 1] : new Set<number>();
      // entered by fall-through, a jump or a resume: $pc is not known until the case sets it
      const now = listLive(cases[i].consequent, after, null);
      if (now.size !== liveIn[i].size || [...now].some((x) => !liveIn[i].has(x))) {
        liveIn[i] = union(liveIn[i], now);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return t.objectExpression(
    pcs.map((pc) => t.objectProperty(t.numericLiteral(pc), t.arrayExpression([...liveIn[index.get(pc)!]].sort((a, b) => a - b).map((x) => t.numericLiteral(x))))),
  );
}
