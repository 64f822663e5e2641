/**
 * Normalises a marked function before its frame is laid out:
 * - an arrow becomes a named `function` (compiled code needs to name itself
 *   to check who called it and to be re-entered); its `this`, `arguments` and
 *   `new.target` are read through aliases of the enclosing function;
 * - parameters with defaults or patterns move into the body, so resuming
 *   never re-evaluates them;
 * - `arguments` and `new.target` become frame locals.
 * Returns the expression compiled code uses to name the function itself.
 */
import type { NodePath } from '@babel/traverse';
import * as t from '../ast.js';
import type { Diagnostic } from '../types.js';

export interface Prepared {
  fn: NodePath<t.Function>;
  /** names itself at run time, or null when no expression can */
  self: t.Expression | null;
  usesThis: boolean;
  /** frame local holding `arguments`, if used */
  argsLocal: string | null;
  /** frame local holding `new.target`, if used */
  newTargetLocal: string | null;
  /** qualified name for function ids and stack frames */
  qualifiedName: string;
  /** name of the module constant with this function's metadata */
  metaName: string;
  /**
   * When set, "was I called by compiled code" is `$tk` carrying this metadata
   * (object literal methods, tagged at creation) rather than `$tk === self`.
   */
  markedByMeta: boolean;
  /**
   * Did preparing move or replace code in or around the function (so Babel's bindings and
   * paths of it are stale and the caller must crawl its scope again)?
   */
  changed: boolean;
}

export interface PrepareEnv {
  file: string;
  source: string;
  diagnostics: Diagnostic[];
  unique: (base: string) => string;
  /** local name of a runtime export, importing it on first use */
  importRuntime: (exported: string) => string;
}


/** The name JavaScript would infer for an anonymous function at this position. */
function inferredName(path: NodePath): string | null {
  const parent = path.parentPath;
  if (!parent) return null;
  if (parent.isVariableDeclarator() && t.isIdentifier(parent.node.id)) return parent.node.id.name;
  if (parent.isAssignmentExpression() && t.isIdentifier(parent.node.left)) return parent.node.left.name;
  if (parent.isObjectProperty() && !parent.node.computed && t.isIdentifier(parent.node.key)) return parent.node.key.name;
  if (parent.isClassProperty() && !parent.node.computed && t.isIdentifier(parent.node.key)) return parent.node.key.name;
  if (parent.isObjectProperty() && !parent.node.computed && t.isStringLiteral(parent.node.key)) return parent.node.key.value;
  if (parent.isClassPrivateProperty()) return '#' + parent.node.key.id.name;
  if (parent.isAssignmentPattern() && t.isIdentifier(parent.node.left) && parent.node.right === path.node) return parent.node.left.name;
  return null;
}

function qualify(path: NodePath<t.Function>): string {
  const parts: string[] = [];
  let p: NodePath | null = path;
  while (p) {
    if (p.isFunction()) {
      let name: string | null = null;
      if ((p.isFunctionDeclaration() || p.isFunctionExpression()) && p.node.id) name = p.node.id.name;
      else if ((p.isClassMethod() || p.isObjectMethod()) && t.isIdentifier(p.node.key)) name = p.node.key.name;
      else if (p.isClassPrivateMethod()) name = '#' + p.node.key.id.name;
      else name = inferredName(p) ?? '<anonymous>';
      // a method of `const obj = { m() {} }` (or `m: () => ...`) is `obj.m`: two objects may both have an `m`
      const literal = p.isObjectMethod() ? p.parentPath : p.parentPath?.isObjectProperty() && p.parentPath.node.value === p.node ? p.parentPath.parentPath : null;
      if (literal?.isObjectExpression()) {
        const owner = objectConstant(literal);
        if (owner !== null) name = `${owner}.${name}`;
      }
      if (p.isClassMethod() || p.isClassPrivateMethod()) {
        const cls = p.parentPath?.parentPath;
        const cname = cls && (cls.isClassDeclaration() || cls.isClassExpression()) && cls.node.id ? cls.node.id.name : inferredNameOfClass(cls);
        name = `${cname ?? '<class>'}.${(p.node as any).static ? 'static ' : ''}${(p.node as any).kind === 'get' ? 'get ' : (p.node as any).kind === 'set' ? 'set ' : ''}${name}`;
      }
      parts.unshift(name);
    }
    p = p.parentPath;
  }
  return parts.join('/');
}

/**
 * The constant an object literal initialises (`const obj = {...}`, also once wrapped in the
 * `markObject(...)` call prepare adds), or null.
 */
