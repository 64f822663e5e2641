/**
 * Decides what must live in the frame record of one tasklet function, and
 * rewrites the function so the lowering sees only assignments:
 *
 * - every `var`, parameter and binding declared in a block that contains a
 *   call site becomes a *frame local*: declared once at the top of the compiled
 *   function, saved on unwind, restored on resume (block-scoped ones renamed to
 *   unique names first);
 * - a frame local that a nested function captures moves into an environment
 *   object (`$e.x`), so a closure created before a suspension and the resumed
 *   activation see the same variable; a captured binding declared inside a
 *   loop gets a fresh environment per iteration, as `let` requires;
 * - bindings of blocks without call sites stay native: they are never live
 *   across a suspension.
 */
import type { NodePath, Binding, Scope } from '@babel/traverse';
import * as t from '../ast.js';
import type { CallSites } from './callsites.js';

export interface BlockEnv {
  /** identifier of the environment variable, e.g. `$b1` */
  name: string;
  /** the block (or for statement) whose entry creates the environment */
  block: t.Node;
  fields: string[];
}

export interface FrameLayout {
  /** names of frame locals in declaration order (params first) */
  locals: string[];
  /** original names of frame locals, for `tasklet.frames` */
  originalNames: Map<string, string>;
  /** function-level environment (captured bindings not inside a loop), or null */
  env: { name: string; fields: string[]; params: string[] } | null;
  /** per-iteration environments keyed by the node that creates them */
  blockEnvs: Map<t.Node, BlockEnv>;
  /** nested functions/classes that capture a block environment, and which ones */
  closureEnvs: Map<t.Node, string[]>;
  /** frame local -> environment variable holding it, for captured ones */
  holders: Map<string, string>;
  /** bindings that moved to function level */
  hoisted: Set<Binding>;
  /** let/const/class bindings read where they may still be uninitialised, by the node whose entry starts their TDZ */
  tdz: Map<t.Node, t.LVal[]>;
}

function isLoop(node: t.Node): boolean {
  return t.isLoop(node);
}

/** Is `path` (inside the function) nested in a loop of the function that the lowering explodes? */
function insideLoweredLoop(path: NodePath, fn: NodePath, cs: CallSites): boolean {
  let p: NodePath | null = path;
  while (p && p !== fn) {
    if (isLoop(p.node) && cs.contains(p.node)) return true;
    p = p.parentPath;
  }
  return false;
}

function collectScopes(fn: NodePath<t.Function>): Scope[] {
  const scopes: Scope[] = [fn.scope];
  fn.traverse({
    Scopable(p) {
      if (p.isFunction() || p.isClass()) {
        p.skip();
        return;
      }
      if (p.scope !== fn.scope && p.scope.path === p && !scopes.includes(p.scope)) scopes.push(p.scope);
    },
  });
  return scopes;
}

/**
 * A block binding a nested function or class captures must live in an environment object
 * the closure's factory can be given, even when nothing in the block can suspend: such
 * blocks are laid out and lowered as if they held a call site (and a loop among them is
 * never kept as a native nest, which would not create its per-iteration environments).
 */
function forceCapturedBlocks(fn: NodePath<t.Function>, scopes: Scope[], cs: CallSites): void {
  if (scopes.length < 2 || !createsFunctions(fn.node.body)) return; // nothing can capture
  for (const scope of scopes) {
    if (scope === fn.scope) continue;
    const decider = t.isCatchClause(scope.block) ? scope.path.parentPath!.node : scope.block;
    for (const binding of Object.values(scope.bindings)) {
      if (binding.kind === 'var' || binding.kind === 'hoisted' || binding.kind === 'local' || binding.kind === 'module') continue;
      if (isCaptured(binding, fn)) {
        cs.force(decider);
        break;
      }
    }
  }
}

/**
 * Does this code create functions or classes? (A tasklet function that does is compiled even
 * without a call site: its closures must be made through factories to be saveable.)
 */
export function createsFunctions(body: t.Node): boolean {
  let found = false;
  t.traverseFast(body, (n) => {
    if (t.isFunction(n) || t.isClass(n)) found = true;
  });
  return found;
}

function isCaptured(binding: Binding, fn: NodePath): boolean {
  const outside = (p: NodePath) => p.getFunctionParent() !== fn || p.findParent((q) => q.isClass() && q.isDescendant(fn)) !== null;
  return binding.referencePaths.some(outside) || binding.constantViolations.some(outside);
}

