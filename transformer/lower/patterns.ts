/**
 * Destructuring whose defaults or computed keys contain call sites. The
 * pattern is first taken apart natively into temporaries (so iteration,
 * `RequireObjectCoercible` and rest elements behave exactly as JavaScript's),
 * then defaults and nested patterns are applied one by one, each default only
 * evaluated when its value is `undefined`.
 */
import * as t from '@babel/types';
import type { FunctionContext } from './context.js';
import { explode, toTemp } from './expressions.js';

type Target = t.LVal | t.Pattern | t.Expression;

export function destructure(ctx: FunctionContext, pattern: Target, value: t.Identifier): void {
  const em = ctx.em;
  if (t.isAssignmentPattern(pattern)) {
    const v = ctx.temp();
    em.emit(t.expressionStatement(t.assignmentExpression('=', v, t.cloneNode(value))));
    if (ctx.cs.contains(pattern.right)) {
      const done = ctx.newLabel('defaultDone');
      em.emit(t.ifStatement(t.binaryExpression('!==', t.cloneNode(v), t.identifier('undefined')), t.blockStatement(em.jumpStatements(done))));
      em.emit(t.expressionStatement(t.assignmentExpression('=', t.cloneNode(v), explode(ctx, pattern.right))));
      em.mark(done);
    } else {
      em.emit(
        t.ifStatement(
          t.binaryExpression('===', t.cloneNode(v), t.identifier('undefined')),
          t.expressionStatement(t.assignmentExpression('=', t.cloneNode(v), pattern.right)),
        ),
      );
    }
    destructure(ctx, pattern.left, t.identifier(v.name));
    return;
  }
  if (t.isObjectPattern(pattern)) {
    const nested: [Target, t.Identifier][] = [];
    const props = pattern.properties.map((p) => {
      if (t.isRestElement(p)) {
        const r = ctx.temp();
        nested.push([p.argument, r]);
        return t.restElement(t.identifier(r.name));
      }
      let key = p.key as t.Expression;
      if (p.computed) key = toTemp(ctx, explode(ctx, key));
      const slot = ctx.temp();
      nested.push([p.value as Target, slot]);
      return t.objectProperty(key, t.identifier(slot.name), p.computed, false);
    });
    em.emit(t.expressionStatement(t.assignmentExpression('=', t.objectPattern(props), t.cloneNode(value))));
    for (const [target, slot] of nested) destructure(ctx, target, t.identifier(slot.name));
    return;
  }
  if (t.isArrayPattern(pattern)) {
    const nested: [Target, t.Identifier][] = [];
    const elements = pattern.elements.map((e) => {
      if (e == null) return null;
      const slot = ctx.temp();
      if (t.isRestElement(e)) {
        nested.push([e.argument, slot]);
        return t.restElement(t.identifier(slot.name));
      }
      nested.push([e as Target, slot]);
      return t.identifier(slot.name);
    });
    em.emit(t.expressionStatement(t.assignmentExpression('=', t.arrayPattern(elements), t.cloneNode(value))));
    for (const [target, slot] of nested) destructure(ctx, target, t.identifier(slot.name));
    return;
  }
  if (t.isMemberExpression(pattern) && ctx.cs.contains(pattern)) {
    const obj = toTemp(ctx, explode(ctx, pattern.object as t.Expression));
    const key = pattern.computed ? toTemp(ctx, explode(ctx, pattern.property as t.Expression)) : pattern.property;
    em.emit(t.expressionStatement(t.assignmentExpression('=', t.memberExpression(obj, key as t.Expression, pattern.computed), t.cloneNode(value))));
    return;
  }
  em.emit(t.expressionStatement(t.assignmentExpression('=', pattern as t.LVal, t.cloneNode(value))));
}
