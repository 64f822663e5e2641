/**
 * The static half of `stackless check`: finds, before the program runs, the places where the
 * runtime would throw `StacklessError` because a tasklet function blocks with ordinary
 * (untransformed) frames between it and its scheduler.
 *
 * It reads the program with TypeScript's compiler API (through ts-morph), so calls are resolved
 * the way the type checker resolves them: imported functions, methods of classes, overloads,
 * `Channel#send` on a subclass, functions held in `const`s.
 *
 * 1. Tasklet functions: function declarations, expressions, arrows, methods and accessors whose
 *    body starts with the `"use tasklet"` directive, and every function (not async, not a
 *    generator, not a constructor) of a module that starts with it.
 * 2. "May block", computed to a fixed point: a tasklet function may block when its own body
 *    (not the bodies of functions nested in it) calls a blocking primitive of the runtime
 *    (`Channel#send`, `receive`, `sendException`, `sendThrow`, `sendSequence`, iterating a
 *    channel with `for-of`, `schedule`, `scheduleRemove`, `sleep`, `wait`, `select`, `run`,
 *    `Tasklet#run`, `switch`, `join`, `kill`, `throw`, `raiseException`), or calls a tasklet
 *    function that may block: directly, through `f.call`/`f.apply`/`Reflect.apply`, through
 *    `atomic(f)`, or as the callback of an array method that the transform makes resumable.
 *    A call the checker cannot resolve to a declaration with a body (a function-typed
 *    parameter, a property typed by an interface, a library without sources) is assumed not
 *    to block.
 * 3. Where code runs. Transformed code is the own body of a tasklet function. Ordinary code
 *    runs *inside a tasklet* when it is written inside a tasklet function, is run as one
 *    (`spawn`, `new Tasklet`, `Tasklet#bind`), or is called or given as a callback from code
 *    that runs inside a tasklet (callbacks given to `setTimeout`, `then`, `addEventListener`
 *    and the like excepted: the event loop calls them later). All other ordinary code runs in
 *    the *main tasklet*, which may block on channels and in `schedule()` (the scheduler runs
 *    the others meanwhile) but cannot wait for the event loop.
 * 4. Findings (each is a StacklessError the runtime would throw):
 *    - SL2000 (warning): a file imports `stackless` but the import does not resolve, so no
 *      call in it can be recognized as blocking;
 *    - SL2001: ordinary code inside a tasklet calls a tasklet function that may block;
 *    - SL2002: code inside a tasklet passes a tasklet function that may block as a callback to
 *      something that is not transformed (anything but `spawn`, `new Tasklet`, `Tasklet#bind`,
 *      a tasklet function, `atomic` and the array methods in a tasklet function's own body, or
 *      an ordinary function of the program that only hands it on to one of those);
 *    - SL2003: ordinary code inside a tasklet calls a blocking primitive itself;
 *    - SL2004: code of the main tasklet calls `sleep`/`wait`, or a tasklet function that may
 *      reach them, directly or through a callback it hands to untransformed code.
 */
import { codeFrameColumns } from '@babel/code-frame';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Node,
  Project,
  SyntaxKind,
  ts,
  type CallExpression,
  type NewExpression,
  type SourceFile,
  type TaggedTemplateExpression,
} from 'ts-morph';
import type { Diagnostic } from '../../transformer/types.js';

const DIRECTIVE = 'use tasklet';
const DOCS = 'stackless/docs/diagnostics.md';

/** Module functions of the runtime that may switch tasklets. */
const BLOCKING_FUNCTIONS = new Set(['schedule', 'scheduleRemove', 'sleep', 'wait', 'select', 'run']);
/** Methods of the runtime's classes that may switch tasklets. */
const BLOCKING_METHODS: Record<string, Set<string>> = {
  Channel: new Set(['send', 'receive', 'sendException', 'sendThrow', 'sendSequence', 'next']),
  Tasklet: new Set(['run', 'switch', 'join', 'kill', 'throw', 'raiseException']),
};
/** Runtime functions that wait for the event loop, which the main tasklet cannot do. */
const WAITING = new Set(['sleep', 'wait']);
/** Callees that keep a callback for the event loop to call later, from the main tasklet. */
const DEFERRING = new Set([
  'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'requestAnimationFrame', 'requestIdleCallback',
  'then', 'catch', 'finally', 'addEventListener', 'nextTick',
]);
/** Array methods whose callbacks may block when they are called from a tasklet function (SPEC). */
const ARRAY_METHODS = new Set(['forEach', 'map', 'filter', 'reduce', 'some', 'every', 'find', 'findIndex', 'flatMap', 'sort']);

