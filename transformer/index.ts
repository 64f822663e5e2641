/**
 * `stackless/transform`: the one core transform every adapter wraps.
 *   parse → find marked functions → compile each (outermost first) → add the
 *   runtime import → generate code + source map.
 */
import { parse } from '@babel/parser';
import _traverse from '@babel/traverse';
import type { NodePath } from '@babel/traverse';
import _generate from '@babel/generator';
import * as t from './ast.js';
import { relative, isAbsolute } from 'node:path';
import { createRequire } from 'node:module';
import { makeDiagnostic, TaskletCompileError, catalogue } from './diagnostics.js';
import { findOutermostMarked, hasDirective, markInModule, scanMarked, takeModuleDirective, DIRECTIVE, type Traverse, type WalkFindings } from './find.js';
import { printSpliced } from './print.js';
import { compileFunction, runtimeImport, type FileState } from './compile-function.js';
import type { TransformOptions, TransformResult, Diagnostic } from './types.js';
import type { PrepareEnv } from './analyze/prepare.js';
import { emitRegistrations } from './emit/registrations.js';

export type { TransformOptions, TransformResult, Diagnostic, Position } from './types.js';
export { TaskletCompileError, catalogue };

// the Babel packages are CommonJS with a `default` export
const traverse = ((_traverse as any).default ?? _traverse) as Traverse & { cache: { clear(): void } };
const generate = ((_generate as any).default ?? _generate) as (ast: t.Node, opts: object, code: string) => { code: string; map: any; decodedMap?: any };
const require = createRequire(import.meta.url);

function parserPlugins(id: string): any[] {
  const plugins: any[] = [];
  if (/\.[mc]?tsx?$/.test(id) || !/\.[mc]?jsx?$/.test(id)) plugins.push('typescript');
  if (/\.[jt]sx$/.test(id)) plugins.push('jsx');
  plugins.push('decorators-legacy');
  return plugins.filter((p, i) => !(p === 'decorators-legacy' && plugins.includes('decorators')) || i < 0);
}

