/**
 * Explodes an expression that contains call sites into statements of the
 * current state plus a final expression, keeping JavaScript's left-to-right
 * evaluation order: every operand evaluated before a later call site is saved
 * in a frame temporary (the call might change what the operand reads), and
 * `&&`, `||`, `??`, `?:` and optional chains become jumps so short-circuiting
 * is kept. Subtrees without call sites are left as they are.
 */
import * as t from '../ast.js';
import type { FunctionContext } from './context.js';
import { emitCallSite, type CallShape } from './callsite.js';
import { explodeAssignment } from './assignments.js';
import { explodeOptional } from './chains.js';
import { writtenNames } from '../analyze/writes.js';

/** Values that no call can change and that are free to evaluate twice. */
export function isStable(node: t.Node, ctx: FunctionContext): boolean {
  if (t.isLiteral(node) && !t.isTemplateLiteral(node)) return true;
  if (t.isThisExpression(node) || t.isSuper(node)) return true;
  if (t.isIdentifier(node) && (node.name === 'undefined' || ctx.temps.includes(node.name))) return true;
  return false;
}

/**
 * A frame local that only this activation can write (not captured, so not held in an
 * environment object): a call cannot change it, so unless `later` operands assign it,
 * reading it after the call gives the value it had before. Saves a temporary per operand
 * such as `sum` in `sum += ch.receive()`. (Modules are strict; `arguments` never aliases
 * compiled locals, since a resumed activation has restored them from its record.)
 */
export function isOwnLocalUnchangedBy(node: t.Node, ctx: FunctionContext, later: t.Node[]): boolean {
  if (!t.isIdentifier(node) || ctx.layout.holders.has(node.name) || !ctx.layout.locals.includes(node.name)) return false;
  return !writtenNames(later).has(node.name);
}

/** Free of side effects, so evaluating it again at a retry gives the same value. */
function isRetrySafe(node: t.Node | null | undefined): boolean {
  if (node == null) return true;
  if (t.isIdentifier(node) || t.isLiteral(node) && !t.isTemplateLiteral(node) || t.isThisExpression(node) || t.isSuper(node)) return true;
  if (t.isMemberExpression(node)) return isRetrySafe(node.object) && (!node.computed || isRetrySafe(node.property));
  if (t.isUnaryExpression(node)) return node.operator !== 'delete' && isRetrySafe(node.argument);
  if (t.isBinaryExpression(node)) return isRetrySafe(node.left) && isRetrySafe(node.right);
  if (t.isLogicalExpression(node)) return isRetrySafe(node.left) && isRetrySafe(node.right);
  if (t.isConditionalExpression(node)) return isRetrySafe(node.test) && isRetrySafe(node.consequent) && isRetrySafe(node.alternate);
  if (t.isTemplateLiteral(node)) return node.expressions.every((e) => isRetrySafe(e));
  if (t.isFunction(node)) return false;
  if (t.isTSAsExpression(node) || t.isTSNonNullExpression(node) || t.isTSSatisfiesExpression(node) || t.isTSTypeAssertion(node))
    return isRetrySafe(node.expression);
  return false;
}

export function toTemp(ctx: FunctionContext, value: t.Expression): t.Identifier {
  if (t.isIdentifier(value) && ctx.temps.includes(value.name)) return value;
  const tmp = ctx.temp();
  ctx.em.emit(t.expressionStatement(t.assignmentExpression('=', tmp, value)));
  return t.identifier(tmp.name);
}

export type Part = t.Expression | t.SpreadElement;

/**
 * Explode operands in order. An operand is saved in a temporary when a later
 * one contains a call site; with `retry`, also when evaluating it again at a
 * retry could differ (side effects, spreads).
 */
export function explodeParts(ctx: FunctionContext, parts: Part[], retry: boolean): Part[] {
  const out: Part[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const laterCall = parts.slice(i + 1).some((p) => ctx.cs.contains(p));
    if (t.isSpreadElement(part)) {
      const arg = explode(ctx, part.argument);
      out.push(laterCall || retry ? t.spreadElement(toTemp(ctx, t.arrayExpression([t.spreadElement(arg)]))) : t.spreadElement(arg));
      continue;
    }
    let value = explode(ctx, part);
    if ((laterCall && !isStable(value, ctx) && !isOwnLocalUnchangedBy(value, ctx, parts.slice(i + 1))) || (retry && !isRetrySafe(value)))
      value = toTemp(ctx, value);
    out.push(value);
  }
  return out;
}