type FunctionNode =
  | import('ts-morph').FunctionDeclaration
  | import('ts-morph').FunctionExpression
  | import('ts-morph').ArrowFunction
  | import('ts-morph').MethodDeclaration
  | import('ts-morph').GetAccessorDeclaration
  | import('ts-morph').SetAccessorDeclaration
  | import('ts-morph').ConstructorDeclaration;

/** What a call resolves to. */
type Target =
  | { kind: 'primitive'; name: string; accepts: 'spawn' | 'bind' | 'atomic' | null; blocks: boolean }
  | { kind: 'function'; node: FunctionNode }
  | { kind: 'unknown' };

interface Reason {
  /** e.g. "calls Channel#receive" or "calls tasklet function 'helper', which may block" */
  text: string;
  node: Node;
}

export interface BlockingOptions {
  /** Paths in messages are relative to this directory (default: process.cwd()). */
  cwd?: string;
  /** A tsconfig.json to take compiler options from (default: cwd/tsconfig.json if present). */
  tsconfig?: string;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const packageRootFromSource = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Is this file part of the stackless runtime (sources, build output, or an installed copy)? */
function isRuntimeFile(path: string): boolean {
  const p = resolve(path);
  for (const root of [packageRoot, packageRootFromSource]) {
    if (p.startsWith(join(root, 'runtime') + sep) || p.startsWith(join(root, 'dist', 'runtime') + sep)) return true;
  }
  return /[\\/]node_modules[\\/]stackless[\\/]dist[\\/]runtime[\\/]/.test(p);
}

function isFunctionNode(node: Node): node is FunctionNode {
  return (
    Node.isFunctionDeclaration(node) ||
    Node.isFunctionExpression(node) ||
    Node.isArrowFunction(node) ||
    Node.isMethodDeclaration(node) ||
    Node.isGetAccessorDeclaration(node) ||
    Node.isSetAccessorDeclaration(node) ||
    Node.isConstructorDeclaration(node)
  );
}

/** The directive prologue of a block or source file: its leading string-literal statements. */
function hasDirective(statements: readonly Node[]): boolean {
  for (const statement of statements) {
    if (!Node.isExpressionStatement(statement)) return false;
    const expression = statement.getExpression();
    if (!Node.isStringLiteral(expression)) return false;
    if (expression.getLiteralValue() === DIRECTIVE) return true;
  }
  return false;
}

export class BlockingAnalysis {
  readonly project: Project;
  private readonly cwd: string;
  private readonly files: SourceFile[];
  private readonly taskletCache = new Map<ts.Node, boolean>();
  private readonly moduleMarked = new Map<SourceFile, boolean>();
  private readonly fileSet: Set<SourceFile>;
  /** Every tasklet function of the program, with what its own body calls. */
  private readonly tasklets = new Map<ts.Node, { fn: FunctionNode; calls: { node: Node; target: Target; via: string }[] }>();
  /** Tasklet function → why it may block (absent: it does not). */
  private readonly blocking = new Map<ts.Node, Reason>();
  /** Tasklet function → why it may wait for the event loop (sleep, wait). */
  private readonly waiting = new Map<ts.Node, Reason>();
  /** Ordinary function → why it runs inside a tasklet (absent: only the main tasklet runs it). */
  private readonly reached = new Map<ts.Node, Reason>();
  private readonly forwardCache = new Map<string, boolean>();

  constructor(paths: string[], options: BlockingOptions = {}) {
    this.cwd = options.cwd ?? process.cwd();
    const tsconfig = options.tsconfig ?? join(this.cwd, 'tsconfig.json');
    const compilerOptions: ts.CompilerOptions = {
      allowJs: true,
      checkJs: false,
      noEmit: true,
      skipLibCheck: true,
      jsx: ts.JsxEmit.Preserve,
    };
    this.project = existsSync(tsconfig)
      ? new Project({ tsConfigFilePath: tsconfig, skipAddingFilesFromTsConfig: true, compilerOptions })
      : new Project({
          compilerOptions: {
            ...compilerOptions,
            target: ts.ScriptTarget.ES2022,
            module: ts.ModuleKind.NodeNext,
            moduleResolution: ts.ModuleResolutionKind.NodeNext,
            strict: true,
          },
        });
    this.files = paths.map((path) => this.project.addSourceFileAtPath(resolve(this.cwd, path)));
    this.fileSet = new Set(this.files);
    this.project.resolveSourceFileDependencies();
    this.computeBlocking();
  }

