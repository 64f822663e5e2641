/**
 * Loops. A loop with call sites becomes states joined by jumps; its back-edge
 * counts one preemption tick. A loop nest without calls or closures stays native
 * and counts ticks in a local budget (see lowerNativeNest).
 */
import * as t from '../ast.js';
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
 * A loop nest without calls or closures stays native (see CallSites.isNativeNest).
 * Every loop in it spends a local tick budget where its test would run (a do-while:
 * at the top of its body). When the budget runs out the loop stops before its test,
 * with `$re` set to the loop's number, and the nest is left for a state that makes
 * the tick call (which may switch tasklets). Coming back, the nest is entered from
 * the top with `$re` still set: the loops around the stopped one skip their init and
 * test, statements before the way down are skipped, each `if` takes the branch that
 * leads there, and the stopped loop clears `$re` and evaluates its test. Nothing is
 * evaluated twice, and an endless inner loop cannot freeze the scheduler.
 */
export function lowerNativeNest(ctx: FunctionContext, node: t.WhileStatement | t.DoWhileStatement | t.ForStatement, labels: string[]): void {
  const em = ctx.em;
  const re = () => t.identifier(ctx.reentryVar());
  // the budget is counted in a local: V8 keeps it in a register, where a shared
  // field would be loaded and stored on every iteration (3x on a sieve)
  const budget = () => t.identifier(ctx.budgetVar());
  const reenter = ctx.newLabel('nest');
  const tickState = ctx.newLabel('tick');
  const after = ctx.newLabel('nestEnd');
  let top: t.Statement = node;
  if (t.isForStatement(node) && t.isVariableDeclaration(node.init)) {
    em.emit(node.init);
    top = t.forStatement(null, node.test, node.update, node.body);
    top.loc = node.loc;
  }
  for (const l of [...labels].reverse()) top = t.labeledStatement(t.identifier(l), top);
  em.emit(t.expressionStatement(t.assignmentExpression('=', re(), t.numericLiteral(0))));
  em.mark(reenter);
  em.emit(t.expressionStatement(t.assignmentExpression('=', budget(), ctx.rtMember('ticks'))));

  let counter = 0;
  const reIs = (op: '===' | '!==', k: number) => t.binaryExpression(op, re(), t.numericLiteral(k));
  const reIn = (lo: number, hi: number): t.Expression =>
    lo > hi ? t.booleanLiteral(false) : lo === hi ? reIs('===', lo) : t.logicalExpression('&&', t.binaryExpression('>=', re(), t.numericLiteral(lo)), t.binaryExpression('<=', re(), t.numericLiteral(hi)));
  const stop = (k: number) => t.sequenceExpression([t.assignmentExpression('=', re(), t.numericLiteral(k)), t.booleanLiteral(false)]);
  const spend = () => t.updateExpression('--', budget(), true);
  const loopsIn = new Map<t.Node, boolean>();
  const hasLoop = (n: t.Node): boolean => {
    let found = loopsIn.get(n);
    if (found === undefined) {
      found = false;
      t.traverseFast(n, (x) => {
        if (t.isLoop(x)) found = true;
      });
      loopsIn.set(n, found);
    }
    return found;
  };
  const labelled = (stmt: t.Statement, labels: t.Identifier[]): t.Statement =>
    labels.reduceRight<t.Statement>((body, l) => t.labeledStatement(l, body), stmt);
  type Out = { stmt: t.Statement; lo: number; hi: number };

  const rewriteList = (stmts: t.Statement[]): t.Statement[] => {
    const out: t.Statement[] = [];
    const lastWithLoop = stmts.map(hasLoop).lastIndexOf(true);
    const withLoops = stmts.filter(hasLoop).length;
    let plain: t.Statement[] = [];
    const flush = () => {
      if (plain.length) out.push(t.ifStatement(reIs('===', 0), t.blockStatement(plain)));
      plain = [];
    };
    stmts.forEach((s, i) => {
      if (i > lastWithLoop) {
        flush();
        out.push(s);
      } else if (!hasLoop(s)) plain.push(s);
      else {
        flush();
        const r = rewrite(s);
        // with a sibling that has loops too, only the one the way leads through runs
        out.push(withLoops > 1 ? t.ifStatement(t.logicalExpression('||', reIs('===', 0), reIn(r.lo, r.hi)), r.stmt) : r.stmt);
      }
    });
    flush();
    return out;
  };
  const rewriteBody = (s: t.Statement): t.Statement[] => (t.isBlockStatement(s) ? rewriteList(s.body) : rewriteList([s]));

  // `labels`: the labels on `s`; on a loop they must stay on the loop itself (`continue label`)
  const rewrite = (s: t.Statement, labels: t.Identifier[] = []): Out => {
    if (t.isLabeledStatement(s)) return rewrite(s.body, [...labels, s.label]);
    if (t.isBlockStatement(s)) {
      const lo = counter + 1;
      const body = rewriteList(s.body);
      return { stmt: labelled(t.blockStatement(body), labels), lo, hi: counter };
    }
    if (t.isIfStatement(s)) {
      const lo = counter + 1;
      const cons = rewrite(s.consequent);
      const alt = s.alternate ? rewrite(s.alternate) : null;
      const test = t.conditionalExpression(reIs('!==', 0), reIn(cons.lo, cons.hi), s.test);
      return { stmt: labelled(t.ifStatement(test, cons.stmt, alt?.stmt ?? null), labels), lo, hi: counter };
    }
    if (!hasLoop(s)) return { stmt: labelled(s, labels), lo: counter + 1, hi: counter };
    if (!t.isWhileStatement(s) && !t.isDoWhileStatement(s) && !t.isForStatement(s)) throw new Error(`stackless: native loop nest with a ${s.type} on the way to an inner loop`);
    const k = ++counter;
    const body = rewriteBody(s.body);
    const inner = counter > k;
    let loop: t.Statement;
    if (t.isDoWhileStatement(s)) {
      const check = t.ifStatement(
        inner ? t.logicalExpression('&&', reIs('===', 0), t.binaryExpression('<', spend(), t.numericLiteral(0))) : t.binaryExpression('<', spend(), t.numericLiteral(0)),
        t.blockStatement([t.expressionStatement(t.assignmentExpression('=', re(), t.numericLiteral(k))), t.breakStatement()]),
      );
      loop = t.doWhileStatement(s.test, t.blockStatement([check, ...body]));
    } else {
      const spent = t.conditionalExpression(t.binaryExpression('>=', spend(), t.numericLiteral(0)), s.test ?? t.booleanLiteral(true), stop(k));
      const test = inner ? t.logicalExpression('||', reIs('!==', 0), spent) : spent;
      loop = t.isWhileStatement(s) ? t.whileStatement(test, t.blockStatement(body)) : t.forStatement(null, test, s.update, t.blockStatement(body));
    }
    loop.loc = s.loc;
    loop = labelled(loop, labels);
    const init = t.isForStatement(s) && s.init ? (s.init as t.Expression) : null;
    const clear = t.expressionStatement(t.assignmentExpression('=', re(), t.numericLiteral(0)));
    const pre = init
      ? t.ifStatement(reIs('===', 0), t.expressionStatement(init), t.ifStatement(reIs('===', k), clear))
      : t.ifStatement(reIs('===', k), clear);
    const post = t.ifStatement(reIs('!==', 0), t.blockStatement([
      t.expressionStatement(t.assignmentExpression('=', ctx.rtMember('ticks'), budget())),
      ...em.jumpStatements(tickState),
    ]));
    return { stmt: t.blockStatement([pre, loop, post]), lo: k, hi: counter };
  };

  const nest = rewrite(top).stmt;
  em.emit(redirectLeaps(ctx, nest));
  // what the nest used of the budget (a return or throw out of it keeps the rest: ticks are a measure, not a bill)
  em.emit(t.expressionStatement(t.assignmentExpression('=', ctx.rtMember('ticks'), budget())));
  em.jump(after);
  em.mark(tickState);
  emitTick(ctx);
  em.jump(reenter);
  em.mark(after);
}
