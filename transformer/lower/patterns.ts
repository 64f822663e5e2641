/**
 * Destructuring whose defaults, computed keys or targets contain call sites,
 * taken apart step by step in JavaScript's order: for each element, the target
 * reference, then the value (one iterator step, or one property read), then the
 * default only when the value is `undefined`, then the assignment. Iterators are
 * closed when the pattern leaves them unfinished.
 */
import * as t from '../ast.js';
import type { FunctionContext } from './context.js';
import { explode, toTemp } from './expressions.js';

type Target = t.LVal | t.Pattern | t.Expression;

const id = (name: string) => t.identifier(name);
const assign = (left: t.LVal, right: t.Expression) => t.expressionStatement(t.assignmentExpression('=', left, right));
const member = (o: string, p: string) => t.memberExpression(id(o), id(p));

/** Evaluate a member target's object and key now; returns a function that assigns to it. */
function targetRef(ctx: FunctionContext, target: Target): (value: t.Identifier) => void {
  const em = ctx.em;
  if (t.isMemberExpression(target)) {
    const obj = toTemp(ctx, explode(ctx, target.object as t.Expression));
    const key = target.computed ? toTemp(ctx, explode(ctx, target.property as t.Expression)) : target.property;
    return (value) => em.emit(assign(t.memberExpression(t.cloneNode(obj), t.cloneNode(key as t.Expression), target.computed), value));
  }
  if (t.isObjectPattern(target) || t.isArrayPattern(target)) return (value) => destructure(ctx, target, value);
  return (value) => em.emit(assign(target as t.LVal, value));
}

/** Apply `= fallback` when the value is undefined, evaluating the fallback only then. */
function applyDefault(ctx: FunctionContext, slot: t.Identifier, fallback: t.Expression): void {
  const em = ctx.em;
  if (ctx.cs.contains(fallback)) {
    const done = ctx.newLabel('defaultDone');
    em.emit(t.ifStatement(t.binaryExpression('!==', t.cloneNode(slot), id('undefined')), t.blockStatement(em.jumpStatements(done))));
    em.emit(assign(t.cloneNode(slot), explode(ctx, fallback)));
    em.mark(done);
  } else {
    em.emit(t.ifStatement(t.binaryExpression('===', t.cloneNode(slot), id('undefined')), assign(t.cloneNode(slot), fallback)));
  }
}

function element(ctx: FunctionContext, target: Target, read: (slot: t.Identifier) => void): void {
  let fallback: t.Expression | null = null;
  if (t.isAssignmentPattern(target)) {
    fallback = target.right;
    target = target.left;
  }
  const put = targetRef(ctx, target);
  const slot = ctx.temp();
  read(slot);
  if (fallback) applyDefault(ctx, slot, fallback);
  put(t.identifier(slot.name));
}