  // -------------------------------------------------------------------------------------
  // tasklet functions

  private isModuleMarked(file: SourceFile): boolean {
    let marked = this.moduleMarked.get(file);
    if (marked === undefined) {
      marked = hasDirective(file.getStatements());
      this.moduleMarked.set(file, marked);
    }
    return marked;
  }

  isTasklet(node: FunctionNode): boolean {
    const key = node.compilerNode;
    let result = this.taskletCache.get(key);
    if (result === undefined) {
      result = false;
      if (!Node.isConstructorDeclaration(node)) {
        const body = node.getBody();
        if (body !== undefined && Node.isBlock(body) && hasDirective(body.getStatements())) result = true;
        else if (body !== undefined && this.isModuleMarked(node.getSourceFile())) {
          const modifiers = ts.getCombinedModifierFlags(node.compilerNode as ts.Declaration);
          const generator = (node.compilerNode as ts.FunctionLikeDeclaration).asteriskToken !== undefined;
          result = (modifiers & ts.ModifierFlags.Async) === 0 && !generator;
        }
      }
      this.taskletCache.set(key, result);
    }
    return result;
  }

  /** The function whose own body holds `node` (nested functions are their own bodies). */
  private enclosingFunction(node: Node): FunctionNode | undefined {
    for (let p = node.getParent(); p !== undefined; p = p.getParent()) {
      if (isFunctionNode(p)) return p;
    }
    return undefined;
  }

  private inTasklet(node: Node): FunctionNode | undefined {
    const f = this.enclosingFunction(node);
    return f !== undefined && this.isTasklet(f) ? f : undefined;
  }

  /** Is `node` inside some tasklet function, at any depth of nesting? */
  private lexicallyInTasklet(node: Node): FunctionNode | undefined {
    for (let f = this.enclosingFunction(node); f !== undefined; f = this.enclosingFunction(f)) {
      if (this.isTasklet(f)) return f;
    }
    return undefined;
  }

  // -------------------------------------------------------------------------------------
  // resolving what a call or a value refers to

  private primitiveOf(declaration: Node): Target | null {
    if (!isRuntimeFile(declaration.getSourceFile().getFilePath())) return null;
    if (Node.isFunctionDeclaration(declaration)) {
      const name = declaration.getName() ?? '';
      const accepts = name === 'spawn' ? 'spawn' : name === 'atomic' ? 'atomic' : null;
      return { kind: 'primitive', name, accepts, blocks: BLOCKING_FUNCTIONS.has(name) };
    }
    if (Node.isMethodDeclaration(declaration) || Node.isConstructorDeclaration(declaration)) {
      const cls = declaration.getParent();
      const className = Node.isClassDeclaration(cls) ? (cls.getName() ?? '') : '';
      const method = Node.isConstructorDeclaration(declaration) ? 'constructor' : declaration.getName();
      const accepts = className === 'Tasklet' && (method === 'constructor' || method === 'bind') ? (method === 'bind' ? 'bind' : 'spawn') : null;
      return {
        kind: 'primitive',
        name: method === 'constructor' ? `new ${className}` : `${className}#${method}`,
        accepts,
        blocks: BLOCKING_METHODS[className]?.has(method) ?? false,
      };
    }
    if (Node.isClassDeclaration(declaration)) {
      const name = declaration.getName() ?? '';
      return { kind: 'primitive', name: `new ${name}`, accepts: name === 'Tasklet' ? 'spawn' : null, blocks: false };
    }
    return { kind: 'primitive', name: declaration.getSymbol()?.getName() ?? '?', accepts: null, blocks: false };
  }