export function objectConstant(obj: NodePath<t.ObjectExpression>): string | null {
  let at: NodePath = obj;
  if (at.parentPath?.isCallExpression() && (at.parentPath.node as any)._stacklessInternal && at.parentPath.node.arguments[0] === at.node) at = at.parentPath;
  while (at.parentPath?.isTSAsExpression() || at.parentPath?.isTSSatisfiesExpression() || at.parentPath?.isTSNonNullExpression() || at.parentPath?.isParenthesizedExpression()) at = at.parentPath;
  const d = at.parentPath;
  if (!d?.isVariableDeclarator() || d.node.init !== at.node || !t.isIdentifier(d.node.id)) return null;
  return (d.parentPath as NodePath<t.VariableDeclaration>).node.kind === 'const' ? d.node.id.name : null;
}

function inferredNameOfClass(cls: NodePath | null | undefined): string | null {
  return cls ? inferredName(cls) : null;
}

/**
 * What a plain walk (no paths) sees of `this`/`super`/`arguments`/`new.target` in `fn`'s own
 * body (through arrows, as lexicalUses): `this` or `super` is used; something that may be
 * `arguments` or `new.target` is there (then lexicalUses must run to replace it).
 */
function lexicalScan(fn: t.Function): { usesThis: boolean; needsReplacing: boolean } {
  const found = { usesThis: false, needsReplacing: false };
  const walk = (node: t.Node): void => {
    switch (node.type) {
      case 'ThisExpression':
      case 'Super':
        found.usesThis = true;
        return;
      case 'Identifier':
        if (node.name === 'arguments') found.needsReplacing = true;
        return;
      case 'MetaProperty':
        if (node.meta.name === 'new' && node.property.name === 'target') found.needsReplacing = true;
        return;
    }
    if ((t.isFunction(node) && node.type !== 'ArrowFunctionExpression') || t.isClass(node)) return;
    for (const key of t.VISITOR_KEYS[node.type] ?? []) {
      const child = (node as any)[key];
      if (Array.isArray(child)) {
        for (const c of child) if (c !== null && typeof c === 'object' && typeof c.type === 'string') walk(c);
      } else if (child !== null && typeof child === 'object' && typeof child.type === 'string') walk(child);
    }
  };
  for (const key of t.VISITOR_KEYS[fn.type] ?? []) {
    const child = (fn as any)[key];
    if (Array.isArray(child)) {
      for (const c of child) if (c !== null && typeof c === 'object' && typeof c.type === 'string') walk(c);
    } else if (child !== null && typeof child === 'object' && typeof child.type === 'string') walk(child);
  }
  return found;
}

/** Replace `this`/`arguments`/`new.target`/`super` seen by `fn`'s own body (through arrows). */
function lexicalUses(fn: NodePath<t.Function>, visit: (p: NodePath, what: 'this' | 'arguments' | 'new.target' | 'super') => void): void {
  fn.traverse({
    Function(p) {
      if (!p.isArrowFunctionExpression()) p.skip();
    },
    Class(p) {
      p.skip();
    },
    ThisExpression(p) {
      visit(p, 'this');
    },
    Super(p) {
      visit(p, 'super');
    },
    Identifier(p) {
      if (p.node.name === 'arguments' && p.isReferencedIdentifier() && !p.scope.hasBinding('arguments', true)) visit(p, 'arguments');
    },
    MetaProperty(p) {
      if (p.node.meta.name === 'new' && p.node.property.name === 'target') visit(p, 'new.target');
    },
  });
}

