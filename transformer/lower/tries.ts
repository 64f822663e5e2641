/**
 * `try`/`catch`/`finally` with suspension points inside, and the leaps
 * (`break`, `continue`, `return`) that must run `finally` blocks on the way
 * out. Each try statement is a range of resume points; the dispatch loop's
 * native `catch` sends an exception to the innermost range holding `$pc`.
 * A `finally` is entered with a completion record (`$cN`: 0 normal, 1 return,
 * 2 throw, 3 jump; `$vN`: value, error or target) kept in frame locals, so a
 * tasklet suspended inside a finally block resumes with it.
 */
import * as t from '../ast.js';
import type { FunctionContext, TryRegion } from './context.js';
import type { Label } from './emitter.js';
import { lowerStatement, createBlockEnv } from './statements.js';
import { destructure } from './patterns.js';

const NORMAL = 0;
const RETURN = 1;
const THROW = 2;
const JUMP = 3;

function assign(name: string, value: t.Expression): t.Statement {
  return t.expressionStatement(t.assignmentExpression('=', t.identifier(name), value));
}

/** A try region: labels in code order once placed, completion variables when it has a finally. */
function newRegion(ctx: FunctionContext, hasCatch: boolean, hasFinally: boolean): TryRegion {
  return {
    start: ctx.newLabel('try'),
    catchLabel: hasCatch ? ctx.newLabel('catch') : null,
    finallyLabel: hasFinally ? ctx.newLabel('finally') : null,
    after: ctx.newLabel('endtry'),
    completion: hasFinally ? ctx.helperVar('$c') : null,
    completionValue: hasFinally ? ctx.helperVar('$cv') : null,
    jumps: [],
    outerFinally: ctx.innermostFinally(),
    errorVar: ctx.errorVar(),
  };
}

/** Opens a try/finally region whose body the caller lowers (synthetic finally blocks, e.g. for-of). */
export function beginFinally(ctx: FunctionContext): TryRegion {
  const region = newRegion(ctx, false, true);
  ctx.tries.push(region);
  ctx.leaps.push({ kind: 'finally', tryEntry: region });
  ctx.em.setPc(region.start);
  ctx.em.mark(region.start);
  return region;
}

/** Closes a region opened by beginFinally: normal completion, the finally body, then the dispatch. */
export function endFinally(ctx: FunctionContext, region: TryRegion, finallyBody: () => void): void {
  const em = ctx.em;
  em.emit(assign(region.completion!, t.numericLiteral(NORMAL)));
  ctx.leaps.pop();
  em.setPc(region.finallyLabel!);
  em.mark(region.finallyLabel!);
  finallyBody();
  completionDispatch(ctx, region);
  em.setPc(region.after);
  em.mark(region.after);
}

export function lowerTry(ctx: FunctionContext, node: t.TryStatement): void {
  const em = ctx.em;
  const hasFinally = node.finalizer != null;
  const region = newRegion(ctx, node.handler != null, hasFinally);
  ctx.tries.push(region);
  if (hasFinally) ctx.leaps.push({ kind: 'finally', tryEntry: region });

  em.setPc(region.start);
  em.mark(region.start);
  lowerStatement(ctx, node.block);
  if (hasFinally) {
    em.emit(assign(region.completion!, t.numericLiteral(NORMAL)));
    em.jump(region.finallyLabel!);
  } else em.jump(region.after);

  if (node.handler) {
    em.mark(region.catchLabel!);
    createBlockEnv(ctx, node.handler);
    const param = node.handler.param;
    if (param) {
      const err = t.identifier(region.errorVar);
      if (t.isIdentifier(param)) {
        const holder = ctx.layout.holders.get(param.name);
        const target = holder ? t.memberExpression(t.identifier(holder), t.identifier(param.name)) : t.identifier(param.name);
        em.emit(t.expressionStatement(t.assignmentExpression('=', target, err)));
      } else destructure(ctx, param as t.LVal, err);
    }
    em.emit(assign(region.errorVar, t.identifier('undefined')));
    lowerStatement(ctx, node.handler.body);
    if (hasFinally) {
      em.emit(assign(region.completion!, t.numericLiteral(NORMAL)));
      em.setPc(region.finallyLabel!);
    } else em.setPc(region.after);
  }

  if (hasFinally) {
    ctx.leaps.pop();
    em.mark(region.finallyLabel!);
    lowerStatement(ctx, node.finalizer!);
    completionDispatch(ctx, region);
    em.setPc(region.after);
  }
  em.mark(region.after);
}