  /** A declaration of a function value: the function itself, or the function a variable/property is initialized with. */
  private functionOfDeclaration(declaration: Node): Target | null {
    const primitive = this.primitiveOf(declaration);
    if (primitive !== null) return primitive;
    if (isFunctionNode(declaration)) return declaration.getBody() !== undefined ? { kind: 'function', node: declaration } : null;
    if (Node.isVariableDeclaration(declaration) || Node.isPropertyAssignment(declaration) || Node.isPropertyDeclaration(declaration)) {
      // only a binding that cannot change afterwards says which function it holds
      if (Node.isVariableDeclaration(declaration)) {
        const list = declaration.getVariableStatement();
        if (list === undefined || list.getDeclarationKind() !== 'const') return null;
      }
      const init = declaration.getInitializer();
      if (init !== undefined) return this.functionOfValue(init);
    }
    return null;
  }

  /** What function a value expression (an argument, a callee) stands for. */
  functionOfValue(expression: Node): Target {
    let e: Node = expression;
    while (Node.isParenthesizedExpression(e) || Node.isAsExpression(e) || Node.isNonNullExpression(e) || Node.isSatisfiesExpression(e)) {
      e = e.getExpression();
    }
    if (Node.isFunctionExpression(e) || Node.isArrowFunction(e)) return { kind: 'function', node: e };
    if (!Node.isIdentifier(e) && !Node.isPropertyAccessExpression(e)) return { kind: 'unknown' };
    let symbol = e.getSymbol();
    if (symbol === undefined) return { kind: 'unknown' };
    if (symbol.isAlias()) symbol = symbol.getAliasedSymbol() ?? symbol;
    for (const declaration of symbol.getDeclarations()) {
      const target = this.functionOfDeclaration(declaration);
      if (target !== null) return target;
    }
    return { kind: 'unknown' };
  }

  /** What a call or `new` expression calls. */
  calleeOf(call: CallExpression | NewExpression | TaggedTemplateExpression): Target {
    const signature = this.project.getTypeChecker().getResolvedSignature(call);
    const declaration = signature?.getDeclaration();
    if (declaration !== undefined) {
      const target = this.functionOfDeclaration(declaration);
      if (target !== null) return target;
    }
    const callee = Node.isTaggedTemplateExpression(call) ? call.getTag() : call.getExpression();
    // class without an explicit constructor, or a function value without a resolvable signature
    return this.functionOfValue(callee);
  }

  /**
   * The function a call ends up running: `f(…)` itself, `f.call(…)`/`f.apply(…)` and
   * `Reflect.apply(f, …)` the function `f`.
   */
  private calledFunction(call: CallExpression): Target {
    const callee = call.getExpression();
    if (Node.isPropertyAccessExpression(callee)) {
      const name = callee.getName();
      if (name === 'call' || name === 'apply') {
        const inner = this.functionOfValue(callee.getExpression());
        if (inner.kind !== 'unknown') return inner;
      }
      if (name === 'apply' && callee.getExpression().getText() === 'Reflect') {
        const [first] = call.getArguments();
        if (first !== undefined) return this.functionOfValue(first);
      }
    }
    return this.calleeOf(call);
  }

  private isArrayReceiver(call: CallExpression): boolean {
    const callee = call.getExpression();
    if (!Node.isPropertyAccessExpression(callee) || !ARRAY_METHODS.has(callee.getName())) return false;
    const type = callee.getExpression().getType();
    if (type.isAny() || type.isUnknown()) return true; // the helper checks Array.isArray at run time
    const isArray = (t: import('ts-morph').Type) => t.isArray() || t.isTuple() || t.getSymbol()?.getName() === 'ReadonlyArray';
    return type.isUnion() ? type.getUnionTypes().every(isArray) : isArray(type);
  }

  // -------------------------------------------------------------------------------------
  // may block

  private describe(target: Target): string {
    if (target.kind === 'primitive') return target.name === 'Channel iteration' ? 'a Channel with for-of' : `${target.name}()`;
    if (target.kind === 'function') return `'${this.nameOf(target.node)}'`;
    return '?';
  }

  nameOf(node: FunctionNode): string {
    if (Node.isConstructorDeclaration(node)) return 'constructor';
    if (!Node.isArrowFunction(node)) {
      const name = node.getName?.();
      if (name) {
        const cls = node.getParent();
        if ((Node.isMethodDeclaration(node) || Node.isGetAccessorDeclaration(node) || Node.isSetAccessorDeclaration(node)) && (Node.isClassDeclaration(cls) || Node.isClassExpression(cls))) {
          return `${cls.getName() ?? '<class>'}#${name}`;
        }
        return name;
      }
    }
    const parent = node.getParent();
    if (Node.isVariableDeclaration(parent) || Node.isPropertyAssignment(parent) || Node.isPropertyDeclaration(parent)) return parent.getName();
    return '<anonymous>';
  }