export function prepareFunction(path: NodePath<t.Function>, env: PrepareEnv): Prepared | null {
  let fn = path;
  const qualifiedName = qualify(path);
  let self: t.Expression | null = null;
  let markedByMeta = false;
  let changed = false;
  const metaName = env.unique('$meta');

  if (fn.isFunctionDeclaration() || (fn.isFunctionExpression() && fn.node.id)) {
    self = t.identifier(fn.node.id!.name);
  } else if (fn.isArrowFunctionExpression() || fn.isFunctionExpression()) {
    // cannot name itself: tagged with its metadata where it is created
    markedByMeta = true;
    fn = tagAtCreation(fn, metaName, env);
  } else if (fn.isObjectMethod()) {
    // an object literal has no name to reach it by: tag its functions at creation
    const node = fn.node;
    if (!node.computed && (t.isIdentifier(node.key) || t.isStringLiteral(node.key) || t.isNumericLiteral(node.key))) {
      const key = t.isIdentifier(node.key) ? t.stringLiteral(node.key.name) : t.isStringLiteral(node.key) ? t.stringLiteral(node.key.value) : t.numericLiteral(node.key.value);
      const slot = node.kind === 'get' ? 'get' : node.kind === 'set' ? 'set' : 'value';
      markedByMeta = true;
      const obj = fn.parentPath as NodePath<t.ObjectExpression>;
      const entries = [t.cloneNode(key), t.stringLiteral(slot), t.identifier(metaName)];
      const wrapper = obj.parentPath;
      const mark = env.importRuntime('markObject');
      if (wrapper.isCallExpression() && t.isIdentifier(wrapper.node.callee, { name: mark }) && wrapper.node.arguments[0] === obj.node) {
        wrapper.node.arguments.push(...entries);
      } else {
        const call = t.callExpression(t.identifier(mark), [obj.node, ...entries]);
        (call as any)._stacklessInternal = true;
        obj.replaceWith(call);
      }
    }
  } else if (fn.isClassMethod() || fn.isClassPrivateMethod()) {
    const cls = fn.parentPath.parentPath as NodePath<t.Class>;
    if (!cls.node.id) {
      cls.node.id = t.identifier(env.unique(inferredName(cls) ?? '$Class'));
      changed = true;
    }
    const C = t.identifier(cls.node.id.name);
    const node = fn.node;
    const holder = node.static ? C : t.memberExpression(C, t.identifier('prototype'));
    if (fn.isClassPrivateMethod()) {
      self = t.memberExpression(node.static ? C : t.thisExpression(), t.cloneNode((node as t.ClassPrivateMethod).key));
    } else if (!node.computed && (t.isIdentifier(node.key) || t.isStringLiteral(node.key))) {
      const keyName = t.isIdentifier(node.key) ? node.key.name : node.key.value;
      if (node.kind === 'get' || node.kind === 'set') {
        self = t.memberExpression(
          t.callExpression(t.memberExpression(t.identifier('Object'), t.identifier('getOwnPropertyDescriptor')), [holder, t.stringLiteral(keyName)]),
          t.identifier(node.kind),
        );
      } else self = t.memberExpression(holder, t.identifier(keyName));
    }
  }

  const varInits = splitShadowedParams(fn, env);
  // parameters with defaults or patterns are evaluated in the body, once
  const params = fn.node.params;
  const moved: t.Statement[] = [];
  let sawDefault = false;
  params.forEach((param, i) => {
    if (t.isIdentifier(param) || t.isTSParameterProperty(param)) {
      if (sawDefault) params[i] = t.assignmentPattern(param as t.Identifier, t.identifier('undefined'));
      return;
    }
    if (t.isRestElement(param) && t.isIdentifier(param.argument)) return;
    const tmp = t.identifier(env.unique(`$p${i}`));
    let pattern: t.LVal = param as t.LVal;
    let replacement: t.Identifier | t.AssignmentPattern | t.RestElement = tmp;
    if (t.isAssignmentPattern(param)) {
      sawDefault = true;
      replacement = t.assignmentPattern(tmp, t.identifier('undefined'));
      pattern = param;
    } else if (t.isRestElement(param)) {
      replacement = t.restElement(tmp);
      pattern = param.argument as t.LVal;
    } else if (sawDefault) replacement = t.assignmentPattern(tmp, t.identifier('undefined'));
    params[i] = replacement;
    const id = t.isAssignmentPattern(pattern) ? pattern.left : pattern;
    if (t.isAssignmentPattern(pattern) && t.isIdentifier(pattern.left)) {
      // `x = default` as an assignment keeps the name an anonymous default function gets
      moved.push(t.variableDeclaration('let', [t.variableDeclarator(t.identifier(pattern.left.name), t.identifier(tmp.name))]));
      moved.push(
        t.ifStatement(
          t.binaryExpression('===', t.identifier(pattern.left.name), t.identifier('undefined')),
          t.expressionStatement(t.assignmentExpression('=', t.identifier(pattern.left.name), pattern.right)),
        ),
      );
      return;
    }
    const init: t.Expression = t.isAssignmentPattern(pattern)
      ? t.conditionalExpression(t.binaryExpression('===', t.identifier(tmp.name), t.identifier('undefined')), pattern.right, t.identifier(tmp.name))
      : t.identifier(tmp.name);
    moved.push(t.variableDeclaration('let', [t.variableDeclarator(id as t.LVal, init)]));
  });
  moved.push(...varInits);
  const body = fn.get('body') as NodePath<t.BlockStatement>;
  if (moved.length) body.unshiftContainer('body', moved);

  // this / arguments / new.target of the function itself
  let usesThis = false;
  let argsLocal: string | null = null;
  let newTargetLocal: string | null = null;
  // a plain walk finds `this`/`super`; the Babel traversal runs only when there is something to replace
  const seen = lexicalScan(fn.node);
  usesThis = seen.usesThis;
  if (seen.needsReplacing) lexicalUses(fn, (p, what) => {
    if (what === 'this' || what === 'super') usesThis = true;
    else if (what === 'arguments') {
      argsLocal ??= env.unique('$args');
      p.replaceWith(t.identifier(argsLocal));
    } else if (what === 'new.target') {
      newTargetLocal ??= env.unique('$newTarget');
      p.replaceWith(t.identifier(newTargetLocal));
    }
  });
  if (saveableIterators(fn, env)) changed = true;
  // a private method names itself through `this` (`this.#m`): its record must keep `this`
  // for the check on the way out to work in a resumed activation
  if (self && t.isMemberExpression(self) && t.isThisExpression(self.object)) usesThis = true;
  changed ||= markedByMeta || moved.length > 0 || argsLocal !== null || newTargetLocal !== null;
  return { fn, self, usesThis, argsLocal, newTargetLocal, qualifiedName, metaName, markedByMeta, changed };
}

