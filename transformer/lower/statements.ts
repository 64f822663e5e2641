/**
 * Lowers statements into states. A statement without call sites is emitted as
 * it is (only its `break`/`continue`/`return` that leave it are redirected);
 * one with call sites is exploded: its control flow becomes jumps between
 * states, so execution can resume at any call site inside it.
 */
import * as t from '@babel/types';
import type { FunctionContext, TryRegion } from './context.js';
import type { Label } from './emitter.js';
import { explode, toTemp } from './expressions.js';
import { destructure } from './patterns.js';
import { lowerTry, jumpThroughFinally, returnThroughFinally } from './tries.js';
import { lowerForOf, lowerForIn } from './iteration.js';
import { emitCallSite } from './callsite.js';

export function lowerStatements(ctx: FunctionContext, stmts: t.Statement[]): void {
  for (const s of stmts) lowerStatement(ctx, s);
}

export function lowerStatement(ctx: FunctionContext, node: t.Statement, labels: string[] = []): void {
  const em = ctx.em;
  if (node.loc) ctx.currentLoc = node.loc;
  if (!ctx.cs.contains(node)) {
    em.emit(redirectLeaps(ctx, node));
    return;
  }
  ctx.withTemps(() => {
    switch (node.type) {
      case 'BlockStatement':
        createBlockEnv(ctx, node);
        lowerStatements(ctx, node.body);
        return;
      case 'ExpressionStatement': {
        const v = explode(ctx, node.expression, true);
        if (!(t.isIdentifier(v) && (v.name === 'undefined' || ctx.temps.includes(v.name)))) em.emit(t.expressionStatement(v));
        return;
      }
      case 'IfStatement': {
        const test = explode(ctx, node.test);
        const elseL = ctx.newLabel('else');
        const end = ctx.newLabel('endif');
        em.emit(t.ifStatement(t.unaryExpression('!', test), t.blockStatement(em.jumpStatements(node.alternate ? elseL : end))));
        lowerStatement(ctx, node.consequent);
        if (node.alternate) {
          em.jump(end);
          em.mark(elseL);
          lowerStatement(ctx, node.alternate);
        }
        em.mark(end);
        return;
      }
      case 'ReturnStatement': {
        const v = node.argument ? explode(ctx, node.argument) : t.identifier('undefined');
        returnThroughFinally(ctx, v).forEach((s) => em.emit(s));
        return;
      }
      case 'ThrowStatement':
        em.emit(t.throwStatement(explode(ctx, node.argument)));
        return;
      case 'LabeledStatement': {
        const after = ctx.newLabel(`label ${node.label.name}`);
        ctx.leaps.push({ kind: 'labeled', breakLabel: after, label: node.label.name });
        lowerStatement(ctx, node.body, [...labels, node.label.name]);
        ctx.leaps.pop();
        em.mark(after);
        return;
      }
      case 'WhileStatement':
        if (ctx.options.ticks && ctx.cs.isLeafLoop(node)) return lowerLeafLoop(ctx, node, labels);
        return lowerLoop(ctx, labels, null, node.test, null, node.body, false, node);
      case 'DoWhileStatement':
        if (ctx.options.ticks && ctx.cs.isLeafLoop(node)) return lowerLeafLoop(ctx, node, labels);
        return lowerLoop(ctx, labels, null, node.test, null, node.body, true, node);
      case 'ForStatement':
        if (ctx.options.ticks && ctx.cs.isLeafLoop(node)) return lowerLeafLoop(ctx, node, labels);
        return lowerLoop(ctx, labels, node.init, node.test, node.update, node.body, false, node);
      case 'ForOfStatement':
        return lowerForOf(ctx, node, labels);
      case 'ForInStatement':
        return lowerForIn(ctx, node, labels);
      case 'SwitchStatement':
        return lowerSwitch(ctx, node);
      case 'TryStatement':
        return lowerTry(ctx, node);
      default:
        throw new Error(`internal: cannot lower a ${node.type} that contains a call site`);
    }
  });
}