function callShape(ctx: FunctionContext, node: t.CallExpression): CallShape {
  const callee = node.callee as t.Expression;
  const args = node.arguments as Part[];
  // arr.forEach(cb) & co. go through runtime helpers so the callback may block
  if (t.isMemberExpression(callee) && !callee.computed && t.isIdentifier(callee.property) && !t.isSuper(callee.object)) {
    const helper = ctx.names.arrayHelpers.get(callee.property.name);
    if (helper) {
      const [recv, ...rest] = explodeParts(ctx, [callee.object as t.Expression, ...args], true);
      return { token: t.identifier(helper), call: t.callExpression(t.identifier(helper), [recv as t.Expression, ...rest]) };
    }
  }
  if (t.isMemberExpression(callee)) {
    const prop = callee.property;
    const isCallApply = !callee.computed && t.isIdentifier(prop) && (prop.name === 'call' || prop.name === 'apply');
    if (
      t.isIdentifier(callee.object) && callee.object.name === 'Reflect' && !callee.computed &&
      t.isIdentifier(prop) && prop.name === 'apply' && args.length > 0 && !t.isSpreadElement(args[0])
    ) {
      // Reflect.apply(f, ...) runs f
      const parts = explodeParts(ctx, args, true);
      const f = t.isIdentifier(parts[0]) ? parts[0] as t.Identifier : toTemp(ctx, parts[0] as t.Expression);
      return { token: t.cloneNode(f), call: t.callExpression(t.cloneNode(callee), [f, ...parts.slice(1)]) };
    }
    if (t.isSuper(callee.object)) {
      const key = callee.computed ? explodeParts(ctx, [prop as t.Expression], true)[0] as t.Expression : prop;
      const rest = explodeParts(ctx, args, true);
      const member = t.memberExpression(t.super(), key, callee.computed);
      return { token: t.cloneNode(member), call: t.callExpression(member, rest) };
    }
    if (isCallApply) {
      // f.call(x, ...) runs f: announce f itself
      const [fn, ...rest] = explodeParts(ctx, [callee.object as t.Expression, ...args], true);
      const f = t.isIdentifier(fn) ? fn : toTemp(ctx, fn as t.Expression);
      return { token: t.cloneNode(f), call: t.callExpression(t.memberExpression(f, t.identifier(prop.name)), rest) };
    }
    const argsCall = args.some((a) => ctx.cs.contains(a));
    const keyCall = callee.computed && ctx.cs.contains(prop);
    let o = explode(ctx, callee.object as t.Expression);
    const oSimple = t.isThisExpression(o) || (t.isIdentifier(o) && (ctx.temps.includes(o.name) || !(argsCall || keyCall)));
    if (!oSimple) o = toTemp(ctx, o);
    let key: t.Expression = prop as t.Expression;
    if (callee.computed) {
      key = explode(ctx, prop as t.Expression);
      if (!isStable(key, ctx)) key = toTemp(ctx, key);
    }
    if (!argsCall && !callee.computed) {
      const argsOut = explodeParts(ctx, args, true);
      const member = () => t.memberExpression(t.cloneNode(o), t.cloneNode(key), false);
      return { token: member(), call: t.callExpression(member(), argsOut) };
    }
    // look the method up before the arguments run, as JavaScript does
    const m = toTemp(ctx, t.memberExpression(t.cloneNode(o), t.cloneNode(key), callee.computed));
    const argsOut = explodeParts(ctx, args, true);
    return { token: t.cloneNode(m), call: t.callExpression(t.memberExpression(t.cloneNode(m), t.identifier('call')), [t.cloneNode(o), ...argsOut]) };
  }
  const [fn, ...rest] = explodeParts(ctx, [callee, ...args], true);
  const f = t.isIdentifier(fn) ? fn : toTemp(ctx, fn as t.Expression);
  return { token: t.cloneNode(f), call: t.callExpression(t.cloneNode(f), rest) };
}

function taggedShape(ctx: FunctionContext, node: t.TaggedTemplateExpression): CallShape {
  const tag = node.tag;
  let token: t.Expression;
  let tagOut: t.Expression;
  const exprs = node.quasi.expressions as t.Expression[];
  if (t.isMemberExpression(tag) && !tag.computed) {
    const [obj, ...rest] = explodeParts(ctx, [tag.object as t.Expression, ...exprs], true);
    const o = t.isIdentifier(obj) || t.isThisExpression(obj) ? obj : toTemp(ctx, obj as t.Expression);
    tagOut = t.memberExpression(o as t.Expression, tag.property);
    token = t.cloneNode(tagOut);
    return { token, call: t.taggedTemplateExpression(tagOut, t.templateLiteral(node.quasi.quasis, rest as t.Expression[])) };
  }
  const [f, ...rest] = explodeParts(ctx, [tag, ...exprs], true);
  const fn = t.isIdentifier(f) ? f : toTemp(ctx, f as t.Expression);
  return { token: t.cloneNode(fn), call: t.taggedTemplateExpression(fn, t.templateLiteral(node.quasi.quasis, rest as t.Expression[])) };
}

