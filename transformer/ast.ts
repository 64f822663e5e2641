/**
 * `@babel/types` for the compiler, with the builders it calls most often replaced by ones that
 * do not validate their arguments. Babel's builders check every field of every node they
 * make; the compiler builds tens of nodes per call site, and that checking was about a tenth
 * of compiling a function. The nodes are the same objects Babel's builders return (same
 * fields, same order); the compiler's own output is checked by the fixtures instead (every
 * compiled fixture is run).
 *
 * Everything else (predicates, other builders, `cloneNode`, `VISITOR_KEYS`, the node types)
 * is `@babel/types` itself.
 */
import type * as T from '@babel/types';

export * from '@babel/types';

export const identifier: typeof T.identifier = (name) => ({ type: 'Identifier', name }) as T.Identifier;
export const numericLiteral: typeof T.numericLiteral = (value) => ({ type: 'NumericLiteral', value }) as T.NumericLiteral;
export const stringLiteral: typeof T.stringLiteral = (value) => ({ type: 'StringLiteral', value }) as T.StringLiteral;
export const nullLiteral: typeof T.nullLiteral = () => ({ type: 'NullLiteral' }) as T.NullLiteral;
export const memberExpression: typeof T.memberExpression = (object, property, computed = false, optional = null) =>
  ({ type: 'MemberExpression', object, property, computed, optional }) as T.MemberExpression;
export const binaryExpression: typeof T.binaryExpression = (operator, left, right) => ({ type: 'BinaryExpression', operator, left, right }) as T.BinaryExpression;
export const logicalExpression: typeof T.logicalExpression = (operator, left, right) => ({ type: 'LogicalExpression', operator, left, right }) as T.LogicalExpression;
export const assignmentExpression: typeof T.assignmentExpression = (operator, left, right) =>
  ({ type: 'AssignmentExpression', operator, left, right }) as T.AssignmentExpression;
export const updateExpression: typeof T.updateExpression = (operator, argument, prefix = false) =>
  ({ type: 'UpdateExpression', operator, argument, prefix }) as T.UpdateExpression;
export const unaryExpression: typeof T.unaryExpression = (operator, argument, prefix = true) =>
  ({ type: 'UnaryExpression', operator, argument, prefix }) as T.UnaryExpression;
export const callExpression: typeof T.callExpression = (callee, args) => ({ type: 'CallExpression', callee, arguments: args }) as T.CallExpression;
export const conditionalExpression: typeof T.conditionalExpression = (test, consequent, alternate) =>
  ({ type: 'ConditionalExpression', test, consequent, alternate }) as T.ConditionalExpression;
export const sequenceExpression: typeof T.sequenceExpression = (expressions) => ({ type: 'SequenceExpression', expressions }) as T.SequenceExpression;
export const objectExpression: typeof T.objectExpression = (properties) => ({ type: 'ObjectExpression', properties }) as T.ObjectExpression;
export const objectProperty: typeof T.objectProperty = (key, value, computed = false, shorthand = false, decorators = null) =>
  ({ type: 'ObjectProperty', key, value, computed, shorthand, decorators }) as T.ObjectProperty;
export const arrayExpression: typeof T.arrayExpression = (elements = []) => ({ type: 'ArrayExpression', elements }) as T.ArrayExpression;
export const expressionStatement: typeof T.expressionStatement = (expression) => ({ type: 'ExpressionStatement', expression }) as T.ExpressionStatement;
export const blockStatement: typeof T.blockStatement = (body, directives = []) => ({ type: 'BlockStatement', body, directives }) as T.BlockStatement;
export const ifStatement: typeof T.ifStatement = (test, consequent, alternate = null) => ({ type: 'IfStatement', test, consequent, alternate }) as T.IfStatement;
export const switchCase: typeof T.switchCase = (test = null, consequent) => ({ type: 'SwitchCase', test, consequent }) as T.SwitchCase;
export const continueStatement: typeof T.continueStatement = (label = null) => ({ type: 'ContinueStatement', label }) as T.ContinueStatement;
export const breakStatement: typeof T.breakStatement = (label = null) => ({ type: 'BreakStatement', label }) as T.BreakStatement;
export const returnStatement: typeof T.returnStatement = (argument = null) => ({ type: 'ReturnStatement', argument }) as T.ReturnStatement;
export const throwStatement: typeof T.throwStatement = (argument) => ({ type: 'ThrowStatement', argument }) as T.ThrowStatement;
export const labeledStatement: typeof T.labeledStatement = (label, body) => ({ type: 'LabeledStatement', label, body }) as T.LabeledStatement;
export const variableDeclaration: typeof T.variableDeclaration = (kind, declarations) =>
  ({ type: 'VariableDeclaration', kind, declarations }) as T.VariableDeclaration;
export const variableDeclarator: typeof T.variableDeclarator = (id, init = null) => ({ type: 'VariableDeclarator', id, init }) as T.VariableDeclarator;

/**
 * Statements the compiler writes as text: the fixed shapes around every compiled function
 * (restoring and saving a frame record, the stack-overflow spill in the dispatch's `catch`).
 * They would be hundreds of nodes per function to build, walk and print; as text they cost
 * one node. `@babel/generator` prints an identifier's name as it is, and the statement's own
 * `;` ends the text, so `code` must be statements whose last one lacks its `;` and no line
 * breaks (a source map then maps the whole line to one place). Nothing in the compiler reads
 * them again: they must not declare anything that other code refers to, and must not hold
 * the user's code.
 */
export function rawStatements(code: string): T.ExpressionStatement {
  return expressionStatement(identifier(code));
}