  /** Call-like nodes in the own body of `fn` (not in the functions nested in it). */
  private *ownSites(fn: FunctionNode): Generator<Node> {
    const body = fn.getBody();
    if (body === undefined) return;
    const stack: Node[] = [body];
    while (stack.length > 0) {
      const node = stack.pop() as Node;
      if (node !== body && isFunctionNode(node)) continue;
      if (Node.isCallExpression(node) || Node.isNewExpression(node) || Node.isTaggedTemplateExpression(node) || Node.isForOfStatement(node)) {
        yield node;
      }
      stack.push(...node.getChildren());
    }
  }

  /** What the own body of a tasklet function calls (and iterates), for "may block". */
  private *ownCalls(fn: FunctionNode): Generator<{ node: Node; target: Target; via: string }> {
    for (const node of this.ownSites(fn)) {
      if (Node.isCallExpression(node)) {
        yield { node, target: this.calledFunction(node), via: 'calls' };
        // callbacks the call runs in this tasklet: array helpers and atomic()
        const callee = this.calleeOf(node);
        if ((callee.kind === 'primitive' && callee.accepts === 'atomic') || this.isArrayReceiver(node)) {
          for (const arg of node.getArguments()) {
            const cb = this.functionOfValue(arg);
            if (cb.kind === 'function') yield { node: arg, target: cb, via: 'runs the callback' };
          }
        }
      } else if (Node.isTaggedTemplateExpression(node)) {
        yield { node, target: this.calleeOf(node), via: 'calls the tag' };
      } else if (Node.isForOfStatement(node)) {
        const iterated = node.getExpression();
        if (this.isChannel(iterated.getType())) {
          yield { node: iterated, target: { kind: 'primitive', name: 'Channel iteration', accepts: null, blocks: true }, via: 'iterates' };
        }
      }
    }
  }

  private isChannel(type: import('ts-morph').Type): boolean {
    const receive = type.getProperty('receive');
    const declaration = receive?.getDeclarations()[0];
    if (declaration === undefined || !isRuntimeFile(declaration.getSourceFile().getFilePath())) return false;
    const cls = declaration.getParent();
    return Node.isClassDeclaration(cls) && cls.getName() === 'Channel';
  }

  private location(node: Node): string {
    const file = relative(this.cwd, node.getSourceFile().getFilePath()) || node.getSourceFile().getBaseName();
    return `${file}:${node.getStartLineNumber()}`;
  }

  /** Fills `into` with every tasklet function that reaches a primitive `selected` picks, and why. */
  private propagate(selected: (t: Target) => boolean, into: Map<ts.Node, Reason>): void {
    for (const [key, { calls }] of this.tasklets) {
      const direct = calls.find((c) => selected(c.target));
      if (direct !== undefined) into.set(key, { text: `${direct.via} ${this.describe(direct.target)} at ${this.location(direct.node)}`, node: direct.node });
    }
    let changed = true;
    while (changed) {
      changed = false;
      for (const [key, { calls }] of this.tasklets) {
        if (into.has(key)) continue;
        for (const c of calls) {
          if (c.target.kind !== 'function' || !into.has(c.target.node.compilerNode)) continue;
          into.set(key, { text: `${c.via} tasklet function ${this.describe(c.target)} at ${this.location(c.node)}, which ${into === this.waiting ? 'may wait' : 'may block'}`, node: c.node });
          changed = true;
          break;
        }
      }
    }
  }

  private computeBlocking(): void {
    for (const file of this.files) {
      file.forEachDescendant((node) => {
        if (isFunctionNode(node) && this.isTasklet(node)) this.tasklets.set(node.compilerNode, { fn: node, calls: [...this.ownCalls(node)] });
      });
    }
    this.propagate((t) => t.kind === 'primitive' && t.blocks, this.blocking);
    this.propagate((t) => t.kind === 'primitive' && WAITING.has(t.name), this.waiting);
    this.computeReach();
  }

