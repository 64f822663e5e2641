/**
 * After the frame layout is known, turns the declarations of frame locals into
 * plain assignments (the locals are declared once at the top of the compiled
 * function), so a state can be entered in the middle of a former block.
 */
import type { NodePath } from '@babel/traverse';
import * as t from '../ast.js';
import type { FrameLayout } from './bindings.js';

function target(layout: FrameLayout, name: string): t.Identifier | t.MemberExpression {
  const holder = layout.holders.get(name);
  return holder ? t.memberExpression(t.identifier(holder), t.identifier(name)) : t.identifier(name);
}

/** Rewrite a binding pattern so captured names point into their environment. */
export function patternToTarget(layout: FrameLayout, node: t.LVal | t.Pattern): t.LVal {
  if (t.isIdentifier(node)) return target(layout, node.name);
  if (t.isAssignmentPattern(node)) return t.assignmentPattern(patternToTarget(layout, node.left) as any, node.right);
  if (t.isArrayPattern(node))
    return t.arrayPattern(node.elements.map((e) => (e == null ? null : (patternToTarget(layout, e as t.LVal) as any))));
  if (t.isObjectPattern(node))
    return t.objectPattern(
      node.properties.map((p) => {
        if (t.isRestElement(p)) return t.restElement(patternToTarget(layout, p.argument) as any);
        const value = patternToTarget(layout, p.value as t.LVal);
        return t.objectProperty(p.key, value as any, p.computed, false);
      }),
    );
  if (t.isRestElement(node)) return t.restElement(patternToTarget(layout, node.argument) as any);
  return node as t.LVal;
}

function isHoistedDeclaration(path: NodePath<t.VariableDeclaration>, layout: FrameLayout): boolean {
  if (path.node.kind === 'var') return true;
  const names = Object.keys(t.getBindingIdentifiers(path.node.declarations[0]!.id));
  const b = names.length ? path.scope.getBinding(names[0]!) : undefined;
  return b !== undefined && layout.hoisted.has(b);
}

function assignments(layout: FrameLayout, decl: t.VariableDeclaration, reset: boolean): t.Expression[] {
  const out: t.Expression[] = [];
  for (const d of decl.declarations) {
    if (d.init) out.push(t.assignmentExpression('=', patternToTarget(layout, d.id as t.LVal) as any, d.init));
    else if (reset && decl.kind !== 'var' && t.isIdentifier(d.id))
      out.push(t.assignmentExpression('=', target(layout, d.id.name), t.identifier('undefined')));
  }
  return out;
}

export function hoistDeclarations(fn: NodePath<t.Function>, layout: FrameLayout): void {
  const functionDecls: NodePath<t.FunctionDeclaration>[] = [];
  fn.traverse({
    Function(p) {
      if (p.isFunctionDeclaration()) {
        const name = p.node.id?.name;
        const b = name ? p.parentPath.scope.getBinding(name) : undefined;
        if (b && layout.hoisted.has(b)) functionDecls.push(p);
      }
      p.skip();
    },
    Class(p) {
      if (p.isClassDeclaration() && p.node.id) {
        const b = p.scope.parent?.getBinding(p.node.id.name) ?? p.parentPath.scope.getBinding(p.node.id.name);
        if (b && layout.hoisted.has(b)) {
          const id = p.node.id;
          const expr = t.classExpression(t.identifier(id.name), p.node.superClass, p.node.body, p.node.decorators ?? []);
          p.replaceWith(t.expressionStatement(t.assignmentExpression('=', target(layout, id.name), expr)));
        }
      }
      p.skip();
    },
    VariableDeclaration(p) {
      if (!isHoistedDeclaration(p, layout)) return;
      const parent = p.parentPath;
      if (parent.isForXStatement() && parent.node.left === p.node) {
        p.replaceWith(patternToTarget(layout, p.node.declarations[0]!.id as t.LVal) as any);
        return;
      }
      const exprs = assignments(layout, p.node, true);
      if (parent.isForStatement() && parent.node.init === p.node) {
        if (exprs.length === 0) p.remove();
        else p.replaceWith(exprs.length === 1 ? exprs[0]! : t.sequenceExpression(exprs));
        return;
      }
      if (exprs.length === 0) p.remove();
      else p.replaceWith(t.expressionStatement(exprs.length === 1 ? exprs[0]! : t.sequenceExpression(exprs)));
    },
  });
  // function declarations are created when their block is entered, before its first statement
  for (const p of functionDecls) {
    const node = p.node;
    const name = node.id!.name;
    const expr = t.functionExpression(t.identifier(name), node.params, node.body, node.generator, node.async);
    expr.typeParameters = node.typeParameters as any;
    expr.returnType = node.returnType;
    expr.loc = node.loc;
    const envs = layout.closureEnvs.get(node);
    if (envs) layout.closureEnvs.set(expr, envs);
    const stmt = t.expressionStatement(t.assignmentExpression('=', target(layout, name), expr));
    const container = p.parentPath;
    p.remove();
    if (container.isBlockStatement() || container.isProgram()) (container as NodePath<t.BlockStatement>).unshiftContainer('body', stmt);
    else if (container.isSwitchCase()) container.parentPath.insertBefore(stmt); // hoisted to the whole switch
    else container.replaceWith(stmt);
  }
}
