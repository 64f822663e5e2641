/**
 * `for-of` and `for-in` loops with call sites inside. The iterator lives in a
 * frame local, so a tasklet suspended inside the loop resumes at the same
 * position; `for-of` calls the iterator's `next()` (and `return()` when the
 * loop is left early) as call sites, so iterables written in tasklet code may
 * block in them.
 */
import * as t from '../ast.js';
import type { FunctionContext } from './context.js';
import { explode, toTemp } from './expressions.js';
import { emitCallSite } from './callsite.js';
import { lowerStatement, assignTarget, createBlockEnv } from './statements.js';
import { backEdge } from './loops.js';
import { beginFinally, endFinally } from './tries.js';

function assign(target: t.LVal, value: t.Expression): t.Statement {
  return t.expressionStatement(t.assignmentExpression('=', target, value));
}

/** 0/1/2 for `for (x of o.values() / o.keys() / o.entries())`, else -1. */
function methodKind(right: t.Expression): number {
  if (!t.isCallExpression(right) || right.arguments.length !== 0) return -1;
  const c = right.callee;
  if (!t.isMemberExpression(c) || c.computed || !t.isIdentifier(c.property) || t.isSuper(c.object)) return -1;
  return ['values', 'keys', 'entries'].indexOf(c.property.name);
}

export function lowerForOf(ctx: FunctionContext, node: t.ForOfStatement, labels: string[]): void {
  const em = ctx.em;
  const kind = methodKind(node.right);
  // iterator, "finished" flag and current step live across suspensions
  const it = ctx.helperVar('$it');
  const done = ctx.helperVar('$done');
  const step = ctx.helperVar('$step');
  // built-in collections get the runtime's saveable iterator (runtime/iter.ts), which a
  // snapshot can save; for anything else the helper returns null and the loop makes the
  // ordinary calls. The helper is a call site too, so a stack overflow inside it is retried.
  const have = ctx.newLabel('iter');
  let obj: t.Identifier;
  if (kind >= 0) {
    // o.entries(): $iterm(o, kind), else the method called as written
    const callee = (node.right as t.CallExpression).callee as t.MemberExpression;
    const target = toTemp(ctx, explode(ctx, callee.object as t.Expression));
    const made = emitCallSite(ctx, { token: t.identifier(ctx.names.helper('$iterm')), call: t.callExpression(t.identifier(ctx.names.helper('$iterm')), [t.cloneNode(target), t.numericLiteral(kind)]) }, true)!;
    em.emit(assign(t.identifier(it), made));
    em.emit(t.ifStatement(t.binaryExpression('!==', t.identifier(it), t.nullLiteral()), t.blockStatement(em.jumpStatements(have))));
    obj = toTemp(ctx, explode(ctx, t.callExpression(t.memberExpression(t.cloneNode(target), t.cloneNode(callee.property)), [])));
  } else {
    obj = toTemp(ctx, explode(ctx, node.right));
    const made = emitCallSite(ctx, { token: t.identifier(ctx.names.helper('$iter')), call: t.callExpression(t.identifier(ctx.names.helper('$iter')), [t.cloneNode(obj)]) }, true)!;
    em.emit(assign(t.identifier(it), made));
    em.emit(t.ifStatement(t.binaryExpression('!==', t.identifier(it), t.nullLiteral()), t.blockStatement(em.jumpStatements(have))));
  }
  const method = t.memberExpression(t.cloneNode(obj), t.memberExpression(t.identifier('Symbol'), t.identifier('iterator')), true);
  const iter = emitCallSite(ctx, { token: t.cloneNode(method), call: t.callExpression(method, []) }, true)!;
  em.emit(assign(t.identifier(it), iter));
  em.mark(have);
  em.emit(assign(t.identifier(done), t.booleanLiteral(false)));
  lowerTryForOf(ctx, { it, done, step, node, labels });
}

interface ForOfParts {
  it: string;
  done: string;
  step: string;
  node: t.ForOfStatement;
  labels: string[];
}