  /** Why the tasklet function may block, or undefined if it cannot. */
  mayBlock(fn: FunctionNode): Reason | undefined {
    return this.isTasklet(fn) ? this.blocking.get(fn.compilerNode) : undefined;
  }

  /** Why the tasklet function may wait for the event loop (sleep, wait), or undefined. */
  mayWait(fn: FunctionNode): Reason | undefined {
    return this.isTasklet(fn) ? this.waiting.get(fn.compilerNode) : undefined;
  }

  // -------------------------------------------------------------------------------------
  // which ordinary code runs inside a tasklet

  /** A callee that only stores its callback for the event loop: the callback runs in the main tasklet. */
  private isDeferring(call: Node): boolean {
    if (!Node.isCallExpression(call) && !Node.isNewExpression(call)) return false;
    const callee = call.getExpression();
    const name = Node.isIdentifier(callee) ? callee.getText() : Node.isPropertyAccessExpression(callee) ? callee.getName() : '';
    return DEFERRING.has(name);
  }

  private computeReach(): void {
    const queue: FunctionNode[] = [];
    const reach = (fn: FunctionNode, text: string, node: Node) => {
      const key = fn.compilerNode;
      if (this.isTasklet(fn) || this.reached.has(key) || fn.getBody() === undefined || !this.fileSet.has(fn.getSourceFile())) return;
      this.reached.set(key, { text, node });
      queue.push(fn);
    };
    for (const file of this.files) {
      file.forEachDescendant((node) => {
        if (isFunctionNode(node) && !this.isTasklet(node)) {
          const outer = this.lexicallyInTasklet(node);
          const parent = node.getParent();
          if (outer !== undefined && !(parent !== undefined && this.isDeferring(parent))) {
            reach(node, `is written inside tasklet function '${this.nameOf(outer)}'`, node);
          }
        }
        if ((Node.isCallExpression(node) || Node.isNewExpression(node)) && this.isSpawnLike(node, 0)) {
          const value = this.functionOfValue(node.getArguments()[0]);
          if (value.kind === 'function') reach(value.node, `is run as a tasklet at ${this.location(node)}`, node);
        }
      });
    }
    const from = (fn: FunctionNode) => {
      const who = this.isTasklet(fn) ? `tasklet function '${this.nameOf(fn)}'` : `'${this.nameOf(fn)}'`;
      for (const site of this.ownSites(fn)) {
        if (Node.isCallExpression(site) || Node.isTaggedTemplateExpression(site)) {
          const target = Node.isCallExpression(site) ? this.calledFunction(site) : this.calleeOf(site);
          if (target.kind === 'function') reach(target.node, `is called from ${who} at ${this.location(site)}`, site);
        }
        if ((Node.isCallExpression(site) || Node.isNewExpression(site)) && !this.isDeferring(site)) {
          for (const arg of site.getArguments()) {
            const value = this.functionOfValue(arg);
            if (value.kind === 'function') reach(value.node, `is passed as a callback from ${who} at ${this.location(arg)}`, arg);
          }
        }
      }
    };
    for (const { fn } of this.tasklets.values()) from(fn);
    while (queue.length > 0) from(queue.pop() as FunctionNode);
  }

  /** Where code runs: transformed (a tasklet function), ordinary inside a tasklet, or in the main tasklet. */
  private contextOf(node: Node): { kind: 'tasklet'; fn: FunctionNode } | { kind: 'ordinary'; fn: FunctionNode; why: Reason } | { kind: 'main'; fn?: FunctionNode } {
    const fn = this.enclosingFunction(node);
    if (fn === undefined) return { kind: 'main' };
    if (this.isTasklet(fn)) return { kind: 'tasklet', fn };
    const why = this.reached.get(fn.compilerNode);
    return why !== undefined ? { kind: 'ordinary', fn, why } : { kind: 'main', fn };
  }

  // -------------------------------------------------------------------------------------
  // findings

