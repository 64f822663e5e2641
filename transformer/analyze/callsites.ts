/**
 * Which expressions are suspension points ("call sites"), and which subtrees
 * contain one. Inside a tasklet function any explicit call may block, except
 * calls to a short list of global built-ins that never call back into user code
 * (so loops around them can stay native and fast).
 */
import * as t from '../ast.js';

/** Globals whose methods never call user code that could block. */
const PURE_GLOBAL_OBJECTS = new Set(['Math', 'JSON', 'Number', 'String', 'Symbol', 'BigInt', 'Date']);
const PURE_GLOBAL_FUNCTIONS = new Set([
  'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURIComponent', 'decodeURIComponent',
  'encodeURI', 'decodeURI', 'String', 'Number', 'Boolean', 'BigInt', 'Symbol',
]);
const PURE_OBJECT_METHODS = new Set([
  'keys', 'values', 'entries', 'assign', 'freeze', 'isFrozen', 'create', 'getPrototypeOf',
  'setPrototypeOf', 'defineProperty', 'getOwnPropertyNames', 'getOwnPropertyDescriptor', 'is', 'fromEntries',
]);

export interface CallSiteOracle {
  /** true when `name` refers to a global (not shadowed by any local binding) at `node`'s position */
  isGlobal(name: string): boolean;
}

/** A call that compiled code must treat as a possible suspension. */
export function isCallSite(node: t.Node, oracle: CallSiteOracle): boolean {
  if (t.isTaggedTemplateExpression(node)) return true;
  if (!t.isCallExpression(node) && !t.isOptionalCallExpression(node)) return false;
  if ((node as any)._stacklessInternal) return false;
  const callee = node.callee;
  if (t.isSuper(callee) || t.isImport(callee) || t.isV8IntrinsicIdentifier(callee)) return false;
  if (t.isIdentifier(callee) && PURE_GLOBAL_FUNCTIONS.has(callee.name) && oracle.isGlobal(callee.name)) return false;
  if (t.isMemberExpression(callee) && t.isIdentifier(callee.object) && !callee.computed && t.isIdentifier(callee.property)) {
    const obj = callee.object.name;
    const prop = callee.property.name;
    if (PURE_GLOBAL_OBJECTS.has(obj) && oracle.isGlobal(obj)) return false;
    if (obj === 'Object' && PURE_OBJECT_METHODS.has(prop) && oracle.isGlobal(obj)) return false;
    if (obj === 'Array' && prop === 'isArray' && oracle.isGlobal(obj)) return false;
  }
  return true;
}

/**
 * Answers "does evaluating this node (not counting nested function bodies) pass
 * a call site?". Memoised; make a new one after rewriting a tree.
 */
export class CallSites {
  private cache = new WeakMap<t.Node, boolean>();
  /**
   * With `ticks`, every loop is a suspension point too: its back-edge counts
   * preemption ticks and may switch, so the statements around it are lowered.
   * `forced`: blocks treated as if they held a call site (see `force`).
   */
  constructor(readonly oracle: CallSiteOracle, readonly ticks = false, readonly forced = new WeakSet<t.Node>()) {}

  /**
   * Treat `block` as if it held a call site: a block whose bindings a closure captures is
   * laid out and lowered like one, so those bindings get environment objects (per
   * iteration inside loops) that a closure factory can be given.
   */
  force(block: t.Node): void {
    this.forced.add(block);
    this.cache = new WeakMap();
  }

  /**
   * A loop nest that can stay native (lower/loops.ts lowerNativeNest): no call site,
   * closure or declaration inside, inner loops are while/do-while/for only, and the
   * way down to each inner loop passes only through blocks, `if`s, labels and loops,
   * which the nest knows how to re-enter after a tick.
   */
  isNativeNest(node: t.Node): boolean {
    if (!isPlainLoop(node) || this.forced.has(node)) return false;
    let ok = true;
    const visit = (n: t.Node, top: boolean, onWay: boolean): void => {
      if (!ok) return;
      if (!top && (t.isFunction(n) || t.isClass(n) || t.isDeclaration(n) || isCallSite(n, this.oracle) || this.forced.has(n))) {
        ok = false;
        return;
      }
      if (!top && t.isLoop(n) && (!isPlainLoop(n) || !onWay || (t.isForStatement(n) && n.init && !t.isExpression(n.init)))) {
        ok = false;
        return;
      }
      // inner loops may only sit under statements the nest can re-enter
      const way = onWay && (t.isBlockStatement(n) || t.isIfStatement(n) || t.isLabeledStatement(n) || isPlainLoop(n));
      for (const key of t.VISITOR_KEYS[n.type] ?? []) {
        const child = (n as any)[key];
        if (Array.isArray(child)) child.forEach((c) => c && typeof c.type === 'string' && visit(c, false, way));
        else if (child && typeof child.type === 'string') visit(child, false, way);
      }
    };
    visit(node, true, true);
    return ok;
  }

  isCallSite(node: t.Node): boolean {
    return isCallSite(node, this.oracle);
  }

  contains(node: t.Node | null | undefined): boolean {
    if (node == null) return false;
    const hit = this.cache.get(node);
    if (hit !== undefined) return hit;
    let result = false;
    if (isCallSite(node, this.oracle) || this.forced.has(node)) result = true;
    else if (t.isFunction(node) || t.isClass(node)) result = false;
    else if (this.ticks && (t.isWhileStatement(node) || t.isDoWhileStatement(node) || t.isForStatement(node))) result = true;
    else {
      outer: for (const key of t.VISITOR_KEYS[node.type] ?? []) {
        const child = (node as any)[key];
        if (Array.isArray(child)) {
          for (const c of child) if (c && typeof c.type === 'string' && this.contains(c)) { result = true; break outer; }
        } else if (child && typeof child.type === 'string' && this.contains(child)) { result = true; break; }
      }
    }
    this.cache.set(node, result);
    return result;
  }

  /** Forget a node whose children were rewritten in place. */
  forget(node: t.Node): void {
    this.cache.delete(node);
  }
}

function isPlainLoop(n: t.Node): n is t.WhileStatement | t.DoWhileStatement | t.ForStatement {
  return t.isWhileStatement(n) || t.isDoWhileStatement(n) || t.isForStatement(n);
}
