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
 * environment. An arrow that reads the enclosing function's `this`, `arguments` or
 * `new.target` gets them as the factory's last arguments (values, not environments); one
 * over its class method's `super` gets the class too (analyze/super-refs.ts). Object-literal methods and accessors are made the same way
 * (analyze/object-members.ts). Functions that capture anything else stay where they are
 * (they work, but cannot be saved).
 */
import type { NodePath } from '@babel/traverse';
import * as t from '../ast.js';
import type { FrameLayout } from './bindings.js';
import { homeOf, rewritableSuper, rewriteSupers } from './super-refs.js';
import { hasPrivateMembers, isConvertibleClass, privateNameStaysInside, superStaysInside } from './local-classes.js';
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
  n: NodePath<t.Function> | NodePath<t.Class>,
  holders: Set<string>,
  locals: Set<string>,
  lexicals: Set<string>,
  superHome: boolean,
): Free | Refused {
  const used = new Set<string>();
  const supers: NodePath<t.MemberExpression>[] = [];
  const lexicalsUsed = new Set<string>();
  const thisRefs: NodePath<t.ThisExpression>[] = [];
  let ok = true;
  let why = '';
  const refuse = (reason: string) => {
    if (ok) why = reason;
    ok = false;
  };
  n.traverse({
    ReferencedIdentifier(p: NodePath<t.Identifier | t.JSXIdentifier>) {
      if (!ok || !p.isIdentifier()) return;
      const name = p.node.name;
      // a name in a type (`this: typeof ctx`) is gone once the types are stripped
      if (p.parentPath.isTSTypeQuery() || p.parentPath.isTSQualifiedName() || p.parentPath.isTSTypeReference()) return;
      if (holders.has(name)) {
        used.add(name);
        return;
      }
      const b = p.scope.getBinding(name);
      if (!b) {
        // the enclosing function's `arguments` / `new.target` (prepare.ts made them frame
        // locals): passed to the factory as values
        if (lexicals.has(name)) lexicalsUsed.add(name);
        // another frame local the compiler introduced cannot be passed to a factory
        else if (locals.has(name)) refuse(`it reads the compiler's frame local ${name}`);
        return; // a global, or a name the compiler added at module level
      }
      if (b.scope.path.isProgram()) return;
      // bound inside the function itself?
      if (b.scope.path === n || b.scope.path.isDescendant(n)) return;
      // a parameter of the factory that made the enclosing tasklet function (it is nested in
      // another one): an environment or value of that closure, passed on the same way
      const made = (b.scope.path.node as any)._stacklessParams as FactoryParams | undefined;
      if (made !== undefined && b.kind === 'param') {
        if (made.envs.includes(name)) used.add(name);
        else lexicalsUsed.add(name);
        return;
      }
      refuse(`it captures '${name}' of ${describeOwner(b.scope.path)}, for which the compiler keeps no environment (a binding of a function that is not a tasklet function: closures of untransformed code cannot be re-created)`);
    },
    ThisExpression(p: NodePath<t.ThisExpression>) {
      if (!n.isArrowFunctionExpression()) return;
      // `this` belongs to the nearest non-arrow function around it: past n, the enclosing one
      let f = p.getFunctionParent();
      while (f && f !== n && f.isArrowFunctionExpression()) f = f.getFunctionParent();
      if (f === n) thisRefs.push(p);
    },
    Super(p: NodePath<t.Super>) {
      if (superStaysInside(p, n)) return;
      // an arrow over its class method's super: rewritten into look-ups on the method's class
      const member = superHome && n.isArrowFunctionExpression() ? rewritableSuper(p) : null;
      if (member) supers.push(member);
      else refuse(`it uses super (line ${p.node.loc?.start.line ?? '?'}) of ${n.isObjectMethod() ? 'its object literal' : 'an enclosing method'} in a way the compiler cannot re-create`);
    },
    PrivateName(p: NodePath<t.PrivateName>) {
      if (!privateNameStaysInside(p, n)) refuse(`it uses #${p.node.id.name} of an enclosing class`);
    },
    MetaProperty(p: NodePath<t.MetaProperty>) {
      if (n.isArrowFunctionExpression() && p.node.meta.name === 'new') refuse('it reads new.target of an enclosing function that is not a tasklet function');
    },
  });
  if (n.isArrowFunctionExpression()) {
    n.traverse({
      Identifier(p: NodePath<t.Identifier>) {
        if (p.node.name === 'arguments' && p.isReferencedIdentifier() && !p.scope.hasBinding('arguments', true)) refuse('it reads arguments of an enclosing function that is not a tasklet function');
      },
    });
  }
  return ok ? { used: [...used], thisRefs, lexicals: [...lexicalsUsed], supers } : { why };
}