  /**
   * Does `callee` (an ordinary function of the program) only hand parameter `index` on to
   * something that accepts a blocking tasklet function? Then passing one to it is fine.
   */
  private forwardsOnly(callee: FunctionNode, index: number, depth = 0): boolean {
    const key = `${callee.getSourceFile().getFilePath()}:${callee.getStart()}:${index}`;
    const cached = this.forwardCache.get(key);
    if (cached !== undefined) return cached;
    this.forwardCache.set(key, false); // recursion: assume the worst until shown otherwise
    const parameter = callee.getParameters()[index];
    const body = callee.getBody();
    let result = false;
    if (parameter !== undefined && body !== undefined && !parameter.isRestParameter() && depth < 4) {
      const name = parameter.getNameNode();
      if (Node.isIdentifier(name)) {
        const symbol = name.getSymbol();
        const uses = body.getDescendantsOfKind(SyntaxKind.Identifier).filter((id) => id.getSymbol() === symbol);
        result = uses.every((use) => {
          const parent = use.getParent();
          if (!Node.isCallExpression(parent) && !Node.isNewExpression(parent)) return false;
          const position = (parent.getArguments() as Node[]).indexOf(use);
          return position >= 0 && this.accepts(parent, position, depth + 1);
        });
      }
    }
    this.forwardCache.set(key, result);
    return result;
  }

  /** May argument `index` of this call be a tasklet function that blocks? */
  private accepts(call: CallExpression | NewExpression, index: number, depth = 0): boolean {
    const callee = this.calleeOf(call);
    if (callee.kind === 'primitive') {
      if (callee.accepts === 'spawn' || callee.accepts === 'bind') return index === 0;
      if (callee.accepts === 'atomic') return this.inTasklet(call) !== undefined;
    }
    if (callee.kind === 'function') {
      if (this.isTasklet(callee.node)) return true;
      if (isRuntimeFile(callee.node.getSourceFile().getFilePath())) return false;
      if (this.forwardsOnly(callee.node, index, depth)) return true;
    }
    if (Node.isCallExpression(call) && this.inTasklet(call) !== undefined) {
      if (this.isArrayReceiver(call)) return true;
      const expression = call.getExpression();
      if (Node.isPropertyAccessExpression(expression) && expression.getName() === 'apply' && expression.getExpression().getText() === 'Reflect') return index === 0;
    }
    return false;
  }

  private isSpawnLike(call: CallExpression | NewExpression, index: number): boolean {
    const callee = this.calleeOf(call);
    return callee.kind === 'primitive' && (callee.accepts === 'spawn' || callee.accepts === 'bind') && index === 0;
  }

  private diagnostic(code: string, node: Node, message: string, severity: 'error' | 'warning' = 'error'): Diagnostic {
    const file = node.getSourceFile();
    const text = file.getFullText();
    const start = file.getLineAndColumnAtPos(node.getStart());
    const end = file.getLineAndColumnAtPos(node.getEnd());
    // ts-morph columns are 1-based, as code frames want them; Diagnostic columns are 0-based
    const frame = codeFrameColumns(text, { start, end }, { highlightCode: false });
    return {
      code,
      message,
      severity,
      file: relative(this.cwd, file.getFilePath()) || file.getBaseName(),
      start: { line: start.line, column: start.column - 1 },
      end: { line: end.line, column: end.column - 1 },
      frame,
      url: `${DOCS}#${code.toLowerCase()}`,
    };
  }

  private describeContext(ctx: { kind: 'ordinary'; fn: FunctionNode; why: Reason }): string {
    return `ordinary function '${this.nameOf(ctx.fn)}' (not marked "use tasklet") runs inside a tasklet (it ${ctx.why.text})`;
  }