/** At the end of a finally block: carry on with whatever entered it. */
export function completionDispatch(ctx: FunctionContext, region: TryRegion): void {
  const em = ctx.em;
  const c = region.completion!;
  const v = region.completionValue!;
  const is = (kind: number) => t.binaryExpression('===', t.identifier(c), t.numericLiteral(kind));
  // jumps: each target routed through this finally
  const seen = new Set<Label>();
  const jumpCases: t.Statement[] = [];
  for (const j of region.jumps) {
    if (seen.has(j.target)) continue;
    seen.add(j.target);
    const body = j.next
      ? [assign(j.next.completion!, t.numericLiteral(JUMP)), assign(j.next.completionValue!, em.ref(j.target)), ...em.jumpStatements(j.next.finallyLabel!)]
      : em.jumpStatements(j.target);
    jumpCases.push(t.ifStatement(t.binaryExpression('===', t.identifier(v), em.ref(j.target)), t.blockStatement(body)));
  }
  if (jumpCases.length) em.emit(t.ifStatement(is(JUMP), t.blockStatement([assign(c, t.numericLiteral(NORMAL)), ...jumpCases])));
  const ret = region.outerFinally
    ? [
        assign(region.outerFinally.completion!, t.numericLiteral(RETURN)),
        assign(region.outerFinally.completionValue!, t.identifier(v)),
        assign(c, t.numericLiteral(NORMAL)),
        ...em.jumpStatements(region.outerFinally.finallyLabel!),
      ]
    : [assign(c, t.numericLiteral(NORMAL)), t.returnStatement(t.identifier(v))];
  em.emit(t.ifStatement(is(RETURN), t.blockStatement(ret)));
  em.emit(t.ifStatement(is(THROW), t.blockStatement([assign(c, t.numericLiteral(NORMAL)), t.throwStatement(t.identifier(v))])));
}

/** Statements for `return value`, running enclosing finally blocks first. */
export function returnThroughFinally(ctx: FunctionContext, value: t.Expression): t.Statement[] {
  const f = ctx.innermostFinally();
  if (!f) return [t.returnStatement(value)];
  return [assign(f.completion!, t.numericLiteral(RETURN)), assign(f.completionValue!, value), ...ctx.em.jumpStatements(f.finallyLabel!)];
}

/** Statements for `break`/`continue` (optionally labeled), through finally blocks. */
export function jumpThroughFinally(ctx: FunctionContext, kind: 'break' | 'continue', label: string | null): t.Statement[] {
  let index = -1;
  let target: Label | null = null;
  for (let i = ctx.leaps.length - 1; i >= 0; i--) {
    const e = ctx.leaps[i]!;
    if (kind === 'break') {
      if (label === null && (e.kind === 'loop' || e.kind === 'switch')) target = e.breakLabel;
      else if (label !== null && e.kind === 'labeled' && e.label === label) target = e.breakLabel;
    } else if (e.kind === 'loop' && (label === null || e.labels.includes(label))) target = e.continueLabel;
    if (target) {
      index = i;
      break;
    }
  }
  if (!target) throw new Error(`internal: no target for ${kind}${label ? ' ' + label : ''}`);
  const crossed = ctx.finallysBetween(index);
  if (crossed.length === 0) return ctx.em.jumpStatements(target);
  crossed.forEach((f, i) => f.jumps.push({ target: target!, next: crossed[i + 1] ?? null }));
  const first = crossed[0]!;
  return [
    assign(first.completion!, t.numericLiteral(JUMP)),
    assign(first.completionValue!, ctx.em.ref(target)),
    ...ctx.em.jumpStatements(first.finallyLabel!),
  ];
}

/**
 * The body of the dispatch loop's `catch (e)`: route an exception thrown at
 * `$pc` to the innermost try range that holds it, or rethrow.
 */
export function exceptionRoutes(ctx: FunctionContext, error: t.Identifier): t.Statement[] {
  const em = ctx.em;
  const pc = () => t.identifier(ctx.names.pc);
  const inRange = (from: Label, to: Label) =>
    t.logicalExpression('&&', t.binaryExpression('>=', pc(), em.ref(from)), t.binaryExpression('<', pc(), em.ref(to)));
  // innermost first: a nested try starts later than the one around it
  const regions = [...ctx.tries].sort((a, b) => b.start.id - a.start.id);
  const out: t.Statement[] = [];
  for (const r of regions) {
    if (r.catchLabel) {
      out.push(t.ifStatement(inRange(r.start, r.catchLabel), t.blockStatement([assign(r.errorVar, error), ...em.jumpStatements(r.catchLabel)])));
    }
    if (r.finallyLabel) {
      out.push(
        t.ifStatement(
          inRange(r.start, r.finallyLabel),
          t.blockStatement([assign(r.completion!, t.numericLiteral(THROW)), assign(r.completionValue!, error), ...em.jumpStatements(r.finallyLabel)]),
        ),
      );
    }
  }
  return out;
}
