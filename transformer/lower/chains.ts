/**
 * Optional chains with call sites: each link is evaluated once, in order, and
 * the first nullish optional link ends the whole chain with `undefined`.
 */
import * as t from '../ast.js';
import type { FunctionContext } from './context.js';
import { emitCallSite, type CallShape } from './callsite.js';
import { explode, explodeParts, toTemp, type Part } from './expressions.js';
import type { Label } from './emitter.js';

/**
 * `a?.b.c(x)`: evaluate the chain link by link; the first nullish link ends the
 * whole chain with `undefined`.
 */
export function explodeOptional(ctx: FunctionContext, node: t.OptionalCallExpression | t.OptionalMemberExpression, ignore: boolean): t.Expression {
  const em = ctx.em;
  const result = ctx.temp();
  const end = ctx.newLabel('chainEnd');
  const value = lowerChain(ctx, node, end, result);
  em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(result.name), value)));
  em.mark(end);
  void ignore;
  return t.identifier(result.name);
}

/** Returns an expression for `node`'s value, jumping to `end` with result=undefined on a nullish optional link. */
function lowerChain(ctx: FunctionContext, node: t.Expression, end: Label, result: t.Identifier): t.Expression {
  const em = ctx.em;
  const bail = (v: t.Expression) => {
    em.emit(
      t.ifStatement(
        t.binaryExpression('==', v, t.nullLiteral()),
        t.blockStatement([
          t.expressionStatement(t.assignmentExpression('=', t.identifier(result.name), t.identifier('undefined'))),
          ...em.jumpStatements(end),
        ]),
      ),
    );
  };
  if (t.isOptionalMemberExpression(node) || (t.isMemberExpression(node) && isChainPart(node.object))) {
    if (t.isSuper(node.object)) return t.memberExpression(t.super(), node.property as t.Expression, node.computed);
    const obj = toTemp(ctx, lowerChain(ctx, node.object as t.Expression, end, result));
    if ((node as t.OptionalMemberExpression).optional) bail(t.cloneNode(obj));
    const key = node.computed ? toTemp(ctx, explode(ctx, node.property as t.Expression)) : node.property;
    return t.memberExpression(t.cloneNode(obj), key as t.Expression, node.computed);
  }
  if (t.isOptionalCallExpression(node) || (t.isCallExpression(node) && isChainPart(node.callee))) {
    const callee = node.callee as t.Expression;
    let thisArg: t.Expression;
    let fn: t.Identifier;
    if (t.isMemberExpression(callee) || t.isOptionalMemberExpression(callee)) {
      // super.m?.() looks m up on the parent, and calls it with this
      const isSuper = t.isSuper(callee.object);
      const obj: t.Expression = isSuper ? t.super() : toTemp(ctx, lowerChain(ctx, callee.object as t.Expression, end, result));
      if ((callee as t.OptionalMemberExpression).optional && !isSuper) bail(t.cloneNode(obj));
      const key = callee.computed ? toTemp(ctx, explode(ctx, callee.property as t.Expression)) : callee.property;
      fn = toTemp(ctx, t.memberExpression(t.cloneNode(obj), key as t.Expression, callee.computed));
      thisArg = isSuper ? t.thisExpression() : t.cloneNode(obj);
    } else {
      fn = toTemp(ctx, lowerChain(ctx, callee, end, result));
      thisArg = t.identifier('undefined');
    }
    if ((node as t.OptionalCallExpression).optional) bail(t.cloneNode(fn));
    const args = explodeParts(ctx, node.arguments as Part[], true);
    const shape: CallShape = {
      token: t.cloneNode(fn),
      call: t.callExpression(t.memberExpression(t.cloneNode(fn), t.identifier('call')), [thisArg, ...args]),
    };
    return emitCallSite(ctx, shape, true)!;
  }
  return explode(ctx, node);
}

function isChainPart(node: t.Node): boolean {
  return t.isOptionalMemberExpression(node) || t.isOptionalCallExpression(node) ||
    (t.isMemberExpression(node) && isChainPart(node.object)) || (t.isCallExpression(node) && isChainPart(node.callee));
}