/** A block whose captured `let`s are per-iteration gets a fresh environment on entry. */
export function createBlockEnv(ctx: FunctionContext, block: t.Node): void {
  const env = ctx.layout.blockEnvs.get(block);
  if (env) {
    ctx.em.emit(
      t.expressionStatement(
        t.assignmentExpression(
          '=',
          t.identifier(env.name),
          t.objectExpression(env.fields.map((f) => t.objectProperty(t.identifier(f), t.identifier('undefined')))),
        ),
      ),
    );
  }
  // entering the block starts the temporal dead zone of its let/const bindings again
  for (const target of ctx.layout.tdz.get(block) ?? []) {
    ctx.em.emit(t.expressionStatement(t.assignmentExpression('=', t.cloneNode(target), t.identifier(ctx.tdzSentinel!))));
  }
}


function lowerLoop(
  ctx: FunctionContext,
  labels: string[],
  init: t.VariableDeclaration | t.Expression | null | undefined,
  test: t.Expression | null | undefined,
  update: t.Expression | null | undefined,
  body: t.Statement,
  testAfter: boolean,
  loop: t.Node,
): void {
  const em = ctx.em;
  const head = ctx.newLabel('loop');
  const next = ctx.newLabel('continue');
  const after = ctx.newLabel('break');
  const env = ctx.layout.blockEnvs.get(loop);
  createBlockEnv(ctx, loop);
  if (init) {
    if (t.isVariableDeclaration(init)) lowerStatement(ctx, init);
    else {
      const v = explode(ctx, init, true);
      if (!t.isIdentifier(v)) em.emit(t.expressionStatement(v));
    }
  }
  em.mark(head);
  if (test && !testAfter) {
    const v = explode(ctx, test);
    em.emit(t.ifStatement(t.unaryExpression('!', v), t.blockStatement(em.jumpStatements(after))));
  }
  ctx.leaps.push({ kind: 'loop', breakLabel: after, continueLabel: next, labels });
  lowerStatement(ctx, body);
  ctx.leaps.pop();
  em.mark(next);
  if (env) {
    // the next iteration gets its own copy of the loop's `let` bindings
    const copy = t.objectExpression(
      env.fields.map((f) => t.objectProperty(t.identifier(f), t.memberExpression(t.identifier(env.name), t.identifier(f)))),
    );
    em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(env.name), copy)));
  }
  if (update) {
    const v = explode(ctx, update, true);
    if (!t.isIdentifier(v)) em.emit(t.expressionStatement(v));
  }
  if (test && testAfter) {
    const v = explode(ctx, test);
    em.emit(t.ifStatement(t.unaryExpression('!', v), t.blockStatement(em.jumpStatements(after))));
  }
  backEdge(ctx, head);
  em.mark(after);
}

/** Jump back to a loop head, counting one preemption tick on the way. */
export function backEdge(ctx: FunctionContext, head: Label): void {
  const em = ctx.em;
  if (ctx.options.ticks) {
    const ticks = ctx.rtMember('ticks');
    em.emit(t.ifStatement(t.binaryExpression('>=', t.updateExpression('--', ticks, true), t.numericLiteral(0)), t.blockStatement(em.jumpStatements(head))));
    emitTick(ctx);
  }
  em.jump(head);
}

function emitTick(ctx: FunctionContext): void {
  const tick = ctx.rtMember('tick');
  emitCallSite(ctx, { token: t.cloneNode(tick), call: t.callExpression(tick, []) }, false);
}

/**
 * A loop without calls or nested loops stays native. Its body starts with a
 * tick check; when the budget runs out it leaves to a state that makes the
 * tick call (which may switch tasklets) and comes back into the loop with
 * `$skip` set, so the iteration that was about to run runs without its test
 * being evaluated a second time.
 */
