/**
 * Object-literal methods, getters and setters written in a tasklet function, made through
 * closure factories (analyze/closures.ts) like any other closure:
 *
 *     { total: 0, add(x) { ... }, get size() { ... } }
 * becomes
 *     accessors({ total: 0, add: closure($mk_add(...), ...), size: undefined },
 *               "size", "get", closure($mk_get_size(...), ...))
 *
 * `$mk_add` returns `({ add(x) { ... } })["add"]`, so the closure stays a method (not
 * constructible, no `prototype`, its own name); `$mk_get_size` returns the getter of such a
 * literal. The placeholder keeps the accessor's place in the key order, and the runtime's
 * `accessors` turns it into the accessor once the object exists. A snapshot saves the
 * object with its accessors (docs/snapshot-format.md, "O" entries).
 */
import type { NodePath } from '@babel/traverse';
import * as t from '../ast.js';

/** The property key of a member written with a plain key, or null. */
export function memberKey(node: t.ObjectMethod): string | null {
  if (node.computed) return null;
  if (t.isIdentifier(node.key)) return node.key.name;
  if (t.isStringLiteral(node.key)) return node.key.value;
  if (t.isNumericLiteral(node.key)) return String(node.key.value);
  return null;
}

/**
 * Can this member be made through a factory? Methods with a plain key always; an accessor
 * only when its object has no spread and no computed key, and its key names accessors
 * only: the accessor is defined after the literal, which must not undo a later member.
 */
export function isConvertibleMember(p: NodePath<t.ObjectMethod>): boolean {
  const key = memberKey(p.node);
  if (key === null || key === '__proto__') return false;
  if (p.node.kind === 'method') return true;
  const obj = p.parent as t.ObjectExpression;
  for (const m of obj.properties) {
    if (t.isSpreadElement(m) || (m as t.ObjectProperty | t.ObjectMethod).computed) return false;
    const other = t.isObjectMethod(m) ? memberKey(m) : t.isIdentifier(m.key) ? m.key.name : t.isStringLiteral(m.key) ? m.key.value : t.isNumericLiteral(m.key) ? String(m.key.value) : null;
    if (other === key && !(t.isObjectMethod(m) && m.kind !== 'method')) return false;
  }
  return true;
}

/** What the member's factory returns: the method, getter or setter of a one-member literal. */
export function memberFromLiteral(node: t.ObjectMethod): t.Expression {
  const key = memberKey(node)!;
  const literal = t.objectExpression([node]);
  if (node.kind === 'method') return t.memberExpression(literal, t.stringLiteral(key), true);
  const descriptor = t.callExpression(t.memberExpression(t.identifier('Object'), t.identifier('getOwnPropertyDescriptor')), [literal, t.stringLiteral(key)]);
  (descriptor as any)._stacklessInternal = true;
  return t.memberExpression(descriptor, t.identifier(node.kind));
}

/** Accessors to define on each object literal once it exists: flat (key, 'get' | 'set', closure). */
export type PendingAccessors = Map<NodePath<t.ObjectExpression>, t.Expression[]>;

/** Puts the factory-made `closure` where the member was. */
export function replaceMember(p: NodePath<t.ObjectMethod>, closure: t.Expression, pending: PendingAccessors): void {
  const key = memberKey(p.node)!;
  const keyNode = t.isValidIdentifier(key) ? t.identifier(key) : t.stringLiteral(key);
  if (p.node.kind === 'method') {
    p.replaceWith(t.objectProperty(keyNode, closure));
    return;
  }
  const obj = p.parentPath as NodePath<t.ObjectExpression>;
  const list = pending.get(obj) ?? [];
  list.push(t.stringLiteral(key), t.stringLiteral(p.node.kind), closure);
  pending.set(obj, list);
  p.replaceWith(t.objectProperty(keyNode, t.identifier('undefined')));
}

/** Wraps each object literal that had accessors in the runtime's `accessors(obj, ...)`. */
export function defineAccessors(pending: PendingAccessors, helper: string): void {
  for (const [obj, entries] of pending) {
    const call = t.callExpression(t.identifier(helper), [obj.node, ...entries]);
    (call as any)._stacklessInternal = true;
    obj.replaceWith(call);
  }
}