function functionName(n: NodePath<t.Function> | NodePath<t.Class>, index: number): string {
  const node = n.node;
  if (t.isObjectMethod(node)) return (node.kind === 'method' ? '' : `${node.kind} `) + memberKey(node);
  if ((t.isFunctionExpression(node) || t.isFunctionDeclaration(node) || t.isClass(node)) && node.id) return node.id.name;
  const parent = n.parentPath;
  if (parent?.isVariableDeclarator() && t.isIdentifier(parent.node.id)) return parent.node.id.name;
  if (parent?.isAssignmentExpression() && t.isIdentifier(parent.node.left)) return parent.node.left.name;
  if (parent?.isAssignmentExpression() && t.isMemberExpression(parent.node.left) && t.isIdentifier(parent.node.left.property)) return parent.node.left.property.name;
  return `<anonymous ${index}>`;
}

/** The name JavaScript gives an anonymous function at this position (NamedEvaluation), if any. */
function inferredByJs(n: NodePath<t.Function> | NodePath<t.Class>): string | null {
  const p = n.parentPath;
  let name: string | null = null;
  if (p?.isVariableDeclarator() && t.isIdentifier(p.node.id) && p.node.init === n.node) name = p.node.id.name;
  else if (p?.isAssignmentExpression() && t.isIdentifier(p.node.left) && p.node.right === n.node) name = p.node.left.name;
  else if (p?.isObjectProperty() && !p.node.computed && p.node.value === n.node && t.isIdentifier(p.node.key)) name = p.node.key.name;
  else if (p?.isAssignmentPattern() && t.isIdentifier(p.node.left) && p.node.right === n.node) name = p.node.left.name;
  return name && t.isValidIdentifier(name) ? name : null;
}

type Site = NodePath<t.Function> | NodePath<t.Class>;

interface Free {
  used: string[];
  thisRefs: NodePath<t.ThisExpression>[];
  lexicals: string[];
  supers: NodePath<t.MemberExpression>[];
}
/** Why a function stays where it is (saved with its closure's refusal, SnapshotError UNSUPPORTED_CLOSURE). */
interface Refused {
  why: string;
}

/** What a factory's parameters are (kept on its node: a tasklet function inside it passes them on). */
interface FactoryParams {
  envs: string[];
}

function describeOwner(scope: NodePath): string {
  const node = scope.node as t.Node;
  const id = (t.isFunction(node) || t.isClass(node)) && 'id' in node && node.id ? node.id.name : null;
  const name = id ?? (t.isFunction(node) ? functionName(scope as NodePath<t.Function>, 0).replace(/^<anonymous \d+>$/, 'an anonymous function') : 'a block');
  return `${t.isFunction(node) ? 'function ' : ''}${name} (line ${node.loc?.start.line ?? '?'})`;
}