/** Replace identifier `name` inside an assignment target/pattern with `make()`. */
function replaceInTarget(path: NodePath, name: string, make: () => t.Expression): void {
  const visit = (p: NodePath | NodePath[] | null | undefined): void => {
    if (!p) return;
    if (Array.isArray(p)) return p.forEach(visit);
    if (p.isIdentifier()) {
      if (p.node.name === name) {
        const parent = p.parentPath;
        if (parent?.isObjectProperty() && parent.node.shorthand) parent.node.shorthand = false;
        p.replaceWith(make());
      }
      return;
    }
    if (p.isMemberExpression()) return;
    if (p.isAssignmentPattern()) return visit(p.get('left'));
    if (p.isArrayPattern()) return visit(p.get('elements') as NodePath[]);
    if (p.isObjectPattern()) {
      for (const prop of p.get('properties')) {
        if (prop.isRestElement()) visit(prop.get('argument'));
        else visit((prop as NodePath<t.ObjectProperty>).get('value') as NodePath);
      }
      return;
    }
    if (p.isRestElement()) return visit(p.get('argument'));
  };
  if (path.isAssignmentExpression()) visit(path.get('left'));
  else if (path.isUpdateExpression()) visit(path.get('argument'));
  else if (path.isForXStatement()) visit(path.get('left'));
  else if (path.isVariableDeclarator()) visit(path.get('id'));
}

export function layoutFrame(
  fn: NodePath<t.Function>,
  cs: CallSites,
  reserved: Set<string>,
  fileUnique: (base: string) => string,
  tdzName: () => string,
  tdzWriteName: () => string,
): FrameLayout {
  const layout: FrameLayout = {
    locals: [],
    originalNames: new Map(),
    env: null,
    blockEnvs: new Map(),
    closureEnvs: new Map(),
    holders: new Map(),
    hoisted: new Set(),
    tdz: new Map(),
  };
  const taken = new Set<string>(reserved);
  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name) || fn.scope.hasBinding(name) && name !== base; i++) name = `${base}$${i}`;
    taken.add(name);
    return name;
  };

  const scopes = collectScopes(fn);
  forceCapturedBlocks(fn, scopes, cs);
  const envFields: string[] = [];
  const envParams: string[] = [];
  let envName: string | null = null;

  for (const scope of scopes) {
    const isFnScope = scope === fn.scope;
    for (const [name, binding] of Object.entries(scope.bindings)) {
      if (binding.kind === 'local' || binding.kind === 'module' || name === 'this') continue;
      const block = scope.block;
      // a catch clause's parameter is assigned by the lowered try around it
      const decider = t.isCatchClause(block) ? scope.path.parentPath!.node : block;
      const hoisted =
        isFnScope || binding.kind === 'var' || binding.kind === 'hoisted' || cs.contains(decider);
      if (!hoisted) continue;
      // a block-scoped binding moves to function level: give it a name nothing else uses
      // a block binding moving to function level takes a name used nowhere else in the
      // file, so it cannot capture a reference to an outer binding or a global
      let local = name;
      // `__proto__` is no ordinary key of a frame record or environment object
      if (!isFnScope || taken.has(name) || name === '__proto__') {
        local = fileUnique(name);
        taken.add(local);
        scope.rename(name, local);
      } else taken.add(name);
      layout.originalNames.set(local, name);
      const b = scope.getBinding(local) ?? binding;
      layout.hoisted.add(b);
      const captured = isCaptured(b, fn);
      const tdzRefs = temporalDeadZoneRefs(b, fn);
      const tdzWrites = temporalDeadZoneWrites(b, fn);
      const constViolations = b.kind === 'const' ? [...b.constantViolations] : [];
      const finish = (target: () => t.LVal) => {
        for (const v of constViolations) throwOnConstAssignment(v);
        if (tdzRefs.length === 0 && tdzWrites.length === 0) return;
        for (const r of tdzRefs) r.replaceWith(tdzCheck(r.node as t.Expression, name, tdzName()));
        for (const w of tdzWrites) guardWrite(w, name, tdzWriteName());
        const key = scope === fn.scope ? fn.node : scope.block;
        const list = layout.tdz.get(key) ?? [];
        list.push(target());
        layout.tdz.set(key, list);
      };
      if (!captured) {
        layout.locals.push(local);
        finish(() => t.identifier(local));
        continue;
      }
      const perIteration = !isFnScope && binding.kind !== 'var' && (isLoop(block) || insideLoweredLoop(scope.path, fn, cs));
      let holder: string;
      if (perIteration) {
        let env = layout.blockEnvs.get(block);
        if (!env) {
          env = { name: unique('$b'), block, fields: [] };
          layout.blockEnvs.set(block, env);
          layout.locals.push(env.name);
        }
        env.fields.push(local);
        holder = env.name;
      } else {
        if (envName === null) envName = unique('$e');
        envFields.push(local);
        if (b.kind === 'param') envParams.push(local);
        holder = envName;
      }
      layout.holders.set(local, holder);
      const make = () => t.memberExpression(t.identifier(holder), t.identifier(local));
      // inside its own body a class's name is the class's inner, immutable binding
      const ownClassBody = (p: NodePath) => b.path.isClassDeclaration() && p.isDescendant(b.path);
      for (const ref of b.referencePaths) {
        if (ownClassBody(ref)) continue;
        const parent = ref.parentPath;
        if (parent?.isObjectProperty() && parent.node.shorthand && parent.node.value === ref.node) parent.node.shorthand = false;
        if (parent?.isExportSpecifier()) continue;
        // a name in a type (`typeof Item`) stays a name: types are stripped, never evaluated
        if (parent?.isTSTypeQuery() || parent?.isTSQualifiedName()) continue;
        ref.replaceWith(make());
      }
      for (const v of b.constantViolations) if (!ownClassBody(v)) replaceInTarget(v, local, make);
      finish(() => make());
      if (perIteration) {
        // closures created in the block must keep the environment of their own iteration
        for (const ref of b.referencePaths.concat(b.constantViolations)) {
          let p: NodePath | null = ref;
          let outermost: NodePath | null = null;
          while (p && p !== fn) {
            if (p.isFunction() || p.isClass()) outermost = p;
            p = p.parentPath;
          }
          if (outermost) {
            const list = layout.closureEnvs.get(outermost.node) ?? [];
            if (!list.includes(holder)) list.push(holder);
            layout.closureEnvs.set(outermost.node, list);
          }
        }
      }
    }
  }
  if (envName !== null) {
    layout.env = { name: envName, fields: envFields, params: envParams };
    layout.locals.push(envName);
  }
  return layout;
}