function lowerLeafLoop(ctx: FunctionContext, node: t.WhileStatement | t.DoWhileStatement | t.ForStatement, labels: string[]): void {
  const em = ctx.em;
  const skip = ctx.skipVar();
  const reenter = ctx.newLabel('leafLoop');
  const tickState = ctx.newLabel('tick');
  const after = ctx.newLabel('leafLoopEnd');
  if (t.isForStatement(node) && node.init) {
    em.emit(t.isVariableDeclaration(node.init) ? node.init : t.expressionStatement(node.init));
  }
  // the budget is counted in a local: V8 keeps it in a register, where a shared
  // field would be loaded and stored on every iteration (3x on a sieve)
  const budget = ctx.budgetVar();
  em.mark(reenter);
  em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(budget), ctx.rtMember('ticks'))));
  const check = t.ifStatement(
    t.binaryExpression('<', t.updateExpression('--', t.identifier(budget), true), t.numericLiteral(0)),
    t.blockStatement([
      t.expressionStatement(t.assignmentExpression('=', t.identifier(skip), t.booleanLiteral(true))),
      t.expressionStatement(t.assignmentExpression('=', ctx.rtMember('ticks'), t.identifier(budget))),
      ...em.jumpStatements(tickState),
    ]),
  );
  const clear = t.expressionStatement(t.assignmentExpression('=', t.identifier(skip), t.booleanLiteral(false)));
  const body = (b: t.Statement, withClear: boolean) => t.blockStatement([...(withClear ? [clear] : []), check, ...(t.isBlockStatement(b) ? countInnerLoops(b, budget).body : [countInnerLoops(b, budget)])]);
  const test = (e: t.Expression | null | undefined) => (e ? t.logicalExpression('||', t.identifier(skip), e) : null);
  let loop: t.Statement;
  if (t.isWhileStatement(node)) loop = t.whileStatement(test(node.test)!, body(node.body, true));
  else if (t.isDoWhileStatement(node)) loop = t.doWhileStatement(node.test, body(node.body, false));
  else loop = t.forStatement(null, node.test ? test(node.test) : null, node.update, body(node.body, node.test != null));
  loop.loc = node.loc;
  for (const l of [...labels].reverse()) loop = t.labeledStatement(t.identifier(l), loop);
  em.emit(redirectLeaps(ctx, loop));
  // what the loop used of the budget (a return or throw out of it keeps the rest: ticks are a measure, not a bill)
  em.emit(t.expressionStatement(t.assignmentExpression('=', ctx.rtMember('ticks'), t.identifier(budget))));
  em.jump(after);
  em.mark(tickState);
  emitTick(ctx);
  em.jump(reenter);
  em.mark(after);
}

function lowerSwitch(ctx: FunctionContext, node: t.SwitchStatement): void {
  const em = ctx.em;
  const d = toTemp(ctx, explode(ctx, node.discriminant));
  createBlockEnv(ctx, node);
  const after = ctx.newLabel('endswitch');
  const caseLabels = node.cases.map(() => ctx.newLabel('case'));
  let defaultLabel: Label | null = null;
  node.cases.forEach((c, i) => {
    if (!c.test) {
      defaultLabel = caseLabels[i]!;
      return;
    }
    const v = explode(ctx, c.test);
    em.emit(t.ifStatement(t.binaryExpression('===', t.cloneNode(d), v), t.blockStatement(em.jumpStatements(caseLabels[i]!))));
  });
  em.jump(defaultLabel ?? after);
  ctx.leaps.push({ kind: 'switch', breakLabel: after });
  node.cases.forEach((c, i) => {
    em.mark(caseLabels[i]!);
    lowerStatements(ctx, c.consequent);
  });
  ctx.leaps.pop();
  em.mark(after);
}