export function destructure(ctx: FunctionContext, pattern: Target, value: t.Identifier): void {
  const em = ctx.em;
  if (t.isAssignmentPattern(pattern)) {
    const slot = ctx.temp();
    em.emit(assign(slot, t.cloneNode(value)));
    applyDefault(ctx, slot, pattern.right);
    targetRef(ctx, pattern.left)(t.identifier(slot.name));
    return;
  }
  if (t.isObjectPattern(pattern)) {
    // RequireObjectCoercible, with JavaScript's own message
    em.emit(t.expressionStatement(t.assignmentExpression('=', t.objectPattern([]), t.cloneNode(value))));
    const keys: t.Expression[] = [];
    for (const p of pattern.properties) {
      if (t.isRestElement(p)) {
        const rest = ctx.temp();
        const k = id('$key');
        // own enumerable properties not named above, in order
        em.emit(assign(rest, t.objectExpression([])));
        em.emit(
          t.forOfStatement(
            t.variableDeclaration('const', [t.variableDeclarator(k)]),
            t.callExpression(t.memberExpression(id('Reflect'), id('ownKeys')), [t.cloneNode(value)]),
            t.ifStatement(
              t.logicalExpression(
                '&&',
                t.unaryExpression('!', t.callExpression(t.memberExpression(t.arrayExpression(keys.map((x) => t.cloneNode(x))), id('includes')), [id('$key')])),
                t.callExpression(t.memberExpression(t.memberExpression(t.memberExpression(id('Object'), id('prototype')), id('propertyIsEnumerable')), id('call')), [t.cloneNode(value), id('$key')]),
              ),
              assign(t.memberExpression(id(rest.name), id('$key'), true), t.memberExpression(t.cloneNode(value), id('$key'), true)),
            ),
          ),
        );
        targetRef(ctx, p.argument)(t.identifier(rest.name));
        continue;
      }
      let key: t.Expression;
      if (p.computed) {
        key = toTemp(ctx, explode(ctx, p.key as t.Expression));
        em.emit(assign(t.cloneNode(key as t.Identifier), t.conditionalExpression(
          t.binaryExpression('===', t.unaryExpression('typeof', t.cloneNode(key)), t.stringLiteral('symbol')),
          t.cloneNode(key),
          t.callExpression(id('String'), [t.cloneNode(key)]),
        )));
      } else key = t.isIdentifier(p.key) ? t.stringLiteral(p.key.name) : (p.key as t.Expression);
      keys.push(key);
      element(ctx, p.value as Target, (slot) => em.emit(assign(slot, t.memberExpression(t.cloneNode(value), t.cloneNode(key), true))));
    }
    return;
  }
  if (t.isArrayPattern(pattern)) {
    const it = ctx.temp();
    const done = ctx.temp();
    const step = ctx.temp();
    // a built-in collection's iterator is a saveable one (runtime/iter.ts): defaults may suspend
    const saveable = t.callExpression(id(ctx.names.helper('$iter')), [t.cloneNode(value)]);
    const native = t.callExpression(t.memberExpression(t.cloneNode(value), t.memberExpression(id('Symbol'), id('iterator')), true), []);
    em.emit(assign(it, t.logicalExpression('??', saveable, native)));
    em.emit(assign(done, t.booleanLiteral(false)));
    // one iterator step into `slot` (undefined once the iterator is done)
    const stepInto = (slot: t.Identifier | null) =>
      t.ifStatement(
        id(done.name),
        slot ? assign(t.cloneNode(slot), id('undefined')) : t.emptyStatement(),
        t.blockStatement([
          assign(id(step.name), t.callExpression(member(it.name, 'next'), [])),
          t.ifStatement(
            member(step.name, 'done'),
            t.blockStatement([assign(id(done.name), t.booleanLiteral(true)), ...(slot ? [assign(t.cloneNode(slot), id('undefined'))] : [])]),
            slot ? assign(t.cloneNode(slot), member(step.name, 'value')) : null,
          ),
        ]),
      );
    for (const e of pattern.elements) {
      if (e == null) {
        em.emit(stepInto(null));
        continue;
      }
      if (t.isRestElement(e)) {
        const rest = ctx.temp();
        em.emit(assign(rest, t.arrayExpression([])));
        em.emit(
          t.whileStatement(
            t.unaryExpression('!', id(done.name)),
            t.blockStatement([
              assign(id(step.name), t.callExpression(member(it.name, 'next'), [])),
              t.ifStatement(
                member(step.name, 'done'),
                assign(id(done.name), t.booleanLiteral(true)),
                t.expressionStatement(t.callExpression(member(rest.name, 'push'), [member(step.name, 'value')])),
              ),
            ]),
          ),
        );
        targetRef(ctx, e.argument)(t.identifier(rest.name));
        continue;
      }
      element(ctx, e as Target, (slot) => em.emit(stepInto(slot)));
    }
    // an unfinished iterator is closed
    em.emit(
      t.ifStatement(
        t.logicalExpression('&&', t.unaryExpression('!', id(done.name)), t.binaryExpression('!=', member(it.name, 'return'), t.nullLiteral())),
        t.expressionStatement(t.callExpression(member(it.name, 'return'), [])),
      ),
    );
    em.emit(assign(id(it.name), id('undefined')));
    return;
  }
  targetRef(ctx, pattern)(value);
}