function lowerTryForOf(ctx: FunctionContext, p: ForOfParts): void {
  const em = ctx.em;
  const region = beginFinally(ctx);
  const head = ctx.newLabel('forof');
  const after = ctx.newLabel('forofEnd');
  em.mark(head);
  // next(): done is set first, so an iterator whose next() throws is not closed
  em.emit(assign(t.identifier(p.done), t.booleanLiteral(true)));
  const nextFn = t.memberExpression(t.identifier(p.it), t.identifier('next'));
  const r = emitCallSite(ctx, { token: t.cloneNode(nextFn), call: t.callExpression(nextFn, []) }, true)!;
  em.emit(assign(t.identifier(p.step), r));
  em.emit(t.ifStatement(t.memberExpression(t.identifier(p.step), t.identifier('done')), t.blockStatement(em.jumpStatements(after))));
  em.emit(assign(t.identifier(p.done), t.booleanLiteral(false)));
  createBlockEnv(ctx, p.node);
  const value = toTemp(ctx, t.memberExpression(t.identifier(p.step), t.identifier('value')));
  assignTarget(ctx, p.node.left as t.LVal, value);
  ctx.leaps.push({ kind: 'loop', breakLabel: after, continueLabel: head, labels: p.labels });
  lowerStatement(ctx, p.node.body);
  ctx.leaps.pop();
  backEdge(ctx, head);
  em.mark(after);
  endFinally(ctx, region, () => {
    // finally: an early exit (break, return, throw) closes the iterator
    const skip = ctx.newLabel('closed');
    em.emit(t.ifStatement(t.identifier(p.done), t.blockStatement(em.jumpStatements(skip))));
    em.emit(assign(t.identifier(p.done), t.booleanLiteral(true)));
    const ret = toTemp(ctx, t.memberExpression(t.identifier(p.it), t.identifier('return')));
    em.emit(t.ifStatement(t.binaryExpression('==', t.cloneNode(ret), t.nullLiteral()), t.blockStatement(em.jumpStatements(skip))));
    // leaving by an exception: that exception wins over anything return() throws
    em.emit(
      t.ifStatement(
        t.binaryExpression('===', t.identifier(region.completion!), t.numericLiteral(2)),
        t.blockStatement([
          t.tryStatement(
            t.blockStatement([t.expressionStatement(t.callExpression(t.memberExpression(t.cloneNode(ret), t.identifier('call')), [t.identifier(p.it)]))]),
            t.catchClause(null, t.blockStatement([])),
          ),
          ...em.jumpStatements(skip),
        ]),
      ),
    );
    emitCallSite(ctx, { token: t.cloneNode(ret), call: t.callExpression(t.memberExpression(t.cloneNode(ret), t.identifier('call')), [t.identifier(p.it)]) }, false);
    em.mark(skip);
  });
}

export function lowerForIn(ctx: FunctionContext, node: t.ForInStatement, labels: string[]): void {
  const em = ctx.em;
  const obj = toTemp(ctx, explode(ctx, node.right));
  const keys = ctx.helperVar('$keys');
  const index = ctx.helperVar('$i');
  const objVar = ctx.helperVar('$obj');
  // primitives are enumerated as their wrapper objects, null and undefined as nothing
  em.emit(assign(t.identifier(objVar), t.conditionalExpression(t.binaryExpression('==', obj, t.nullLiteral()), t.objectExpression([]), t.callExpression(t.identifier('Object'), [t.cloneNode(obj)]))));
  // the keys are listed up front (a plain array, so it can be saved); deleted ones are skipped
  em.emit(assign(t.identifier(keys), t.arrayExpression([])));
  const k = t.identifier('$k');
  em.emit(
    t.forInStatement(
      t.variableDeclaration('const', [t.variableDeclarator(k)]),
      t.identifier(objVar),
      t.expressionStatement(t.callExpression(t.memberExpression(t.identifier(keys), t.identifier('push')), [t.identifier('$k')])),
    ),
  );
  em.emit(assign(t.identifier(index), t.numericLiteral(0)));
  const head = ctx.newLabel('forin');
  const next = ctx.newLabel('forinNext');
  const after = ctx.newLabel('forinEnd');
  em.mark(head);
  em.emit(
    t.ifStatement(
      t.binaryExpression('>=', t.identifier(index), t.memberExpression(t.identifier(keys), t.identifier('length'))),
      t.blockStatement(em.jumpStatements(after)),
    ),
  );
  const key = toTemp(ctx, t.memberExpression(t.identifier(keys), t.identifier(index), true));
  em.emit(t.ifStatement(t.unaryExpression('!', t.binaryExpression('in', t.cloneNode(key), t.identifier(objVar))), t.blockStatement(em.jumpStatements(next))));
  createBlockEnv(ctx, node);
  assignTarget(ctx, node.left as t.LVal, key);
  ctx.leaps.push({ kind: 'loop', breakLabel: after, continueLabel: next, labels });
  lowerStatement(ctx, node.body);
  ctx.leaps.pop();
  em.mark(next);
  em.emit(t.expressionStatement(t.updateExpression('++', t.identifier(index))));
  backEdge(ctx, head);
  em.mark(after);
  em.emit(assign(t.identifier(keys), t.identifier('undefined')));
}
