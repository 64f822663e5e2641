/**
 * Finds the functions marked `"use tasklet"`, applies a module-level marker to
 * every function of the module, and rejects what cannot be compiled.
 */
import type { NodePath } from '@babel/traverse';
import type { TraverseOptions } from '@babel/traverse';
import * as t from './ast.js';
import { makeDiagnostic } from './diagnostics.js';
import type { PrepareEnv } from './analyze/prepare.js';

export const DIRECTIVE = 'use tasklet';

export type Traverse = (ast: t.Node, opts: TraverseOptions) => void;

export function hasDirective(node: t.Function): boolean {
  return t.isBlockStatement(node.body) && node.body.directives.some((d) => d.value.value === DIRECTIVE);
}

/**
 * `"use tasklet"` at the top of a module marks each of its functions (not async or generator
 * ones): removes the module directive and returns it (or null); `markInModule` is then
 * applied to every function (by the plain walk in index.ts).
 */
export function takeModuleDirective(ast: t.File): t.Directive[] {
  const directives = ast.program.directives;
  const taken = directives.filter((d) => d.value.value === DIRECTIVE);
  if (taken.length) ast.program.directives = directives.filter((d) => d.value.value !== DIRECTIVE);
  return taken;
}

export function markInModule(node: t.Function): void {
  if (node.async || node.generator) return;
  if (t.isClassMethod(node) && node.kind === 'constructor') return;
  if (t.isTSDeclareFunction(node) || t.isTSDeclareMethod(node)) return;
  if (!t.isBlockStatement(node.body)) {
    node.body = t.blockStatement([t.returnStatement(node.body as t.Expression)]);
  }
  if (!hasDirective(node)) node.body.directives.unshift(t.directive(t.directiveLiteral(DIRECTIVE)));
}

/** What one scan of the module found. */
export interface Scan {
  /** marked functions with no marked function around them, in source order */
  outermost: NodePath<t.Function>[];
  /** some marked function sits inside another one (it needs a later pass) */
  nested: boolean;
}

/** What the plain walk over the module (index.ts) already found out. */
export interface WalkFindings {
  /** a marked function sits inside another one */
  nested: boolean;
  /** calls of something named `eval` whose nearest function is marked (need a scope to judge) */
  evalCalls: number;
  /** the top-level statements that hold a marked function (or a misplaced marker) */
  holding: ReadonlySet<t.Node>;
}

/**
 * One traversal that reports marked functions that cannot be compiled and collects the
 * outermost marked functions. The outermost ones are disjoint subtrees, so one batch is
 * compiled on one set of paths; the functions nested inside them come in a later pass
 * (`findOutermostMarked`), once their parent is done. `with` statements and misplaced markers
 * were reported by the plain walk; so the traversal does not enter marked functions unless
 * marked functions nested in them must be checked too, or a call of `eval` in one must be
 * judged by its scope (a local named `eval` is no direct eval).
 */
export function scanMarked(ast: t.File, traverse: Traverse, env: PrepareEnv, walked: WalkFindings): Scan {
  const diag = (code: 'SL1001' | 'SL1002' | 'SL1004' | 'SL1008', node: t.Node) =>
    env.diagnostics.push(makeDiagnostic(code as any, env.file, env.source, node.loc));
  const outermost: NodePath<t.Function>[] = [];
  const enter = walked.evalCalls > 0 || walked.nested;
  // marked functions whose subtree is being visited (the innermost last)
  const open: t.Function[] = [];
  traverse(ast, {
    // (the scope crawl has seen every statement; the scan only needs those with marked functions)
    Statement(p: NodePath<t.Statement>) {
      if (p.parent.type === 'Program' && !walked.holding.has(p.node)) p.skip();
    },
    Function: {
      enter(p: NodePath<t.Function>) {
        if (!hasDirective(p.node)) return;
        const directive = (p.node.body as t.BlockStatement).directives.find((d) => d.value.value === DIRECTIVE)!;
        if (p.node.async) diag('SL1001', directive);
        else if (p.node.generator) diag('SL1002', directive);
        else if (p.isClassMethod() && p.node.kind === 'constructor') {
          diag('SL1008', directive);
          (p.node.body as t.BlockStatement).directives = (p.node.body as t.BlockStatement).directives.filter((d) => d !== directive);
          return;
        }
        if (open.length === 0) outermost.push(p);
        if (!enter) p.skip();
        else open.push(p.node);
      },
      exit(p: NodePath<t.Function>) {
        if (open[open.length - 1] === p.node) open.pop();
      },
    },
    CallExpression(c: NodePath<t.CallExpression>) {
      if (!open.length || !t.isIdentifier(c.node.callee, { name: 'eval' })) return;
      if (c.getFunctionParent()?.node === open[open.length - 1] && !c.scope.hasBinding('eval', true)) diag('SL1004', c.node);
    },
  });
  // in source order, as one traversal would have reported them
  env.diagnostics.sort((x, y) => x.start.line - y.start.line || x.start.column - y.start.column);
  return { outermost, nested: walked.nested };
}

/** Every marked function with no marked function around it, in source order. */
export function findOutermostMarked(ast: t.File, traverse: Traverse): NodePath<t.Function>[] {
  const found: NodePath<t.Function>[] = [];
  traverse(ast, {
    Function(p: NodePath<t.Function>) {
      if (hasDirective(p.node)) {
        found.push(p);
        p.skip();
      }
    },
  });
  return found;
}
