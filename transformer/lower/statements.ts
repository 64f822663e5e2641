/**
 * Lowers statements into states. A statement without call sites is emitted as
 * it is (only its `break`/`continue`/`return` that leave it are redirected);
 * one with call sites is exploded: its control flow becomes jumps between
 * states, so execution can resume at any call site inside it.
 */
import * as t from '../ast.js';
import type { FunctionContext, TryRegion } from './context.js';
import type { Label } from './emitter.js';
import { explode, toTemp } from './expressions.js';
import { destructure } from './patterns.js';
import { lowerTry, jumpThroughFinally, returnThroughFinally } from './tries.js';
import { lowerForOf, lowerForIn } from './iteration.js';
import { lowerLoop, lowerNativeNest } from './loops.js';

export function lowerStatements(ctx: FunctionContext, stmts: t.Statement[]): void {
  for (const s of stmts) lowerStatement(ctx, s);
}

export function lowerStatement(ctx: FunctionContext, node: t.Statement, labels: string[] = []): void {
  const em = ctx.em;
  if (node.loc) ctx.currentLoc = node.loc;
  if (!ctx.cs.contains(node)) {
    em.emit(redirectLeaps(ctx, node));
    return;
  }
  ctx.withTemps(() => {
    switch (node.type) {
      case 'BlockStatement':
        createBlockEnv(ctx, node);
        lowerStatements(ctx, node.body);
        return;
      case 'ExpressionStatement': {
        const v = explode(ctx, node.expression, true);
        if (!(t.isIdentifier(v) && (v.name === 'undefined' || ctx.temps.includes(v.name)))) em.emit(t.expressionStatement(v));
        return;
      }
      case 'IfStatement': {
        const test = explode(ctx, node.test);
        const elseL = ctx.newLabel('else');
        const end = ctx.newLabel('endif');
        em.emit(t.ifStatement(t.unaryExpression('!', test), t.blockStatement(em.jumpStatements(node.alternate ? elseL : end))));
        lowerStatement(ctx, node.consequent);
        if (node.alternate) {
          em.jump(end);
          em.mark(elseL);
          lowerStatement(ctx, node.alternate);
        }
        em.mark(end);
        return;
      }
      case 'ReturnStatement': {
        const v = node.argument ? explode(ctx, node.argument) : t.identifier('undefined');
        returnThroughFinally(ctx, v).forEach((s) => em.emit(s));
        return;
      }
      case 'ThrowStatement':
        em.emit(t.throwStatement(explode(ctx, node.argument)));
        return;
      case 'LabeledStatement': {
        const after = ctx.newLabel(`label ${node.label.name}`);
        ctx.leaps.push({ kind: 'labeled', breakLabel: after, label: node.label.name });
        lowerStatement(ctx, node.body, [...labels, node.label.name]);
        ctx.leaps.pop();
        em.mark(after);
        return;
      }
      case 'WhileStatement':
        if (ctx.options.ticks && ctx.cs.isNativeNest(node)) return lowerNativeNest(ctx, node, labels);
        return lowerLoop(ctx, labels, null, node.test, null, node.body, false, node);
      case 'DoWhileStatement':
        if (ctx.options.ticks && ctx.cs.isNativeNest(node)) return lowerNativeNest(ctx, node, labels);
        return lowerLoop(ctx, labels, null, node.test, null, node.body, true, node);
      case 'ForStatement':
        if (ctx.options.ticks && ctx.cs.isNativeNest(node)) return lowerNativeNest(ctx, node, labels);
        return lowerLoop(ctx, labels, node.init, node.test, node.update, node.body, false, node);
      case 'ForOfStatement':
        return lowerForOf(ctx, node, labels);
      case 'ForInStatement':
        return lowerForIn(ctx, node, labels);
      case 'SwitchStatement':
        return lowerSwitch(ctx, node);
      case 'TryStatement':
        return lowerTry(ctx, node);
      default:
        throw new Error(`internal: cannot lower a ${node.type} that contains a call site`);
    }
  });
}

/** A block whose captured `let`s are per-iteration gets a fresh environment on entry. */
export function createBlockEnv(ctx: FunctionContext, block: t.Node): void {
  const env = ctx.layout.blockEnvs.get(block);
  if (env) {
    ctx.em.emit(
      t.expressionStatement(
        t.assignmentExpression(
          '=',
          t.identifier(env.name),
          t.objectExpression(env.fields.map((f) => t.objectProperty(t.identifier(f), t.identifier('undefined')))),
        ),
      ),
    );
  }
  // entering the block starts the temporal dead zone of its let/const bindings again
  for (const target of ctx.layout.tdz.get(block) ?? []) {
    ctx.em.emit(t.expressionStatement(t.assignmentExpression('=', t.cloneNode(target), t.identifier(ctx.tdzSentinel!))));
  }
}


