/**
 * Closure conversion for functions created inside a tasklet function. A nested
 * function whose free variables are only module-level names and the tasklet
 * function's environment objects is moved into a module-level *factory*:
 *
 *     function $mk_inner($e, $b1) { return function inner() { ... $e.x ... }; }
 *
 * and created with `closure($mk_inner($e, $b1), $factoryMeta, $e, $b1)`. The
 * runtime then knows each such closure's factory id and environments, so a
 * snapshot saves it by id plus environment (identity and sharing kept) and a
 * restore re-creates it without evaluating any code. Passing the environments
 * as arguments also gives a closure made in a loop its own iteration's
 * environment. An arrow that reads the enclosing function's `this` gets it as the
 * factory's last argument. Object-literal methods and accessors are made the same way
 * (analyze/object-members.ts). Functions that capture anything else stay where they are
 * (they work, but cannot be saved).
 */
import type { NodePath } from '@babel/traverse';
import * as t from '../ast.js';
import type { FrameLayout } from './bindings.js';
import { defineAccessors, isConvertibleMember, memberFromLiteral, memberKey, replaceMember, type PendingAccessors } from './object-members.js';

export interface ClosureEnv {
  unique: (base: string) => string;
  importRuntime: (exported: string) => string;
  moduleId: string;
}

function holderNames(layout: FrameLayout): Set<string> {
  const names = new Set<string>();
  if (layout.env) names.add(layout.env.name);
  for (const env of layout.blockEnvs.values()) names.add(env.name);
  return names;
}

/**
 * Holders the function reads and the `this` expressions in it that mean the enclosing
 * function's `this` (an arrow's, also through nested arrows), or null when it captures
 * something a factory cannot pass.
 */
function freeHolders(
  n: NodePath<t.Function>,
  holders: Set<string>,
  locals: Set<string>,
): { used: string[]; thisRefs: NodePath<t.ThisExpression>[] } | null {
  const used = new Set<string>();
  const thisRefs: NodePath<t.ThisExpression>[] = [];
  let ok = true;
  n.traverse({
    ReferencedIdentifier(p: NodePath<t.Identifier | t.JSXIdentifier>) {
      if (!ok || !p.isIdentifier()) return;
      const name = p.node.name;
      if (holders.has(name)) {
        used.add(name);
        return;
      }
      const b = p.scope.getBinding(name);
      if (!b) {
        // a frame local the compiler introduced (`$args`, ...) cannot be passed to a factory
        if (locals.has(name)) ok = false;
        return; // a global, or a name the compiler added at module level
      }
      if (b.scope.path.isProgram()) return;
      // bound inside the function itself?
      if (b.scope.path === n || b.scope.path.isDescendant(n)) return;
      ok = false;
    },
    ThisExpression(p: NodePath<t.ThisExpression>) {
      if (!n.isArrowFunctionExpression()) return;
      // `this` belongs to the nearest non-arrow function around it: past n, the enclosing one
      let f = p.getFunctionParent();
      while (f && f !== n && f.isArrowFunctionExpression()) f = f.getFunctionParent();
      if (f === n) thisRefs.push(p);
    },
    Super() {
      ok = false;
    },
    MetaProperty() {
      if (n.isArrowFunctionExpression()) ok = false;
    },
  });
  if (n.isArrowFunctionExpression()) {
    n.traverse({
      Identifier(p: NodePath<t.Identifier>) {
        if (p.node.name === 'arguments' && p.isReferencedIdentifier() && !p.scope.hasBinding('arguments', true)) ok = false;
      },
    });
  }
  return ok ? { used: [...used], thisRefs } : null;
}

function functionName(n: NodePath<t.Function>, index: number): string {
  const node = n.node;
  if (t.isObjectMethod(node)) return (node.kind === 'method' ? '' : `${node.kind} `) + memberKey(node);
  if ((t.isFunctionExpression(node) || t.isFunctionDeclaration(node)) && node.id) return node.id.name;
  const parent = n.parentPath;
  if (parent?.isVariableDeclarator() && t.isIdentifier(parent.node.id)) return parent.node.id.name;
  if (parent?.isAssignmentExpression() && t.isIdentifier(parent.node.left)) return parent.node.left.name;
  if (parent?.isAssignmentExpression() && t.isMemberExpression(parent.node.left) && t.isIdentifier(parent.node.left.property)) return parent.node.left.property.name;
  return `<anonymous ${index}>`;
}