const ITERATOR_METHODS = ['values', 'keys', 'entries'];

/**
 * An iterator made in a tasklet function may be kept in a variable across a suspension
 * (`const it = xs.values()`): `xs.values()` / `keys()` / `entries()` and `xs[Symbol.iterator]()`
 * on a variable become `$iterm(xs, kind) ?? xs.values()` (`$iter(xs) ?? ...`), so a built-in
 * collection gives the runtime's saveable iterator (runtime/iter.ts) and anything else
 * calls the method as written, still a call site. On any other expression
 * (`this.items.values()`, `f().keys()`) the object is evaluated once into a frame local:
 * `$iterm($it = this.items, 0) ?? $it.values()`. Returns whether anything changed.
 */
function saveableIterators(fn: NodePath<t.Function>, env: PrepareEnv): boolean {
  let changed = false;
  const temps: string[] = [];
  const block = t.isBlockStatement(fn.node.body);
  const rewrite = (call: t.CallExpression): t.Expression | null => {
    const callee = call.callee;
    if (call.arguments.length !== 0 || !t.isMemberExpression(callee) || t.isSuper(callee.object)) return null;
    const named = t.isIdentifier(callee.object);
    if (!named && !block) return null; // an arrow's expression body has nowhere to declare the local
    const prop = callee.property;
    // -1: [Symbol.iterator](), 0-2: values(), keys(), entries()
    const kind = callee.computed ? (isSymbolIterator(prop) ? -1 : -2) : t.isIdentifier(prop) && ITERATOR_METHODS.includes(prop.name) ? ITERATOR_METHODS.indexOf(prop.name) : -2;
    if (kind === -2) return null;
    let obj: t.Expression;
    if (named) obj = t.identifier((callee.object as t.Identifier).name);
    else {
      const tmp = env.unique('$it');
      temps.push(tmp);
      obj = t.assignmentExpression('=', t.identifier(tmp), callee.object as t.Expression);
      callee.object = t.identifier(tmp);
    }
    const made = kind < 0 ? t.callExpression(t.identifier(env.importRuntime('$iter')), [obj]) : t.callExpression(t.identifier(env.importRuntime('$iterm')), [obj, t.numericLiteral(kind)]);
    (made as any)._stacklessInternal = true;
    changed = true;
    return t.logicalExpression('??', made, call);
  };
  // a plain walk of the function's own code (nested functions keep their iterators to themselves)
  const walk = (node: t.Node): void => {
    if (node !== fn.node && (t.isFunction(node) || t.isClass(node))) return;
    for (const key of t.VISITOR_KEYS[node.type] ?? []) {
      const child = (node as any)[key];
      if (Array.isArray(child)) {
        child.forEach((c, i) => {
          if (c === null || typeof c !== 'object' || typeof c.type !== 'string') return;
          walk(c);
          const r = t.isCallExpression(c) ? rewrite(c) : null;
          if (r !== null) child[i] = r;
        });
      } else if (child !== null && typeof child === 'object' && typeof child.type === 'string') {
        walk(child);
        const r = t.isCallExpression(child) ? rewrite(child) : null;
        if (r !== null) (node as any)[key] = r;
      }
    }
  };
  walk(fn.node.body);
  if (temps.length > 0) {
    (fn.get('body') as NodePath<t.BlockStatement>).unshiftContainer('body', t.variableDeclaration('let', temps.map((n) => t.variableDeclarator(t.identifier(n)))));
  }
  return changed;
}

function isSymbolIterator(node: t.Node): boolean {
  return t.isMemberExpression(node) && !node.computed && t.isIdentifier(node.object, { name: 'Symbol' }) && t.isIdentifier(node.property, { name: 'iterator' });
}

