/**
 * Loops. A loop with call sites becomes states joined by jumps; its back-edge
 * counts one preemption tick. A loop nest without calls or closures stays a
 * native loop and counts ticks in a local budget (see lowerLeafLoop).
 */
import * as t from '@babel/types';
import type { FunctionContext } from './context.js';
import type { Label } from './emitter.js';
import { explode } from './expressions.js';
import { emitCallSite } from './callsite.js';
import { lowerStatement, createBlockEnv, redirectLeaps } from './statements.js';

export function lowerLoop(
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
export function lowerLeafLoop(ctx: FunctionContext, node: t.WhileStatement | t.DoWhileStatement | t.ForStatement, labels: string[]): void {
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