/** `lexicals`: the frame locals holding the function's `arguments` and `new.target`, if used. */
export function convertClosures(fn: NodePath<t.Function>, layout: FrameLayout, qualifiedName: string, env: ClosureEnv, lexicals: string[]): void {
  const holders = holderNames(layout);
  const locals = new Set([...layout.locals, ...lexicals]);
  const lexicalSet = new Set(lexicals);
  const home = homeOf(fn);
  const sites: Site[] = [];
  const pending: PendingAccessors = new Map();
  fn.traverse({
    Function(p: NodePath<t.Function>) {
      p.skip();
      if ((p.isFunctionExpression() || p.isArrowFunctionExpression()) && !(p.node as any)._stacklessInternal) sites.push(p);
      else if (p.isObjectMethod() && isConvertibleMember(p)) sites.push(p);
    },
    Class(p: NodePath<t.Class>) {
      p.skip();
      if (isConvertibleClass(p.node)) sites.push(p);
    },
  });
  sites.forEach((n, index) => {
    // a superclass is read where the class is created and passed to the factory as a value
    const heritage = n.isClass() ? n.node.superClass : null;
    if (n.isClass()) n.node.superClass = null;
    const free = freeHolders(n, holders, locals, lexicalSet, home !== null);
    if (n.isClass()) n.node.superClass = heritage;
    if ('why' in free) {
      markUnsaveable(n, free.why, env);
      return;
    }
    const { used, thisRefs } = free;
    const name = functionName(n, index);
    // values the factory takes after the environments, saved with the closure as they are:
    // an arrow's enclosing `this`, `arguments` and `new.target`, a class's superclass (read
    // where the class is created)
    const values: { param: string; arg: t.Expression }[] = free.lexicals.map((name) => ({ param: name, arg: t.identifier(name) }));
    if (thisRefs.length > 0 || free.supers.length > 0) {
      const param = env.unique('$this');
      for (const r of thisRefs) r.replaceWith(t.identifier(param));
      values.push({ param, arg: t.thisExpression() });
      if (free.supers.length > 0) {
        const homeParam = env.unique('$home');
        values.push({ param: homeParam, arg: t.identifier(home!.cls) });
        rewriteSupers(free.supers, homeParam, param, home!.isStatic, env.importRuntime);
      }
    }
    if (n.isClass() && n.node.superClass) {
      const param = env.unique('$super');
      values.push({ param, arg: n.node.superClass });
      n.node.superClass = t.identifier(param);
    }
    const args = (): t.Expression[] => [...used.map((h) => t.identifier(h)), ...values.map((v) => t.cloneNode(v.arg))];
    const factory = t.identifier(env.unique(`$mk_${name.replace(/[^A-Za-z0-9_$]/g, '_')}`));
    const metaName = t.identifier(env.unique('$factory'));
    const loc = n.node.loc?.start;
    const flag = (key: string, on: boolean) => (on ? [t.objectProperty(t.identifier(key), t.numericLiteral(1))] : []);
    const meta = t.objectExpression([
      t.objectProperty(t.identifier('id'), t.stringLiteral(`${env.moduleId}#${qualifiedName}/${name}`)),
      t.objectProperty(t.identifier('name'), t.stringLiteral(name)),
      t.objectProperty(t.identifier('file'), t.stringLiteral(env.moduleId)),
      t.objectProperty(t.identifier('line'), t.numericLiteral(loc?.line ?? 0)),
      t.objectProperty(t.identifier('column'), t.numericLiteral(loc?.column ?? 0)),
      ...(values.length > 0 ? [t.objectProperty(t.identifier('vs'), t.numericLiteral(values.length))] : []),
      ...flag('cls', n.isClass()),
      ...flag('pv', n.isClass() && hasPrivateMembers(n.node)),
    ]);
    const params = [...used, ...values.map((v) => v.param)].map((h) => t.identifier(h));
    const made = factoryResult(n, used, values.map((v) => v.param));
    // placed at the top of the module now, so the compile loop still finds a marked function
    // inside it; imports are hoisted, and the metadata is initialised before any user code runs
    const program = n.findParent((q) => q.isProgram()) as NodePath<t.Program>;
    const decl = t.functionDeclaration(factory, params, t.blockStatement(made));
    (decl as any)._stacklessParams = { envs: used } satisfies FactoryParams;
    program.unshiftContainer('body', [
      decl,
      t.variableDeclaration('const', [t.variableDeclarator(metaName, meta)]),
      t.expressionStatement(t.callExpression(t.identifier(env.importRuntime('registerFactory')), [t.cloneNode(metaName), t.cloneNode(factory)])),
    ]);
    const make = t.callExpression(t.cloneNode(factory), args());
    const call = t.callExpression(t.identifier(env.importRuntime('closure')), [make, t.cloneNode(metaName), ...args()]);
    (make as any)._stacklessInternal = true;
    (call as any)._stacklessInternal = true;
    layout.closureEnvs.delete(n.node);
    if (n.isObjectMethod()) replaceMember(n, call, pending);
    else if (n.isClassDeclaration()) n.replaceWith(t.variableDeclaration('let', [t.variableDeclarator(t.identifier(n.node.id!.name), call)]));
    else n.replaceWith(call);
  });
  if (pending.size > 0) defineAccessors(pending, env.importRuntime('accessors'));
}

/**
 * A function that stays where it is: created through `unsaveable(fn, why)`, so a snapshot
 * that meets it says why it cannot be saved. Only functions and classes written as
 * expressions are wrapped (a declaration or a member keeps its form and the generic message).
 */
function markUnsaveable(n: Site, why: string, env: ClosureEnv): void {
  if (!n.isFunctionExpression() && !n.isArrowFunctionExpression() && !n.isClassExpression()) return;
  // the wrapper hides the position that names an anonymous function: the runtime names it
  const name = inferredByJs(n);
  const where = `${why}; written at ${env.moduleId}:${n.node.loc?.start.line ?? '?'}`;
  const call = t.callExpression(t.identifier(env.importRuntime('unsaveable')), [n.node, t.stringLiteral(where), ...(name !== null ? [t.stringLiteral(name)] : [])]);
  (call as any)._stacklessInternal = true;
  n.replaceWith(call);
}

/** The factory's body: it returns the function or class written at the site. */
function factoryResult(n: Site, used: string[], valueParams: string[]): t.Statement[] {
  if (n.isObjectMethod()) return [t.returnStatement(memberFromLiteral(n.node))];
  let node = n.node as t.Expression;
  if (n.isClassDeclaration()) node = t.classExpression(n.node.id, n.node.superClass, n.node.body, n.node.decorators ?? []);
  // keep the name JavaScript infers at the original site: bind it to a const of that name
  const inferred = inferredByJs(n);
  const named = (t.isFunctionExpression(node) || t.isClassExpression(node)) && node.id;
  if (inferred && !used.includes(inferred) && !valueParams.includes(inferred) && !named) {
    return [t.variableDeclaration('const', [t.variableDeclarator(t.identifier(inferred), node)]), t.returnStatement(t.identifier(inferred))];
  }
  return [t.returnStatement(node)];
}
