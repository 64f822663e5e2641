/**
 * Names a subtree may assign: assignment and update targets, for-in/of heads, declarators,
 * catch parameters (patterns included). Nested functions are walked too, which can only
 * over-report: callers use it to prove a name is *not* written.
 */
import * as t from '../ast.js';

export function writtenNames(nodes: t.Node[], into = new Set<string>()): Set<string> {
  for (const node of nodes)
    t.traverseFast(node, (n) => {
      // (compared by type: this runs on every node of every compiled function)
      let target: t.Node | null | undefined = null;
      switch (n.type) {
        case 'AssignmentExpression':
          target = n.left;
          break;
        case 'UpdateExpression':
          target = n.argument;
          break;
        case 'ForInStatement':
        case 'ForOfStatement':
          target = n.left;
          break;
        case 'VariableDeclarator':
          target = n.id;
          break;
        case 'CatchClause':
          target = n.param;
          break;
        default:
          return;
      }
      if (!target) return;
      if (target.type === 'Identifier') into.add(target.name);
      else for (const name of Object.keys(t.getBindingIdentifiers(target))) into.add(name);
    });
  return into;
}