/** Explode and return an expression for the value. */
export function explode(ctx: FunctionContext, node: t.Expression, ignore = false): t.Expression {
  if (!ctx.cs.contains(node)) return node;
  const em = ctx.em;
  switch (node.type) {
    case 'CallExpression':
      if (!ctx.cs.isCallSite(node)) return explodePlainCall(ctx, node);
      {
        const shape = callShape(ctx, node);
        if (node.loc) ctx.currentLoc = node.loc;
        return emitCallSite(ctx, shape, !ignore) ?? t.identifier('undefined');
      }
    case 'TaggedTemplateExpression': {
      const shape = taggedShape(ctx, node);
      if (node.loc) ctx.currentLoc = node.loc;
      return emitCallSite(ctx, shape, !ignore) ?? t.identifier('undefined');
    }
    case 'OptionalCallExpression':
    case 'OptionalMemberExpression':
      return explodeOptional(ctx, node, ignore);
    case 'MemberExpression': {
      const parts = explodeParts(ctx, node.computed ? [node.object as t.Expression, node.property as t.Expression] : [node.object as t.Expression], false);
      return t.memberExpression(parts[0] as t.Expression, node.computed ? parts[1] as t.Expression : node.property, node.computed);
    }
    case 'BinaryExpression': {
      if (t.isPrivateName(node.left)) break;
      const [l, r] = explodeParts(ctx, [node.left as t.Expression, node.right], false);
      return t.binaryExpression(node.operator, l as t.Expression, r as t.Expression);
    }
    case 'LogicalExpression':
      return explodeLogical(ctx, node.operator, node.left, node.right);
    case 'ConditionalExpression': {
      const result = ctx.temp();
      const elseL = ctx.newLabel('else');
      const end = ctx.newLabel('endif');
      const test = explode(ctx, node.test);
      em.emit(t.ifStatement(t.unaryExpression('!', test), t.blockStatement(em.jumpStatements(elseL))));
      em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(result.name), explode(ctx, node.consequent))));
      em.jump(end);
      em.mark(elseL);
      em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(result.name), explode(ctx, node.alternate))));
      em.mark(end);
      return t.identifier(result.name);
    }
    case 'AssignmentExpression':
      return explodeAssignment(ctx, node, ignore);
    case 'SequenceExpression': {
      const n = node.expressions.length;
      node.expressions.slice(0, n - 1).forEach((e) => {
        const v = explode(ctx, e, true);
        if (!isStable(v, ctx)) em.emit(t.expressionStatement(v));
      });
      return explode(ctx, node.expressions[n - 1]!, ignore);
    }
    case 'UnaryExpression': {
      if (node.operator === 'delete' && t.isMemberExpression(node.argument)) {
        const m = explode(ctx, node.argument);
        return t.unaryExpression('delete', m);
      }
      return t.unaryExpression(node.operator, explode(ctx, node.argument), node.prefix);
    }
    case 'UpdateExpression': {
      const arg = node.argument;
      if (t.isMemberExpression(arg)) {
        const parts = explodeParts(ctx, arg.computed ? [arg.object as t.Expression, arg.property as t.Expression] : [arg.object as t.Expression], false);
        const o = toTemp(ctx, parts[0] as t.Expression);
        const key = arg.computed ? toTemp(ctx, parts[1] as t.Expression) : arg.property;
        return t.updateExpression(node.operator, t.memberExpression(o, key as t.Expression, arg.computed), node.prefix);
      }
      break;
    }
    case 'TemplateLiteral': {
      const exprs = node.expressions as t.Expression[];
      const out: t.Expression[] = [];
      exprs.forEach((e, i) => {
        const laterCall = exprs.slice(i + 1).some((x) => ctx.cs.contains(x));
        const v = explode(ctx, e);
        // `${x}` converts x to a string before later operands run
        out.push(laterCall && !isStable(v, ctx) ? toTemp(ctx, t.templateLiteral([t.templateElement({ raw: '' }), t.templateElement({ raw: '' }, true)], [v])) : v);
      });
      return t.templateLiteral(node.quasis, out);
    }
    case 'ArrayExpression': {
      const holes = node.elements.map((e) => e === null);
      const parts = explodeParts(ctx, node.elements.filter((e): e is Part => e !== null), false);
      const elements: (Part | null)[] = [];
      let k = 0;
      for (const hole of holes) elements.push(hole ? null : parts[k++]!);
      return t.arrayExpression(elements);
    }
    case 'ObjectExpression':
      return explodeObject(ctx, node);
    case 'NewExpression': {
      const [c, ...args] = explodeParts(ctx, [node.callee as t.Expression, ...(node.arguments as Part[])], false);
      return t.newExpression(c as t.Expression, args);
    }
    case 'TSAsExpression':
      return t.tsAsExpression(explode(ctx, node.expression), node.typeAnnotation);
    case 'TSSatisfiesExpression':
      return t.tsSatisfiesExpression(explode(ctx, node.expression), node.typeAnnotation);
    case 'TSNonNullExpression':
      return t.tsNonNullExpression(explode(ctx, node.expression));
    case 'TSTypeAssertion':
      return t.tsTypeAssertion(node.typeAnnotation, explode(ctx, node.expression));
    case 'TSInstantiationExpression':
      return explode(ctx, node.expression);
    case 'ParenthesizedExpression':
      return explode(ctx, node.expression, ignore);
    default:
      break;
  }
  throw new Error(`internal: cannot lower a ${node.type} that contains a call site`);
}

