/**
 * Liveness of compiler temporaries at resume points (runtime/snapshot/NEEDS.md §3): for each
 * resume point, which temporaries (`$t…`) may still be read after resuming there. A snapshot
 * saves the others as undefined (they may hold things it cannot save, such as a native method
 * read before a call).
 *
 * Computed per function right after it is assembled, on its own dispatch (the `switch ($pc)`
 * and the `catch` block of `$loop: for (;;) try { ... } catch { ... }`), read backwards case by
 * case to a fixed point: a plain `$tN = e;` at the top of a case's statement list kills `$tN`;
 * any other mention of a temporary counts as a read; `$pc = X; continue $loop` and a labelled
 * `break` (resumed at the last `$pc = X`) are edges to case X; anything in the try may throw
 * into the catch, whose reads and `$pc = X` targets are live everywhere. A call site's own
 * suspension is written as text (`$pc = N; if (rt.u !== 0) break $save`, lower/callsite.ts) and
 * reads no temporary; its edge goes to the value entry N, the case that follows it anyway.
 * Whatever it does not recognise (another jump shape, a computed `$pc`) gives no answer, and
 * the function's metadata then has no `live`: snapshots keep every temporary (unknown never
 * means dead).
 *
 * Sets of temporaries are bit masks over the temporaries' order (a function has at most a few
 * dozen: temporaries are reused from statement to statement).
 */
import * as t from '../ast.js';

class Unknown extends Error {}

/** Above this many temporaries a function gets no liveness (every temporary is kept). */
const MAX_TEMPS = 31;

export interface Dispatch {
  pcVar: string;
  sw: t.SwitchStatement;
  handler: t.BlockStatement;
}

/**
 * `temps`: the temporaries, each with its slot (index into the metadata's `locals`).
 * Returns resume point -> slots live there (ascending), for every `pcs` entry, or null.
 */