/** The name JavaScript gives an anonymous function at this position (NamedEvaluation), if any. */
function inferredByJs(n: NodePath<t.Function>): string | null {
  const p = n.parentPath;
  let name: string | null = null;
  if (p?.isVariableDeclarator() && t.isIdentifier(p.node.id) && p.node.init === n.node) name = p.node.id.name;
  else if (p?.isAssignmentExpression() && t.isIdentifier(p.node.left) && p.node.right === n.node) name = p.node.left.name;
  else if (p?.isObjectProperty() && !p.node.computed && p.node.value === n.node && t.isIdentifier(p.node.key)) name = p.node.key.name;
  else if (p?.isAssignmentPattern() && t.isIdentifier(p.node.left) && p.node.right === n.node) name = p.node.left.name;
  return name && t.isValidIdentifier(name) ? name : null;
}

export function convertClosures(fn: NodePath<t.Function>, layout: FrameLayout, qualifiedName: string, env: ClosureEnv, extraLocals: string[]): void {
  const holders = holderNames(layout);
  const locals = new Set([...layout.locals, ...extraLocals]);
  const sites: NodePath<t.Function>[] = [];
  const pending: PendingAccessors = new Map();
  fn.traverse({
    Function(p: NodePath<t.Function>) {
      p.skip();
      if ((p.isFunctionExpression() || p.isArrowFunctionExpression()) && !(p.node as any)._stacklessInternal) sites.push(p);
      else if (p.isObjectMethod() && isConvertibleMember(p)) sites.push(p);
    },
    Class(p: NodePath<t.Class>) {
      p.skip();
    },
  });
  sites.forEach((n, index) => {
    const free = freeHolders(n, holders, locals);
    if (free === null) return;
    const { used, thisRefs } = free;
    const name = functionName(n, index);
    // an arrow reading the enclosing `this` gets it as the factory's last argument, saved
    // with the closure like an environment (the factory meta says so: `th: 1`)
    const thisName = thisRefs.length > 0 ? env.unique('$this') : null;
    if (thisName) for (const r of thisRefs) r.replaceWith(t.identifier(thisName));
    const args = (): t.Expression[] => [...used.map((h) => t.identifier(h)), ...(thisName ? [t.thisExpression()] : [])];
    const factory = t.identifier(env.unique(`$mk_${name.replace(/[^A-Za-z0-9_$]/g, '_')}`));
    const metaName = t.identifier(env.unique('$factory'));
    const loc = n.node.loc?.start;
    const meta = t.objectExpression([
      t.objectProperty(t.identifier('id'), t.stringLiteral(`${env.moduleId}#${qualifiedName}/${name}`)),
      t.objectProperty(t.identifier('name'), t.stringLiteral(name)),
      t.objectProperty(t.identifier('file'), t.stringLiteral(env.moduleId)),
      t.objectProperty(t.identifier('line'), t.numericLiteral(loc?.line ?? 0)),
      t.objectProperty(t.identifier('column'), t.numericLiteral(loc?.column ?? 0)),
      ...(thisName ? [t.objectProperty(t.identifier('th'), t.numericLiteral(1))] : []),
    ]);
    const params = [...used, ...(thisName ? [thisName] : [])].map((h) => t.identifier(h));
    const node = n.node as t.Expression;
    // keep the name JavaScript infers at the original site: bind it to a const of that name
    const inferred = n.isObjectMethod() ? null : inferredByJs(n);
    const body = n.isObjectMethod()
      ? [t.returnStatement(memberFromLiteral(n.node))]
      : inferred && !used.includes(inferred) && inferred !== thisName && !(t.isFunctionExpression(node) && node.id)
        ? [t.variableDeclaration('const', [t.variableDeclarator(t.identifier(inferred), node)]), t.returnStatement(t.identifier(inferred))]
        : [t.returnStatement(node)];
    // placed at the top of the module now, so the compile loop still finds a marked function
    // inside it; imports are hoisted, and the metadata is initialised before any user code runs
    const program = n.findParent((q) => q.isProgram()) as NodePath<t.Program>;
    program.unshiftContainer('body', [
      t.functionDeclaration(factory, params, t.blockStatement(body)),
      t.variableDeclaration('const', [t.variableDeclarator(metaName, meta)]),
      t.expressionStatement(t.callExpression(t.identifier(env.importRuntime('registerFactory')), [t.cloneNode(metaName), t.cloneNode(factory)])),
    ]);
    const make = t.callExpression(t.cloneNode(factory), args());
    const call = t.callExpression(t.identifier(env.importRuntime('closure')), [make, t.cloneNode(metaName), ...args()]);
    (make as any)._stacklessInternal = true;
    (call as any)._stacklessInternal = true;
    layout.closureEnvs.delete(n.node);
    if (n.isObjectMethod()) replaceMember(n, call, pending);
    else n.replaceWith(call);
  });
  if (pending.size > 0) defineAccessors(pending, env.importRuntime('accessors'));
}