function moduleIdOf(id: string, root: string | undefined): string {
  const clean = id.replace(/[?#].*$/, '');
  if (root && isAbsolute(clean)) return relative(root, clean).split('\\').join('/');
  return clean.split('\\').join('/');
}

/** A subtree set aside while the marked functions are compiled (put back before printing). */
interface Stub {
  node: any;
  key: string;
  value: unknown;
}

/**
 * One plain walk (no paths, no scopes) over the parsed module that
 * - adds every identifier name to `names`, so that generated names never shadow or capture one;
 * - with `markAll` (a module-level directive), marks every function on the way;
 * - marks the functions written inline as call arguments in a marked function: they are
 *   tasklet functions too (`xs.forEach(x => ch.send(x))`), so the callback may block wherever
 *   its caller lets it (the array helpers, other tasklet functions);
 * - reports `with` statements in marked functions and misplaced markers (scanMarked reports the
 *   rest), and notes what the scan needs to know (nested marked functions, calls of `eval`);
 * - sets aside the bodies of functions that neither are marked nor contain a marked function,
 *   and the bodies of interfaces: nothing in them can change what the compiler decides
 *   (they declare nothing at module level), but Babel's scope crawl and traversals would walk
 *   them all. `restoreStubs` puts them back.
 */
class ModuleWalk implements WalkFindings {
  nested = false;
  evalCalls = 0;
  readonly holding = new Set<t.Node>();

  constructor(
    readonly names: Set<string>,
    readonly stubs: Stub[],
    readonly markAll: boolean,
    readonly env: Pick<PrepareEnv, 'diagnostics' | 'file' | 'source'>,
  ) {}

  /**
   * `inMarked`: some function around `node` is marked; `fnMarked`: the nearest function around
   * it is; `ownerMarked`: the nearest function or class around it is. Returns whether a marked
   * function (or a misplaced marker) is under `node`.
   */
  walk(node: t.Node, inMarked: boolean, fnMarked: boolean, ownerMarked: boolean): boolean {
    const type = node.type;
    if (type === 'Identifier') {
      this.names.add((node as t.Identifier).name);
      return false;
    }
    const keys = t.VISITOR_KEYS[type];
    if (!keys) return false;
    const isFunction = t.isFunction(node);
    if (isFunction && this.markAll) markInModule(node as t.Function);
    if (type === 'CallExpression' || type === 'OptionalCallExpression' || type === 'NewExpression') {
      if (ownerMarked) for (const arg of (node as t.CallExpression).arguments) markInlineCallback(arg);
      if (fnMarked && type === 'CallExpression' && t.isIdentifier((node as t.CallExpression).callee, { name: 'eval' })) this.evalCalls++;
    } else if (type === 'WithStatement') {
      if (fnMarked) this.report('SL1003', node);
    }
    const marked = isFunction && hasDirective(node as t.Function);
    if (marked && inMarked) this.nested = true;
    const childInMarked = inMarked || marked;
    const childFnMarked = isFunction ? marked : fnMarked;
    const childOwnerMarked = isFunction || t.isClass(node) ? marked : ownerMarked;
    let contains = false;
    for (const key of keys) {
      const child = (node as any)[key];
      if (child === null || typeof child !== 'object') continue;
      if (Array.isArray(child)) {
        for (const c of child) if (c !== null && typeof c === 'object' && typeof c.type === 'string' && this.walk(c, childInMarked, childFnMarked, childOwnerMarked)) contains = true;
      } else if (typeof child.type === 'string' && this.walk(child, childInMarked, childFnMarked, childOwnerMarked)) contains = true;
      // types outside marked functions decide nothing either (their names are collected above)
      if (!childInMarked && TYPE_KEYS.has(key)) this.setAsideType(node, key, child);
    }
    if (type === 'ExpressionStatement' && t.isStringLiteral((node as t.ExpressionStatement).expression, { value: DIRECTIVE })) {
      this.report('SL1006', node);
      contains = true;
    }
    if (marked) return true;
    if (inMarked || contains) return contains;
    if (isFunction && (node as t.Function).body) {
      const body = (node as t.Function).body;
      this.stubs.push({ node, key: 'body', value: body });
      (node as any).body = t.isBlockStatement(body) ? t.blockStatement([]) : t.numericLiteral(0);
    } else if (type === 'TSInterfaceDeclaration') {
      this.stubs.push({ node, key: 'body', value: (node as t.TSInterfaceDeclaration).body });
      (node as t.TSInterfaceDeclaration).body = t.tsInterfaceBody([]);
    }
    return false;
  }

  private setAsideType(node: t.Node, key: string, value: any): void {
    this.stubs.push({ node, key, value });
    // a TS node's own type is required: an empty stand-in; elsewhere types are optional
    (node as any)[key] = node.type.startsWith('TS') && key === 'typeAnnotation' ? t.tsAnyKeyword() : null;
  }

  private report(code: 'SL1003' | 'SL1006', node: t.Node): void {
    this.env.diagnostics.push(makeDiagnostic(code, this.env.file, this.env.source, node.loc));
  }
}

/** Keys of type annotations, type parameters and type arguments (never values). */
const TYPE_KEYS = new Set(['typeAnnotation', 'returnType', 'typeParameters', 'superTypeParameters', 'typeArguments', 'implements']);

/** An arrow or function expression passed to a call becomes a tasklet function (not async or generator ones). */
function markInlineCallback(arg: t.Node): void {
  if (!(arg.type === 'ArrowFunctionExpression' || arg.type === 'FunctionExpression')) return;
  if (arg.async || arg.generator) return;
  if (!t.isBlockStatement(arg.body)) arg.body = t.blockStatement([t.returnStatement(arg.body)]);
  if (!hasDirective(arg)) arg.body.directives.unshift(t.directive(t.directiveLiteral(DIRECTIVE)));
}

function restoreStubs(stubs: Stub[]): void {
  for (let i = stubs.length - 1; i >= 0; i--) stubs[i]!.node[stubs[i]!.key] = stubs[i]!.value;
  stubs.length = 0;
}

export function transform(code: string, id: string, options: TransformOptions = {}): TransformResult {
  const wantMap = options.sourceMap !== false;
  if (!code.includes(DIRECTIVE)) return { code, map: null, diagnostics: [], changed: false };

  const diagnostics: Diagnostic[] = [];
  let ast: t.File;
  try {
    ast = parse(code, { sourceType: 'unambiguous', sourceFilename: id, plugins: parserPlugins(id), errorRecovery: false });
  } catch (e: any) {
    const loc = e.loc ? { start: { line: e.loc.line, column: e.loc.column }, end: { line: e.loc.line, column: e.loc.column + 1 } } : null;
    diagnostics.push(makeDiagnostic('SL1007', id, code, loc, String(e.reasonCode ?? e.message).replace(/ \(\d+:\d+\)$/, '')));
    return { code, map: null, diagnostics, changed: false };
  }

  const used = new Set<string>();
  const stubs: Stub[] = [];
  const moduleDirectives = takeModuleDirective(ast);
  // the top-level statements as parsed, and those that hold a marked function (the rest is
  // printed by copying its text)
  const original = [...ast.program.body];
  const walk = new ModuleWalk(used, stubs, moduleDirectives.length > 0, { diagnostics, file: id, source: code });
  for (const s of original) if (walk.walk(s, false, false, false)) walk.holding.add(s);
  const changedStatements = walk.holding;
  // the next suffix to try per base name (names are only ever added, so a taken suffix stays taken)
  const nextSuffix = new Map<string, number>();
  const unique = (base: string): string => {
    let name = base;
    if (used.has(name)) {
      let i = nextSuffix.get(base) ?? 1;
      for (; used.has(`${base}$${i}`); i++);
      name = `${base}$${i}`;
      nextSuffix.set(base, i + 1);
    }
    used.add(name);
    return name;
  };
  const file: FileState = {
    file: id,
    source: code,
    diagnostics,
    unique,
    runtimeName: unique('$sl'),
    imports: new Map(),
    forceSwitch: options.forceSwitch === true,
    ticks: options.ticks !== false,
    moduleId: moduleIdOf(id, options.root ?? process.cwd()),
    functions: [],
    metas: [],
    registrations: [],
    importRuntime: (exported: string) => runtimeImport(file, exported),
  };
  // one traversal validates and finds the outermost marked functions
  const scan = scanMarked(ast, traverse, file, walk);
  if (diagnostics.some((d) => d.severity === 'error')) return { code, map: null, diagnostics, changed: false };

  // compile outermost first, a batch of disjoint functions per pass; a later pass (only when a
  // marked function sits inside a compiled one) re-reads the tree, so its scopes are fresh
  // (passes = nesting depth of marked functions, not their number)
  let batch = scan.outermost;
  let more = scan.nested;
  while (batch.length > 0) {
    for (const next of batch) {
      const body = next.node.body as t.BlockStatement;
      body.directives = body.directives.filter((d) => d.value.value !== DIRECTIVE);
      compileFunction(next, file);
      if (diagnostics.some((d) => d.severity === 'error')) return { code, map: null, diagnostics, changed: false };
    }
    if (!more) break;
    traverse.cache.clear();
    batch = findOutermostMarked(ast, traverse);
    more = true; // from here on, until a pass finds nothing
  }

  emitRegistrations(ast, file); // snapshots: factories' metadata, classes, module values, for-of helper
  // (after the registrations: their walks over the module need not enter the set-aside bodies)
  restoreStubs(stubs);

  if (file.imports.size > 0 || file.functions.length > 0) {
    // Every runtime binding is read through a module-level const alias: V8 reads an imported
    // binding through its module cell on every use (the alias of `rt`, a plain context slot,
    // makes compiled calls ~30% cheaper), and under Vite SSR / Vitest an import is a getter
    // that returns undefined when called on a nearly full stack, turning a retryable stack
    // overflow at a call of a runtime helper into "undefined is not a function".
    const specifiers: t.ImportSpecifier[] = [];
    const aliases: t.VariableDeclarator[] = [];
    for (const [exported, local] of [['rt', file.runtimeName], ...file.imports] as [string, string][]) {
      const imported = unique(`${local}$import`);
      specifiers.push(t.importSpecifier(t.identifier(imported), t.identifier(exported)));
      aliases.push(t.variableDeclarator(t.identifier(local), t.identifier(imported)));
    }
    ast.program.body.unshift(
      t.importDeclaration(specifiers, t.stringLiteral(options.runtimeModule ?? 'stackless/internal')),
      t.variableDeclaration('const', aliases),
      ...file.metas.map((m) => m.statement),
      ...file.registrations,
    );
  }

  if (options.stripTypes) {
    traverse.cache.clear(); // the compiled functions changed under the cached scopes
    // @babel/core is loaded on first use: only type stripping needs it (hosts that load the
    // transform per build, like a Rollup config, do not pay for it otherwise)
    const { transformFromAstSync } = require('@babel/core') as typeof import('@babel/core');
    const out = transformFromAstSync(ast, code, {
      filename: id,
      sourceFileName: id,
      babelrc: false,
      configFile: false,
      sourceMaps: wantMap,
      inputSourceMap: (options.inputSourceMap as any) ?? undefined,
      plugins: [[require.resolve('@babel/plugin-transform-typescript'), { onlyRemoveTypeImports: true, allowDeclareFields: true }]],
      cloneInputAst: false,
    });
    return { code: out!.code!, map: wantMap ? (out!.map as any) : null, diagnostics, changed: true, functions: file.functions };
  }
  const printed =
    printSpliced({
      code,
      id,
      program: ast.program,
      original,
      changed: changedStatements,
      dropped: moduleDirectives.map((d) => [d.start!, d.end!] as [number, number]),
      wantMap,
      generate,
    }) ?? generate(ast, { sourceMaps: wantMap, sourceFileName: id, retainLines: false }, code);
  return { code: printed.code, map: wantMap ? printed.map : null, diagnostics, changed: true, functions: file.functions };
}

/** For adapters: transform, or throw a TaskletCompileError carrying every error diagnostic. */
export function transformOrThrow(code: string, id: string, options: TransformOptions = {}): TransformResult {
  const result = transform(code, id, options);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new TaskletCompileError(errors);
  return result;
}