  /** Every finding, in file order. */
  findings(): Diagnostic[] {
    const out: { pos: number; file: string; d: Diagnostic }[] = [];
    const add = (node: Node, d: Diagnostic) => out.push({ pos: node.getStart(), file: node.getSourceFile().getFilePath(), d });
    const MAIN = 'this code runs in the main tasklet (ordinary code that no tasklet calls), which cannot wait for the event loop';
    const FIX = 'Spawn a tasklet for it and drive the scheduler with runAsync().';

    for (const file of this.files) {
      // SL2000: without the runtime's declarations no call can be recognized as blocking
      for (const declaration of file.getImportDeclarations()) {
        const specifier = declaration.getModuleSpecifierValue();
        if ((specifier === 'stackless' || specifier.startsWith('stackless/')) && declaration.getModuleSpecifierSourceFile() === undefined) {
          const message =
            `cannot resolve '${specifier}' from ${relative(this.cwd, file.getFilePath()) || file.getBaseName()}, so the check ` +
            `cannot tell which calls block: install stackless where this file can import it (and run the check from ` +
            `the directory of your tsconfig.json, if it maps paths).`;
          add(declaration, this.diagnostic('SL2000', declaration.getModuleSpecifier(), message, 'warning'));
          break;
        }
      }

      file.forEachDescendant((node) => {
        // calls: SL2001, SL2003, SL2004
        if (Node.isCallExpression(node) || Node.isTaggedTemplateExpression(node)) {
          const ctx = this.contextOf(node);
          const target = Node.isCallExpression(node) ? this.calledFunction(node) : this.calleeOf(node);
          if (ctx.kind === 'ordinary' && target.kind === 'function') {
            const why = this.mayBlock(target.node);
            if (why !== undefined) {
              const message =
                `${this.describeContext(ctx)} and calls tasklet function '${this.nameOf(target.node)}', which may block ` +
                `(it ${why.text}): ordinary code cannot be suspended, so this throws StacklessError when it blocks. ` +
                `Mark '${this.nameOf(ctx.fn)}' "use tasklet".`;
              add(node, this.diagnostic('SL2001', node, message));
            }
          } else if (ctx.kind === 'ordinary' && target.kind === 'primitive' && target.blocks) {
            const message =
              `${this.describeContext(ctx)} and calls ${this.describe(target)}, which blocks: ordinary code cannot be ` +
              `suspended, so this throws StacklessError when it blocks. Mark '${this.nameOf(ctx.fn)}' "use tasklet".`;
            add(node, this.diagnostic('SL2003', node, message));
          } else if (ctx.kind === 'main' && target.kind === 'function') {
            const why = this.mayWait(target.node);
            if (why !== undefined) {
              const message = `tasklet function '${this.nameOf(target.node)}' may wait for the event loop (it ${why.text}), but ${MAIN}: the call throws StacklessError. ${FIX}`;
              add(node, this.diagnostic('SL2004', node, message));
            }
          } else if (ctx.kind === 'main' && target.kind === 'primitive' && WAITING.has(target.name)) {
            const message = `${this.describe(target)} waits for the event loop, but ${MAIN}: the call throws StacklessError. ${FIX}`;
            add(node, this.diagnostic('SL2004', node, message));
          }
        }

        // tasklet functions passed as callbacks: SL2002, SL2004
        if (Node.isCallExpression(node) || Node.isNewExpression(node)) {
          node.getArguments().forEach((arg, index) => {
            const value = this.functionOfValue(arg);
            if (value.kind !== 'function' || !this.isTasklet(value.node) || this.accepts(node, index)) return;
            const fn = value.node;
            const callee = node.getExpression().getText();
            const shown = `'${callee.length > 40 ? `${callee.slice(0, 37)}...` : callee}'`;
            const ctx = this.contextOf(node);
            if (ctx.kind !== 'main' && !this.isDeferring(node)) {
              const why = this.mayBlock(fn);
              if (why === undefined) return;
              const message =
                `tasklet function '${this.nameOf(fn)}' may block (it ${why.text}) but is passed as a callback to ${shown}, ` +
                `which is not transformed: if it blocks when called from there it throws StacklessError. Only spawn(), ` +
                `new Tasklet(), Tasklet#bind(), tasklet functions and, inside a tasklet function, atomic() and the array ` +
                `methods (${[...ARRAY_METHODS].join(', ')}) can run a callback that blocks.`;
              add(arg, this.diagnostic('SL2002', arg, message));
            } else {
              const why = this.mayWait(fn);
              if (why === undefined) return;
              const message =
                `tasklet function '${this.nameOf(fn)}' may wait for the event loop (it ${why.text}) but is passed as a ` +
                `callback to ${shown}, which calls it from ordinary code of the main tasklet, which cannot wait: it throws ` +
                `StacklessError there. Spawn a tasklet for it (spawn(${this.nameOf(fn)}, …)) and drive the scheduler with runAsync().`;
              add(arg, this.diagnostic('SL2004', arg, message));
            }
          });
        }
      });
    }
    out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.pos - b.pos));
    return out.map((o) => o.d);
  }
}

/** Analyzes `paths` (source files) and returns the SL2xxx diagnostics, in file order. */
export function checkBlocking(paths: string[], options: BlockingOptions = {}): Diagnostic[] {
  if (paths.length === 0) return [];
  return new BlockingAnalysis(paths, options).findings();
}