/**
 * With parameter expressions (a default anywhere in the list), a body `var` named like a
 * parameter is a second binding that starts with the parameter's value, and closures in
 * the defaults keep seeing the parameter (FunctionDeclarationInstantiation, step 28).
 * Babel gives both one binding, and so would the frame: the parameter is renamed (in the
 * list and its defaults only) and the body's `var` is initialised from it once the defaults
 * have run. Returns those initialisations.
 */
function splitShadowedParams(fn: NodePath<t.Function>, env: PrepareEnv): t.Statement[] {
  const params = fn.node.params;
  if (!t.isBlockStatement(fn.node.body)) return [];
  let hasExpressions = false;
  for (const p of params) t.traverseFast(p, (n) => {
    if (t.isAssignmentPattern(n) || (t.isObjectProperty(n) && n.computed)) hasExpressions = true;
  });
  if (!hasExpressions) return [];
  const paramNames = new Set(params.flatMap((p) => Object.keys(t.getBindingIdentifiers(p))));
  const shadowed = new Set<string>();
  (fn.get('body') as NodePath<t.BlockStatement>).traverse({
    Function(p) {
      p.skip();
    },
    VariableDeclaration(p) {
      if (p.node.kind !== 'var') return;
      for (const name of Object.keys(t.getBindingIdentifiers(p.node))) if (paramNames.has(name)) shadowed.add(name);
    },
  });
  const inits: t.Statement[] = [];
  for (const name of shadowed) {
    const binding = fn.scope.getBinding(name);
    if (!binding) continue;
    const renamed = env.unique(`${name}$param`);
    for (const param of fn.get('params') as NodePath[]) {
      const rename = (p: NodePath<t.Identifier>) => {
        if (p.node.name !== name || p.scope.getBinding(name) !== binding) return;
        const parent = p.parent;
        if (t.isMemberExpression(parent) && parent.property === p.node && !parent.computed) return;
        if (t.isObjectProperty(parent) && parent.key === p.node && !parent.computed) {
          if (!parent.shorthand) return;
          parent.shorthand = false;
          parent.key = t.identifier(name);
        }
        p.node.name = renamed;
      };
      if (param.isIdentifier()) rename(param);
      param.traverse({ Identifier: rename });
    }
    inits.push(t.expressionStatement(t.assignmentExpression('=', t.identifier(name), t.identifier(renamed))));
  }
  return inits;
}

/**
 * Arrows and anonymous function expressions are tagged with their metadata as
 * they are created. `const f = () => {...}` keeps JavaScript's name inference
 * by tagging in a statement after the declaration; elsewhere the tag call wraps
 * the function and restores the inferred name.
 */
function tagAtCreation(fn: NodePath<t.Function>, metaName: string, env: PrepareEnv): NodePath<t.Function> {
  const tagFn = env.importRuntime('tag');
  const parent = fn.parentPath;
  const decl = parent?.parentPath;
  if (
    parent?.isVariableDeclarator() && t.isIdentifier(parent.node.id) && parent.node.init === fn.node &&
    decl?.isVariableDeclaration() && (decl.parentPath?.isBlockStatement() || decl.parentPath?.isProgram() || decl.parentPath?.isExportNamedDeclaration())
  ) {
    const stmt = decl.parentPath.isExportNamedDeclaration() ? decl.parentPath : decl;
    const call = t.callExpression(t.identifier(tagFn), [t.identifier(parent.node.id.name), t.identifier(metaName)]);
    (call as any)._stacklessInternal = true;
    stmt.insertAfter(t.expressionStatement(call));
    return fn;
  }
  const name = inferredName(fn);
  let nameArg: t.Expression[] = name ? [t.stringLiteral(name)] : [];
  // under a computed key the name is the key's value: convert the key once, through the runtime
  if (parent?.isObjectProperty() && parent.node.computed && parent.node.value === fn.node) {
    const keyCall = t.callExpression(t.identifier(env.importRuntime('key')), [parent.node.key as t.Expression]);
    (keyCall as any)._stacklessInternal = true;
    parent.node.key = keyCall;
    const read = t.callExpression(t.identifier(env.importRuntime('keyName')), []);
    (read as any)._stacklessInternal = true;
    nameArg = [read];
  }
  const call = t.callExpression(t.identifier(tagFn), [fn.node as t.Expression, t.identifier(metaName), ...nameArg]);
  (call as any)._stacklessInternal = true;
  const [wrapped] = fn.replaceWith(call);
  return (wrapped as NodePath<t.CallExpression>).get('arguments.0') as NodePath<t.Function>;
}
