/**
 * Assignments with call sites: the target's object and key are evaluated
 * first and once, a compound assignment reads the old value before the right
 * side runs, and logical assignments short-circuit.
 */
import * as t from '../ast.js';
import type { FunctionContext } from './context.js';
import { explode, explodeParts, isOwnLocalUnchangedBy, isStable, toTemp } from './expressions.js';
import { destructure } from './patterns.js';

export function explodeAssignment(ctx: FunctionContext, node: t.AssignmentExpression, ignore: boolean): t.Expression {
  const em = ctx.em;
  const left = node.left;
  const op = node.operator;
  if (t.isObjectPattern(left) || t.isArrayPattern(left)) {
    const value = toTemp(ctx, explode(ctx, node.right));
    if (ctx.cs.contains(left)) destructure(ctx, left, value);
    else em.emit(t.expressionStatement(t.assignmentExpression('=', left, t.cloneNode(value))));
    return t.identifier(value.name);
  }
  // evaluate the target's object and key first, once
  let target: t.LVal;
  if (t.isMemberExpression(left)) {
    const rightCall = ctx.cs.contains(node.right);
    const keyCall = left.computed && ctx.cs.contains(left.property);
    let o = explode(ctx, left.object as t.Expression);
    if ((rightCall || keyCall || op !== '=') && !isStable(o, ctx)) o = toTemp(ctx, o as t.Expression);
    let key: t.Expression = left.property as t.Expression;
    if (left.computed) {
      key = explode(ctx, left.property as t.Expression);
      if ((rightCall || op !== '=') && !isStable(key, ctx)) key = toTemp(ctx, key);
    }
    target = t.memberExpression(o, key as t.Expression, left.computed);
  } else target = left as t.LVal;
  const targetExpr = () => t.cloneNode(target) as t.Expression;
  if (op === '=') {
    const value = explode(ctx, node.right);
    const assign = t.assignmentExpression('=', target as any, value);
    if (ignore) {
      em.emit(t.expressionStatement(assign));
      return t.identifier('undefined');
    }
    return assign;
  }
  if (op === '&&=' || op === '||=' || op === '??=') {
    const end = ctx.newLabel('logicalAssign');
    const cur = toTemp(ctx, targetExpr());
    const skip =
      op === '&&=' ? t.unaryExpression('!', cur) : op === '||=' ? t.cloneNode(cur) : t.binaryExpression('!=', t.cloneNode(cur), t.nullLiteral());
    em.emit(t.ifStatement(skip, t.blockStatement(em.jumpStatements(end))));
    const value = explode(ctx, node.right);
    em.emit(t.expressionStatement(t.assignmentExpression('=', t.cloneNode(cur), t.assignmentExpression('=', target as any, value))));
    em.mark(end);
    return t.identifier(cur.name);
  }
  // compound: read the old value before the right-hand side runs
  const old = isOwnLocalUnchangedBy(target, ctx, [node.right]) ? (target as t.Identifier) : toTemp(ctx, targetExpr());
  const value = explode(ctx, node.right);
  const binOp = op.slice(0, -1) as t.BinaryExpression['operator'];
  return t.assignmentExpression('=', target as any, t.binaryExpression(binOp, t.cloneNode(old), value));
}