/** A call that is no suspension point (a pure built-in, or the compiler's own) whose operands contain call sites. */
function explodePlainCall(ctx: FunctionContext, node: t.CallExpression): t.Expression {
  const callee = node.callee;
  const args = node.arguments as Part[];
  if (t.isMemberExpression(callee) && !t.isSuper(callee.object)) {
    let o = explode(ctx, callee.object as t.Expression);
    if (args.some((a) => ctx.cs.contains(a)) && !isStable(o, ctx)) o = toTemp(ctx, o);
    const rest = explodeParts(ctx, args, false);
    const call = t.callExpression(t.memberExpression(o, callee.property, callee.computed), rest);
    (call as any)._stacklessInternal = (node as any)._stacklessInternal;
    return call;
  }
  const [f, ...rest] = explodeParts(ctx, [callee as t.Expression, ...args], false);
  const call = t.callExpression(f as t.Expression, rest);
  (call as any)._stacklessInternal = (node as any)._stacklessInternal;
  return call;
}

function explodeLogical(ctx: FunctionContext, op: '&&' | '||' | '??', left: t.Expression, right: t.Expression): t.Expression {
  const em = ctx.em;
  const result = ctx.temp();
  const end = ctx.newLabel('logical');
  em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(result.name), explode(ctx, left))));
  const r = t.identifier(result.name);
  const skip =
    op === '&&' ? t.unaryExpression('!', r) : op === '||' ? r : t.binaryExpression('!=', r, t.nullLiteral());
  em.emit(t.ifStatement(skip, t.blockStatement(em.jumpStatements(end))));
  em.emit(t.expressionStatement(t.assignmentExpression('=', t.identifier(result.name), explode(ctx, right))));
  em.mark(end);
  return t.identifier(result.name);
}

/** A computed key is converted to a property key before the value is evaluated. */
function propertyKey(ctx: FunctionContext, key: t.Expression): t.Expression {
  if (isStable(key, ctx) && !t.isIdentifier(key)) return key;
  if (!(t.isIdentifier(key) && ctx.temps.includes(key.name))) return key;
  const k = t.identifier(key.name);
  const converted = t.conditionalExpression(
    t.binaryExpression('===', t.unaryExpression('typeof', k), t.stringLiteral('symbol')),
    t.cloneNode(k),
    t.callExpression(t.identifier('String'), [t.cloneNode(k)]),
  );
  ctx.em.emit(t.expressionStatement(t.assignmentExpression('=', t.cloneNode(k), converted)));
  return t.cloneNode(k);
}

function explodeObject(ctx: FunctionContext, node: t.ObjectExpression): t.Expression {
  // operands in evaluation order: computed key, then value; spreads copy at their turn
  const props = node.properties;
  const operands: t.Node[] = [];
  for (const p of props) {
    if (t.isSpreadElement(p)) operands.push(p.argument);
    else if (t.isObjectProperty(p)) {
      if (p.computed) operands.push(p.key);
      operands.push(p.value);
    } else if (p.computed) operands.push(p.key);
  }
  let index = 0;
  const next = (): t.Expression => {
    const e = operands[index] as t.Expression;
    const laterCall = operands.slice(index + 1).some((x) => ctx.cs.contains(x));
    index++;
    const v = explode(ctx, e);
    return laterCall && !isStable(v, ctx) ? toTemp(ctx, v) : v;
  };
  const out = props.map((p) => {
    if (t.isSpreadElement(p)) {
      const laterCall = operands.slice(index + 1).some((x) => ctx.cs.contains(x));
      index++;
      const v = explode(ctx, p.argument);
      return t.spreadElement(laterCall ? toTemp(ctx, t.objectExpression([t.spreadElement(v)])) : v);
    }
    if (t.isObjectProperty(p)) {
      const key = p.computed ? propertyKey(ctx, next()) : p.key;
      const value = next();
      return t.objectProperty(key, value, p.computed, false);
    }
    if (p.computed) return { ...p, key: next() };
    return p;
  });
  return t.objectExpression(out as any);
}

