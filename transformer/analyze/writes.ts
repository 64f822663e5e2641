/**
 * Names a subtree may assign: assignment and update targets, for-in/of heads, declarators,
 * catch parameters (patterns included). Nested functions are walked too, which can only
 * over-report: callers use it to prove a name is *not* written.
 */
import * as t from '../ast.js';

export function writtenNames(nodes: t.Node[], into = new Set<string>()): Set<string> {
  for (const node of nodes)
    t.traverseFast(node, (n) => {
      let target: t.Node | null | undefined = null;
      if (t.isAssignmentExpression(n)) target = n.left;
      else if (t.isUpdateExpression(n)) target = n.argument;
      else if (t.isForXStatement(n)) target = n.left;
      else if (t.isVariableDeclarator(n)) target = n.id;
      else if (t.isCatchClause(n)) target = n.param;
      if (!target) return;
      if (t.isIdentifier(target)) into.add(target.name);
      else for (const name of Object.keys(t.getBindingIdentifiers(target))) into.add(name);
    });
  return into;
}