/** Inner loops of a leaf nest spend the budget too; the outer loop's check acts on it. */
function countInnerLoops<T extends t.Statement>(stmt: T, budget: string): T {
  const visit = (n: t.Node): void => {
    if (t.isFunction(n) || t.isClass(n)) return;
    if (t.isLoop(n)) {
      const spend = t.expressionStatement(t.updateExpression('--', t.identifier(budget), true));
      n.body = t.isBlockStatement(n.body) ? t.blockStatement([spend, ...n.body.body]) : t.blockStatement([spend, n.body]);
    }
    for (const key of t.VISITOR_KEYS[n.type] ?? []) {
      const child = (n as any)[key];
      if (Array.isArray(child)) child.forEach((c) => c && typeof c.type === 'string' && visit(c));
      else if (child && typeof child.type === 'string') visit(child);
    }
  };
  visit(stmt);
  return stmt;
}

/** Assign an iteration value to a for-in/for-of target (identifier, member or pattern). */
export function assignTarget(ctx: FunctionContext, target: t.LVal, value: t.Identifier): void {
  if ((t.isObjectPattern(target) || t.isArrayPattern(target) || t.isAssignmentPattern(target)) && ctx.cs.contains(target)) destructure(ctx, target, value);
  else ctx.em.emit(t.expressionStatement(t.assignmentExpression('=', target, value)));
}

/**
 * Statements without call sites run as they are, but a `break`/`continue`
 * that leaves them targets a state now, and a `return` inside a lowered
 * `try` must run its `finally` first.
 */
export function redirectLeaps(ctx: FunctionContext, stmt: t.Statement): t.Statement {
  const nativeLoops: string[][] = [];
  let nativeBreakables = 0;
  let nativeLoopDepth = 0;
  const nativeLabels: string[] = [];
  const walk = (node: t.Node): t.Node => {
    if (t.isFunction(node) || t.isClass(node)) return node;
    if (t.isBreakStatement(node)) {
      if (node.label ? nativeLabels.includes(node.label.name) : nativeBreakables > 0) return node;
      return t.blockStatement(jumpThroughFinally(ctx, 'break', node.label?.name ?? null));
    }
    if (t.isContinueStatement(node)) {
      if (node.label && node.label.name === ctx.names.loop) return node;
      if (node.label ? nativeLoops.some((ls) => ls.includes(node.label!.name)) : nativeLoopDepth > 0) return node;
      return t.blockStatement(jumpThroughFinally(ctx, 'continue', node.label?.name ?? null));
    }
    if (t.isReturnStatement(node)) {
      if (ctx.innermostFinally() === null) return node;
      return t.blockStatement(returnThroughFinally(ctx, node.argument ?? t.identifier('undefined')));
    }
    const isLoopNode = t.isLoop(node);
    const isBreakable = isLoopNode || t.isSwitchStatement(node);
    let labelsHere: string[] = [];
    if (t.isLabeledStatement(node)) {
      nativeLabels.push(node.label.name);
      let inner: t.Node = node.body;
      labelsHere = [node.label.name];
      while (t.isLabeledStatement(inner)) {
        labelsHere.push(inner.label.name);
        inner = inner.body;
      }
    }
    if (isLoopNode) {
      nativeLoops.push(pendingLabels.splice(0));
      nativeLoopDepth++;
    }
    if (isBreakable) nativeBreakables++;
    if (t.isLabeledStatement(node)) pendingLabels.push(node.label.name);
    for (const key of t.VISITOR_KEYS[node.type] ?? []) {
      const child = (node as any)[key];
      if (Array.isArray(child)) child.forEach((c, i) => c && typeof c.type === 'string' && (child[i] = walk(c)));
      else if (child && typeof child.type === 'string') (node as any)[key] = walk(child);
    }
    if (t.isLabeledStatement(node)) nativeLabels.pop();
    if (isLoopNode) {
      nativeLoops.pop();
      nativeLoopDepth--;
    }
    if (isBreakable) nativeBreakables--;
    void labelsHere;
    return node;
  };
  const pendingLabels: string[] = [];
  return walk(stmt) as t.Statement;
}

export type { TryRegion };
