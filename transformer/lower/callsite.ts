/**
 * Emits one suspension point. A call site is two resume points: the retry
 * entry R (the call has not happened: a stack-overflow spill resumes here and
 * makes the call again on an empty stack) and the value entry N = R + 1 (the
 * call returned, its value is in `$v`).
 *
 *     case R: $pc = -N; rt.tok = callee; $v = call;
 *             $pc = N; if (rt.u !== 0) break $save;   // the save block saves frame N
 *     case N: ...
 */
import * as t from '../ast.js';
import type { FunctionContext } from './context.js';

export interface CallShape {
  /** the value compiled code announces in `rt.tok`: the function about to run */
  token: t.Expression;
  /** the call itself, with every part already retry-safe */
  call: t.Expression;
}

export function emitCallSite(ctx: FunctionContext, shape: CallShape, wantValue: boolean): t.Expression | null {
  const { em, names } = ctx;
  if (ctx.options.forceSwitch) emitRawCallSite(ctx, forcedSwitch(ctx));
  emitRawCallSite(ctx, shape);
  if (!wantValue) return null;
  const tmp = ctx.temp();
  em.emit(t.expressionStatement(t.assignmentExpression('=', tmp, t.identifier(names.value))));
  return t.identifier(tmp.name);
}

function forcedSwitch(ctx: FunctionContext): CallShape {
  const sw = t.identifier(ctx.names.forceSwitch);
  return { token: sw, call: t.callExpression(t.identifier(sw.name), []) };
}

function emitRawCallSite(ctx: FunctionContext, shape: CallShape): void {
  const { em, names } = ctx;
  const retry = ctx.newLabel('retry');
  const value = ctx.newLabel('value');
  em.mark(retry);
  // the fixed parts are written as text (nothing after them in this state reads $pc, and the
  // save block they break to resumes at the value entry that follows)
  em.emitText(value, (n) => `${names.pc} = -${n}`);
  em.emit(t.expressionStatement(t.assignmentExpression('=', ctx.rtMember('tok'), shape.token)));
  em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(names.value), shape.call)));
  // unwinding: every call site leaves through the function's one save block ($pc holds its resume point)
  em.emitText(value, (n) => `${names.pc} = ${n}; if (${names.rt}.u !== 0) break ${names.save}`);
  em.mark(value);
  ctx.callSites.push({ retry, value, loc: ctx.currentLoc });
}
