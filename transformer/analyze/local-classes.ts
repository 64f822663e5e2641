/**
 * Classes written in tasklet functions are made through closure factories
 * (analyze/closures.ts): the factory evaluates the class definition again when a snapshot
 * is restored, so only classes whose definition runs no user code qualify: no static field
 * initialisers or static blocks, no decorators, computed keys only of well-known symbols,
 * and a superclass that is a name or a property of one (read where the class is created
 * and given to the factory as a value, so the restored class extends the restored base).
 */
import type { NodePath } from '@babel/traverse';
import * as t from '../ast.js';

export function isConvertibleClass(node: t.Class): boolean {
  if ((node as any)._stacklessInternal || (node.decorators?.length ?? 0) > 0) return false;
  if (node.superClass && !isPlainReference(node.superClass)) return false;
  for (const m of node.body.body) {
    if (t.isTSIndexSignature(m)) continue;
    if (t.isStaticBlock(m) || t.isClassAccessorProperty(m)) return false;
    if ((m as any).decorators?.length) return false;
    if ((t.isClassProperty(m) || t.isClassPrivateProperty(m)) && m.static && m.value) return false;
    if ('computed' in m && m.computed && !isWellKnownSymbol((m as t.ClassMethod).key)) return false;
  }
  return true;
}

function isPlainReference(e: t.Expression): boolean {
  if (t.isIdentifier(e)) return true;
  return t.isMemberExpression(e) && !e.computed && isPlainReference(e.object as t.Expression);
}

function isWellKnownSymbol(key: t.Node): boolean {
  return t.isMemberExpression(key) && !key.computed && t.isIdentifier(key.object, { name: 'Symbol' }) && t.isIdentifier(key.property);
}

/** Does the class have `#private` members? Its instances then cannot be copied. */
export function hasPrivateMembers(node: t.Class): boolean {
  return node.body.body.some((m) => t.isClassPrivateProperty(m) || t.isClassPrivateMethod(m));
}

/**
 * Is the `super` at `p` one a factory-made `n` can keep? `super` belongs to the nearest
 * method (or class field) around it, arrows looked through: fine when that lies inside `n`
 * (a class keeps its own home object), not when it is `n` itself (an object-literal method
 * would get the factory's literal as its home) or outside `n` (an arrow over a method's super).
 */
export function superStaysInside(p: NodePath, n: NodePath): boolean {
  for (let q: NodePath | null = p.parentPath; q; q = q.parentPath) {
    if (q === n) return n.isClass();
    const owner = (q.isFunction() && !q.isArrowFunctionExpression()) || q.isClassProperty() || q.isClassPrivateProperty() || q.isStaticBlock();
    if (owner) return q.isDescendant(n);
  }
  return false;
}

/**
 * Is the class declaring the `#name` at `p` `n` or inside it? A private name of an
 * enclosing class is only visible in that class's body: code using it cannot move out.
 */
export function privateNameStaysInside(p: NodePath<t.PrivateName>, n: NodePath): boolean {
  const name = p.node.id.name;
  for (let q: NodePath | null = p.parentPath; q; q = q.parentPath) {
    if (q.isClass() && q.node.body.body.some((m) => (t.isClassPrivateProperty(m) || t.isClassPrivateMethod(m)) && m.key.id.name === name)) {
      return q === n || q.isDescendant(n);
    }
    if (q === n) return false;
  }
  return false;
}
