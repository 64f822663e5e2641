/**
 * `super` in an arrow written in a class method (`() => super.greet()`): the arrow cannot
 * keep it when it moves into a closure factory, so its `super.x` reads, `super.x(...)`
 * calls and `super.x = v` writes become runtime look-ups on the method's class, which the
 * factory receives as a value (`$home`, saved by reference or as a closure) together with
 * the method's `this`:
 *
 *     super.greet(a)  ->  superGet($home, 0, "greet", $this).call($this, a)
 *
 * (`0`/`1`: an instance or a static method, i.e. the home object is `$home.prototype` or
 * `$home` itself), which is what the native look-up does (GetPrototypeOf of the home object).
 */
import type { NodePath } from '@babel/traverse';
import * as t from '../ast.js';

/** A `super.x` / `super[x]` member expression the rewrite handles, or null. */
export function rewritableSuper(p: NodePath<t.Super>): NodePath<t.MemberExpression> | null {
  const member = p.parentPath;
  if (!member?.isMemberExpression() || member.node.object !== p.node) return null;
  const use = member.parentPath;
  if (use?.isUpdateExpression()) return null;
  if (use?.isAssignmentExpression() && use.node.left === member.node && use.node.operator !== '=') return null;
  // a destructuring target (`[super.x] = xs`) is a write the rewrite does not know
  if (use && (use.isArrayPattern() || use.isObjectProperty() || use.isRestElement() || use.isForXStatement() || use.isAssignmentPattern())) return null;
  return member;
}

/** The class and "static" flag of the class method `fn`, if it is one with a name. */
export function homeOf(fn: NodePath<t.Function>): { cls: string; isStatic: boolean } | null {
  if (!fn.isClassMethod() && !fn.isClassPrivateMethod()) return null;
  if (fn.node.kind === 'constructor') return null;
  const cls = fn.parentPath.parentPath;
  if (!cls?.isClass() || !cls.node.id) return null;
  return { cls: cls.node.id.name, isStatic: fn.node.static === true };
}

/** Rewrites each `super` member expression into runtime look-ups (see above). */
export function rewriteSupers(members: NodePath<t.MemberExpression>[], home: string, receiver: string, isStatic: boolean, helper: (name: string) => string): void {
  for (const m of members) {
    const key = m.node.computed ? (m.node.property as t.Expression) : t.stringLiteral((m.node.property as t.Identifier).name);
    const flag = t.numericLiteral(isStatic ? 1 : 0);
    const use = m.parentPath;
    if (use.isAssignmentExpression() && use.node.left === m.node) {
      use.replaceWith(internal(t.callExpression(t.identifier(helper('superSet')), [t.identifier(home), flag, key, use.node.right, t.identifier(receiver)])));
      continue;
    }
    const read = internal(t.callExpression(t.identifier(helper('superGet')), [t.identifier(home), flag, key, t.identifier(receiver)]));
    if ((use.isCallExpression() || use.isOptionalCallExpression()) && use.node.callee === m.node) {
      // the call stays a call site: only the look-up is the runtime's
      use.node.callee = t.memberExpression(read, t.identifier('call'));
      use.node.arguments.unshift(t.identifier(receiver));
      continue;
    }
    m.replaceWith(read);
  }
}

function internal<T extends t.Node>(node: T): T {
  (node as any)._stacklessInternal = true;
  return node;
}