/**
 * References that may run before the binding is initialised: inside a nested
 * function, or textually before the end of the declaration (which covers a
 * read earlier in a loop body and `const x = f(x)`).
 */
function mayBeInTdz(b: Binding, fn: NodePath, r: NodePath): boolean {
  // a switch body is one scope: another case can run without the declaration having run
  if (t.isSwitchStatement(b.scope.block)) return true;
  const declEnd = b.path.node.end ?? Infinity;
  // inside a closure, what matters is where the closure is created: one created after
  // the declaration can only run once the binding is initialised
  let site: NodePath = r;
  for (let p: NodePath | null = r; p && p !== fn; p = p.parentPath) if (p.isFunction() || p.isClass()) site = p;
  return (site.node.start ?? 0) < declEnd;
}

function temporalDeadZoneRefs(b: Binding, fn: NodePath): NodePath[] {
  if ((b.kind !== 'let' && b.kind !== 'const') || b.path.isCatchClause() || b.path.isClassDeclaration()) return [];
  // declarations the compiler wrote (parameters moved into the body) run before any user code
  if (b.path.node.start == null) return [];
  return b.referencePaths.filter((r) => {
    if (r.parentPath?.isExportSpecifier()) return false;
    // a write target cannot be wrapped in a check (the write itself is not checked)
    if (r.parentPath?.isUpdateExpression() || (r.parentPath?.isAssignmentExpression() && r.parentPath.node.left === r.node)) return false;
    return mayBeInTdz(b, fn, r);
  });
}

/** Plain assignments that may hit the binding in its TDZ: the right side runs, then the write throws. */
function temporalDeadZoneWrites(b: Binding, fn: NodePath): NodePath<t.AssignmentExpression>[] {
  if (b.kind !== 'let' || b.path.isCatchClause() || b.path.node.start == null) return [];
  return b.constantViolations.filter(
    (v): v is NodePath<t.AssignmentExpression> => v.isAssignmentExpression() && v.node.operator === '=' && t.isIdentifier(v.node.left) && mayBeInTdz(b, fn, v),
  );
}

/**
 * `x = rhs` where x may be in its TDZ: `x = tdzWrite(rhs, x, "x")`, which returns rhs or
 * throws the ReferenceError once rhs has run (a runtime helper, not an inline arrow: while
 * rhs suspends, the callee waits in a frame temporary and must be saveable).
 */
function guardWrite(v: NodePath<t.AssignmentExpression>, name: string, helper: string): void {
  const call = t.callExpression(t.identifier(helper), [v.node.right, t.cloneNode(v.node.left as t.Expression), t.stringLiteral(name)]);
  (call as any)._stacklessInternal = true;
  v.node.right = call;
}

/** `x` read where it may be in its TDZ: `(x === TDZ ? <throw ReferenceError> : x)` */
function tdzCheck(read: t.Expression, name: string, sentinel: string): t.Expression {
  return t.conditionalExpression(
    t.binaryExpression('===', t.cloneNode(read), t.identifier(sentinel)),
    throwing('ReferenceError', `Cannot access '${name}' before initialization`),
    read,
  );
}

function throwing(cls: string, message: string): t.Expression {
  const arrow = t.arrowFunctionExpression([], t.blockStatement([t.throwStatement(t.newExpression(t.identifier(cls), [t.stringLiteral(message)]))]));
  (arrow as any)._stacklessInternal = true;
  const call = t.callExpression(arrow, []);
  (call as any)._stacklessInternal = true;
  return call;
}

/** Assigning a const evaluates the right-hand side, then throws as JavaScript does. */
function throwOnConstAssignment(v: NodePath): void {
  const err = throwing('TypeError', 'Assignment to constant variable.');
  if (v.isAssignmentExpression()) v.replaceWith(t.sequenceExpression([v.node.right, err]));
  else if (v.isUpdateExpression()) v.replaceWith(err);
}