function lowerSwitch(ctx: FunctionContext, node: t.SwitchStatement): void {
  const em = ctx.em;
  const d = toTemp(ctx, explode(ctx, node.discriminant));
  createBlockEnv(ctx, node);
  const after = ctx.newLabel('endswitch');
  const caseLabels = node.cases.map(() => ctx.newLabel('case'));
  let defaultLabel: Label | null = null;
  node.cases.forEach((c, i) => {
    if (!c.test) {
      defaultLabel = caseLabels[i]!;
      return;
    }
    const v = explode(ctx, c.test);
    em.emit(t.ifStatement(t.binaryExpression('===', t.cloneNode(d), v), t.blockStatement(em.jumpStatements(caseLabels[i]!))));
  });
  em.jump(defaultLabel ?? after);
  ctx.leaps.push({ kind: 'switch', breakLabel: after });
  node.cases.forEach((c, i) => {
    em.mark(caseLabels[i]!);
    lowerStatements(ctx, c.consequent);
  });
  ctx.leaps.pop();
  em.mark(after);
}

/** Assign an iteration value to a for-in/for-of target (identifier, member or pattern). */
export function assignTarget(ctx: FunctionContext, target: t.LVal, value: t.Identifier): void {
  if ((t.isObjectPattern(target) || t.isArrayPattern(target) || t.isAssignmentPattern(target)) && ctx.cs.contains(target)) destructure(ctx, target, value);
  else ctx.em.emit(t.expressionStatement(t.assignmentExpression('=', target, value)));
}

/**
 * Statements without call sites run as they are, but a `break`/`continue`
 * that leaves them targets a state now, and a `return` inside a lowered
 * `try` must run its `finally` first.
 */
export function redirectLeaps(ctx: FunctionContext, stmt: t.Statement): t.Statement {
  const nativeLoops: string[][] = [];
  let nativeBreakables = 0;
  let nativeLoopDepth = 0;
  const nativeLabels: string[] = [];
  const walk = (node: t.Node): t.Node => {
    if (t.isFunction(node) || t.isClass(node)) return node;
    if (t.isBreakStatement(node)) {
      if (node.label ? nativeLabels.includes(node.label.name) : nativeBreakables > 0) return node;
      return t.blockStatement(jumpThroughFinally(ctx, 'break', node.label?.name ?? null));
    }
    if (t.isContinueStatement(node)) {
      if (node.label && node.label.name === ctx.names.loop) return node;
      if (node.label ? nativeLoops.some((ls) => ls.includes(node.label!.name)) : nativeLoopDepth > 0) return node;
      return t.blockStatement(jumpThroughFinally(ctx, 'continue', node.label?.name ?? null));
    }
    if (t.isReturnStatement(node)) {
      if (ctx.innermostFinally() === null) return node;
      return t.blockStatement(returnThroughFinally(ctx, node.argument ?? t.identifier('undefined')));
    }
    const isLoopNode = t.isLoop(node);
    const isBreakable = isLoopNode || t.isSwitchStatement(node);
    let labelsHere: string[] = [];
    if (t.isLabeledStatement(node)) {
      nativeLabels.push(node.label.name);
      let inner: t.Node = node.body;
      labelsHere = [node.label.name];
      while (t.isLabeledStatement(inner)) {
        labelsHere.push(inner.label.name);
        inner = inner.body;
      }
    }
    if (isLoopNode) {
      nativeLoops.push(pendingLabels.splice(0));
      nativeLoopDepth++;
    }
    if (isBreakable) nativeBreakables++;
    if (t.isLabeledStatement(node)) pendingLabels.push(node.label.name);
    for (const key of t.VISITOR_KEYS[node.type] ?? []) {
      const child = (node as any)[key];
      if (Array.isArray(child)) child.forEach((c, i) => c && typeof c.type === 'string' && (child[i] = walk(c)));
      else if (child && typeof child.type === 'string') (node as any)[key] = walk(child);
    }
    if (t.isLabeledStatement(node)) nativeLabels.pop();
    if (isLoopNode) {
      nativeLoops.pop();
      nativeLoopDepth--;
    }
    if (isBreakable) nativeBreakables--;
    void labelsHere;
    return node;
  };
  const pendingLabels: string[] = [];
  return walk(stmt) as t.Statement;
}

export type { TryRegion };