export function temporaryLiveness(dispatch: Dispatch, temps: Array<{ name: string; slot: number }>, pcs: number[]): Map<number, number[]> | null {
  if (temps.length > MAX_TEMPS || pcs.length === 0) return null;
  try {
    return analyse(dispatch, temps, pcs);
  } catch (e) {
    if (e instanceof Unknown) return null;
    throw e;
  }
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

function isFunctionType(type: string): boolean {
  return type === 'FunctionDeclaration' || type === 'FunctionExpression' || type === 'ArrowFunctionExpression' || type === 'ObjectMethod' || type === 'ClassMethod' || type === 'ClassPrivateMethod';
}

function analyse({ pcVar, sw, handler }: Dispatch, temps: Array<{ name: string; slot: number }>, pcs: number[]): Map<number, number[]> {
  const bit = new Map<string, number>();
  temps.forEach((tmp, i) => bit.set(tmp.name, 1 << i));
  const cases = sw.cases;
  const index = new Map<number, number>();
  for (let i = 0; i < cases.length; i++) {
    const test = cases[i].test;
    if (test === null || test === undefined || test.type !== 'NumericLiteral') throw new Unknown();
    index.set(test.value, i);
  }
  for (const pc of pcs) if (!index.has(pc)) throw new Unknown();

  const pcLiteral = (r: t.Node): number | null =>
    r.type === 'NumericLiteral' ? r.value : r.type === 'UnaryExpression' && r.operator === '-' && r.argument.type === 'NumericLiteral' ? -r.argument.value : null;
  // Inside the dispatch, $pc is only ever set to a constant (-X while a call is in progress),
  // by a statement of its own: `pcAt` checks those, `reads` finds any other write.
  const last = cases[cases.length - 1].consequent;
  const end = last[last.length - 1];
  if (end === undefined || !(end.type === 'ReturnStatement' || end.type === 'ThrowStatement' || end.type === 'ContinueStatement')) throw new Unknown();

  const pcValue = (r: t.Expression): number => {
    const pc = pcLiteral(r);
    if (pc === null) throw new Unknown();
    return pc;
  };
  const pcAssigned = (n: t.Node): t.Expression | null =>
    n.type === 'ExpressionStatement' &&
    n.expression.type === 'AssignmentExpression' &&
    n.expression.operator === '=' &&
    n.expression.left.type === 'Identifier' &&
    n.expression.left.name === pcVar
      ? n.expression.right
      : null;

  // the temporaries a subtree mentions, once per node (the fixed point revisits them)
  const readCache = new Map<t.Node, number>();
  // (`inDispatch`: no $pc write may hide in it; the catch has its own, checked by scanHandler)
  const reads = (node: t.Node, inDispatch = true): number => {
    let mask = readCache.get(node);
    if (mask !== undefined) return mask;
    mask = 0;
    const add = (n: t.Node): void => {
      if (n.type === 'Identifier') mask! |= bit.get(n.name) ?? 0;
      else if (inDispatch && (n.type === 'AssignmentExpression' ? n.left.type === 'Identifier' && n.left.name === pcVar : n.type === 'UpdateExpression' && n.argument.type === 'Identifier' && n.argument.name === pcVar)) throw new Unknown();
    };
    add(node);
    eachBelow(node, (n) => {
      add(n);
      // a non-computed property name is no read
      if (n.type === 'MemberExpression' && !n.computed) {
        add(n.object);
        eachBelow(n.object, (x) => (add(x), true));
        return false;
      }
      return true;
    });
    readCache.set(node, mask);
    return mask;
  };

  const liveIn = new Array<number>(cases.length).fill(0);
  const target = (pc: number | null): number => {
    const i = pc === null ? undefined : index.get(pc);
    if (i === undefined) throw new Unknown();
    return liveIn[i];
  };

  // the catch: its reads, and every case it routes to, are live wherever something may throw
  const handlerReads = reads(handler, false);
  const handlerTargets: number[] = [];
  const negPc = (e: t.Node) => e.type === 'UnaryExpression' && e.operator === '-' && e.argument.type === 'Identifier' && e.argument.name === pcVar;
  const scanHandler = (node: t.Node): void => {
    const r = pcAssigned(node);
    if (r !== null) {
      if (r.type === 'NumericLiteral') {
        target(r.value); // a known case, or Unknown
        handlerTargets.push(r.value);
      }
      // -$pc, -$pc - 1: the pc of a call in progress made positive (a resume point), not a jump
      else if (!negPc(r) && !(r.type === 'BinaryExpression' && r.operator === '-' && negPc(r.left) && r.right.type === 'NumericLiteral' && r.right.value === 1)) throw new Unknown();
    }
    eachBelow(node, (n) => (scanHandler(n), false));
  };
  scanHandler(handler);

  const ownJumps = new Set<t.Node>();
  /** A statement the analysis does not look into may not jump out of itself. */
  const checkNoJumpOut = (s: t.Statement): void => {
    if (ownJumps.has(s)) return;
    const own = new Set<string>();
    let jumps = false;
    const scan = (n: t.Node): boolean => {
      if (n.type === 'LabeledStatement') own.add(n.label.name);
      if ((n.type === 'ContinueStatement' || n.type === 'BreakStatement') && n.label) jumps = true;
      if (pcAssigned(n) !== null) throw new Unknown();
      return !isFunctionType(n.type);
    };
    if (scan(s)) eachBelow(s, scan);
    if (jumps) {
      // labelled jumps that stay inside it are fine; the compiler's own labels are not
      const check = (n: t.Node): boolean => {
        if ((n.type === 'ContinueStatement' || n.type === 'BreakStatement') && n.label && !own.has(n.label.name)) throw new Unknown();
        return !isFunctionType(n.type);
      };
      eachBelow(s, check);
    }
    ownJumps.add(s);
  };

  let thrown = 0;
  // live before `list`, given live after it and the last `$pc = X` before it
  const listLive = (list: t.Statement[], after: number, pcBefore: number | null): number => {
    const pcAt: Array<number | null> = [];
    let pc = pcBefore;
    for (const s of list) {
      pcAt.push(pc);
      const r = pcAssigned(s);
      if (r !== null) pc = pcValue(r);
    }
    let live = after;
    for (let j = list.length - 1; j >= 0; j--) live = stmtLive(list[j], live, pcAt[j]);
    return live;
  };
  const stmtLive = (s: t.Statement, after: number, pcBefore: number | null): number => {
    switch (s.type) {
      case 'ExpressionStatement': {
        const r = pcAssigned(s);
        if (r !== null) {
          pcValue(r);
          return after;
        }
        const e = s.expression;
        if (e.type === 'AssignmentExpression' && e.operator === '=' && e.left.type === 'Identifier' && bit.has(e.left.name)) {
          return ((after & ~bit.get(e.left.name)!) | reads(e.right) | thrown) >>> 0;
        }
        return (after | reads(e) | thrown) >>> 0;
      }
      case 'ContinueStatement':
      case 'BreakStatement': // a break is a suspension: resumed where $pc points
        if (s.label === null || s.label === undefined) throw new Unknown();
        return target(pcBefore);
      case 'ReturnStatement':
      case 'ThrowStatement':
        return ((s.argument ? reads(s.argument) : 0) | thrown) >>> 0;
      case 'BlockStatement':
        return listLive(s.body, after, pcBefore);
      case 'IfStatement': {
        const a = stmtLive(s.consequent, after, pcBefore);
        const b = s.alternate ? stmtLive(s.alternate, after, pcBefore) : after;
        return (reads(s.test) | a | b | thrown) >>> 0;
      }
      case 'EmptyStatement':
        return after;
      default:
        // anything else (user code without call sites, try/catch, loops): no kills, no jumps out
        checkNoJumpOut(s);
        return (after | reads(s) | thrown) >>> 0;
    }
  };

  for (let round = 0; ; round++) {
    if (round > 200) throw new Unknown();
    thrown = handlerReads;
    for (const pc of handlerTargets) thrown |= target(pc);
    thrown >>>= 0;
    let changed = false;
    for (let i = cases.length - 1; i >= 0; i--) {
      const after = i + 1 < cases.length ? liveIn[i + 1] : 0;
      // entered by fall-through, a jump or a resume: $pc is not known until the case sets it
      const now = (listLive(cases[i].consequent, after, null) | liveIn[i]) >>> 0;
      if (now !== liveIn[i]) {
        liveIn[i] = now;
        changed = true;
      }
    }
    if (!changed) break;
  }
  const out = new Map<number, number[]>();
  for (const pc of pcs) {
    const mask = liveIn[index.get(pc)!];
    const slots: number[] = [];
    temps.forEach((tmp, i) => {
      if (mask & (1 << i)) slots.push(tmp.slot);
    });
    out.set(pc, slots.sort((a, b) => a - b));
  }
  return out;
}
