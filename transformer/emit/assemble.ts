/**
 * Builds the compiled function body around the states:
 *
 *   const $tk = rt.tok;                       // who the caller meant to call
 *   let $pc = 0, $v, <frame locals>;
 *   if (rt.rf !== null) { <restore from the frame record> } else { <fresh entry> }
 *   $loop: for (;;) {
 *     try { switch ($pc) { case 0: ... } }
 *     catch ($err) { <stack-overflow spill>; <route to a catch/finally state>; throw $err; }
 *   }
 *
 * and fills in the save code of every call site, now that every frame local
 * is known. Saving makes no function calls, so it cannot overflow the stack.
 */
import * as t from '../ast.js';
import type { FunctionContext } from '../lower/context.js';
import { exceptionRoutes } from '../lower/tries.js';
import { writtenNames } from '../analyze/writes.js';
import type { Dispatch } from './liveness.js';

export interface AssembleInput {
  ctx: FunctionContext;
  params: string[];
  self: t.Expression | null;
  usesThis: boolean;
  argsLocal: string | null;
  newTargetLocal: string | null;
  fnNode: t.Node;
  /** module-level constant holding this function's metadata (see emit/meta.ts) */
  metaName: string;
  /** compiled callers are recognised by the metadata tag on `$tk` (object literal methods) */
  markedByMeta: boolean;
  /** keys used in the frame record for each local (never f/pc/up/th) */
}

const RESERVED_KEYS = new Set(['f', 'pc', 'up', 'th', 'm']);

export function frameKey(local: string): string {
  return RESERVED_KEYS.has(local) ? `$${local}` : local;
}

export function frameLocals(input: AssembleInput): string[] {
  const { ctx, params } = input;
  return [
    ...params,
    ...ctx.layout.locals.filter((l) => !params.includes(l)),
    ...ctx.temps,
    ...ctx.helpers,
    ...(input.argsLocal ? [input.argsLocal] : []),
    ...(input.newTargetLocal ? [input.newTargetLocal] : []),
  ];
}

export function assemble(input: AssembleInput): { statements: t.Statement[]; dispatch: Dispatch } {
  const { ctx, params, self } = input;
  const n = ctx.names;
  const id = (name: string) => t.identifier(name);
  const rt = (field: string) => ctx.rtMember(field);
  const locals = frameLocals(input);
  /** locals some state (or the exception routing) assigns; filled before the save code is built */
  const written = new Set<string>();
  const hasTry = ctx.tries.length > 0;
  const rtName = n.rt;
  const selfName = self && t.isIdentifier(self) ? self.name : null;
  const selfCode = self ? codeOf(self) : null;
  // "was I entered from ordinary code?", evaluated only while unwinding
  const mismatchCode = input.markedByMeta ? `${n.token} === null || ${n.token}[${rtName}.tagKey] !== ${input.metaName}` : selfCode !== null ? `${n.token} !== ${selfCode}` : null;
  // unwinding ($pc holds the resume point): fill the record, link it above the caller's, return it
  const saveCode = (): string => {
    const rec = n.record;
    const fields = [`f: ${selfName ?? n.token}`, `pc: ${n.pc}`, 'up: null', `m: ${input.metaName}`];
    if (input.usesThis) fields.push('th: this');
    for (const l of locals) fields.push(frameKey(l) === l ? l : `${frameKey(l)}: ${l}`);
    // a resumed activation refills the record it was restored from (the runtime drops it on
    // resume) instead of allocating a new one: less garbage per switch. A local no state
    // writes (a parameter never reassigned) still holds what the record holds.
    const refill = [`${rec}.pc = ${n.pc};`, `${rec}.up = null;`];
    for (const l of locals) if (written.has(l)) refill.push(`${rec}.${frameKey(l)} = ${l};`);
    let code = `if (${rec} === null) ${rec} = { ${fields.join(', ')} }; else { ${refill.join(' ')} } `;
    // the call returned the callee's record while unwinding (undefined from the primitive
    // that suspended, or after a spill started here): link it below this one, or this is
    // the innermost record of the chain. No store into the long-lived `rt` per frame.
    code += `if (${n.value} !== undefined) ${n.value}.up = ${rec}; else ${rtName}.inner = ${rec}; `;
    if (mismatchCode !== null) {
      // entered from ordinary code: nobody below will save, so the frames above are driven
      // from here and this activation carries on in place with its call's outcome
      const onThrow = hasTry ? `${n.resumeThrow} = 1;` : `throw ${n.value};`;
      code += `if (${mismatchCode}) { ${n.value} = ${rtName}.boundaryHere(${rec}); if (${rtName}.rk !== 0) ${onThrow} continue ${n.resume}; } `;
    }
    return `${code}return ${rec}`;
  };

  // the last state falls off the end of the function (unless it ends in a jump already)
  const lastState = ctx.em.states[ctx.em.states.length - 1]!.body;
  const lastStmt = lastState[lastState.length - 1];
  if (lastStmt === undefined || !(t.isReturnStatement(lastStmt) || t.isThrowStatement(lastStmt) || t.isContinueStatement(lastStmt))) ctx.em.emit(t.returnStatement());

  const err = id('$error');
  const overflow = `$error instanceof RangeError && $error.message === "Maximum call stack size exceeded"`;
  // a call that never entered its callee because the stack was full: spill to the heap and
  // retry it (a frame entered from ordinary code does not spill: its stack is not ours to empty)
  let spill = `if (${n.pc} < 0 && $error instanceof RangeError && $error !== ${rtName}.spent && $error.message === "Maximum call stack size exceeded"`;
  spill += mismatchCode !== null ? ` && !(${mismatchCode})) ` : ') ';
  // this frame is the innermost of the spill (nothing below it to link), resumed at the retry entry
  spill += `{ ${rtName}.u = 2; ${n.value} = undefined; ${n.pc} = -${n.pc} - 1; break ${n.save}; } if (${n.pc} < 0) ${n.pc} = -${n.pc}`;
  // still in the entry state, which changes nothing outside this activation: the call
  // that entered it may simply be made again, so let the caller spill and retry it
  if (entryIsPure(ctx.em.states[0]!.body, new Set(locals))) spill += `; if (${n.pc} === 0 && ${overflow}) throw $error`;
  const catchBody: t.Statement[] = [
    t.rawStatements(spill),
    ...exceptionRoutes(ctx, err),
    // not ours to retry any more: a caller must not re-run a call that did run
    t.rawStatements(`if ($error instanceof RangeError) ${rtName}.spent = $error; throw $error`),
  ];

  const cases = ctx.em.states.map((s) => t.switchCase(t.numericLiteral(s.label.id), s.body));
  for (const c of cases) writtenNames(c.consequent, written);
  writtenNames(catchBody, written);
  ctx.em.finish();
  const tryBlock: t.Statement[] = [];
  if (hasTry) {
    tryBlock.push(
      t.ifStatement(
        t.binaryExpression('!==', id(n.resumeThrow), t.numericLiteral(0)),
        t.blockStatement([
          t.expressionStatement(t.assignmentExpression('=', id(n.resumeThrow), t.numericLiteral(0))),
          t.throwStatement(id(n.value)),
        ]),
      ),
    );
  }
  const sw = t.switchStatement(id(n.pc), cases);
  tryBlock.push(sw);
  const handler = t.blockStatement(catchBody);
  const dispatch = t.labeledStatement(
    id(n.save),
    t.blockStatement([
      t.labeledStatement(
        id(n.loop),
        t.forStatement(null, null, null, t.blockStatement([t.tryStatement(t.blockStatement(tryBlock), t.catchClause(err, handler))])),
      ),
    ]),
  );

  // entry: restore a frame record, or start fresh
  const f = n.frame;
  let restore = `const ${f} = ${rtName}.rf; ${rtName}.rf = null; ${n.record} = ${f}; `;
  for (const l of locals) restore += `${l} = ${f}.${frameKey(l)}; `;
  restore += `${n.pc} = ${f}.pc; ${n.value} = ${rtName}.rv; if (${rtName}.rk !== 0) ${hasTry ? `${n.resumeThrow} = 1` : `throw ${n.value}`}`;
  const fresh: t.Statement[] = [];
  const env = ctx.layout.env;
  if (env) {
    fresh.push(
      t.expressionStatement(
        t.assignmentExpression(
          '=',
          id(env.name),
          t.objectExpression(env.fields.map((fld) => t.objectProperty(id(fld), env.params.includes(fld) ? id(fld) : id('undefined')))),
        ),
      ),
    );
  }
  for (const target of ctx.layout.tdz.get(input.fnNode) ?? []) {
    fresh.push(t.expressionStatement(t.assignmentExpression('=', t.cloneNode(target), id(ctx.tdzSentinel!))));
  }
  if (input.argsLocal) fresh.push(t.expressionStatement(t.assignmentExpression('=', id(input.argsLocal), id('arguments'))));
  if (input.newTargetLocal)
    fresh.push(t.expressionStatement(t.assignmentExpression('=', id(input.newTargetLocal), t.metaProperty(id('new'), id('target')))));

  const declared = [n.pc, n.value, ...locals.filter((l) => !params.includes(l)), ...(hasTry ? [n.resumeThrow] : []), n.record];
  const statements = [
    t.variableDeclaration('const', [t.variableDeclarator(id(n.token), rt('tok'))]),
    // consumed: a later call from ordinary code must not find this function's name here
    t.expressionStatement(t.assignmentExpression('=', rt('tok'), t.nullLiteral())),
    t.variableDeclaration(
      'let',
      declared.map((name) =>
        t.variableDeclarator(id(name), name === n.pc || name === n.resumeThrow ? t.numericLiteral(0) : name === n.record ? t.nullLiteral() : null),
      ),
    ),
    t.ifStatement(t.binaryExpression('!==', rt('rf'), t.nullLiteral()), t.blockStatement([t.rawStatements(restore)]), fresh.length ? t.blockStatement(fresh) : null),
    // the outer loop re-enters the dispatch loop after driving the frames above a boundary
    t.labeledStatement(id(n.resume), t.forStatement(null, null, null, t.blockStatement([dispatch, t.rawStatements(saveCode())]))),
  ];
  return { statements, dispatch: { pcVar: n.pc, sw, handler } };
}


/**
 * Does the entry state (the code before the first resume point) only compute
 * and write this activation's own locals? Then running it twice is harmless.
 */
function entryIsPure(stmts: t.Statement[], locals: Set<string>): boolean {
  const pureExpr = (e: t.Node | null | undefined): boolean => {
    if (e == null) return true;
    if (t.isIdentifier(e) || t.isLiteral(e) && !t.isTemplateLiteral(e) || t.isThisExpression(e)) return true;
    if (t.isTemplateLiteral(e)) return e.expressions.every(pureExpr);
    if (t.isUnaryExpression(e)) return e.operator !== 'delete' && pureExpr(e.argument);
    if (t.isBinaryExpression(e) || t.isLogicalExpression(e)) return pureExpr(e.left) && pureExpr(e.right);
    if (t.isConditionalExpression(e)) return pureExpr(e.test) && pureExpr(e.consequent) && pureExpr(e.alternate);
    if (t.isMemberExpression(e)) return pureExpr(e.object) && (!e.computed || pureExpr(e.property));
    if (t.isArrayExpression(e)) return e.elements.every((x) => x === null || (!t.isSpreadElement(x) && pureExpr(x)));
    if (t.isObjectExpression(e)) return e.properties.every((p) => t.isObjectProperty(p) && !p.computed && pureExpr(p.value));
    if (t.isAssignmentExpression(e)) return t.isIdentifier(e.left) && locals.has(e.left.name) && pureExpr(e.right);
    if (t.isUpdateExpression(e)) return t.isIdentifier(e.argument) && locals.has(e.argument.name);
    if (t.isSequenceExpression(e)) return e.expressions.every(pureExpr);
    return false;
  };
  const pureStmt = (s: t.Statement): boolean => {
    if (t.isExpressionStatement(s)) return pureExpr(s.expression);
    if (t.isReturnStatement(s)) return pureExpr(s.argument);
    if (t.isIfStatement(s)) return pureExpr(s.test) && pureStmt(s.consequent) && (!s.alternate || pureStmt(s.alternate));
    if (t.isBlockStatement(s)) return s.body.every(pureStmt);
    if (t.isEmptyStatement(s)) return true;
    return false;
  };
  return stmts.every(pureStmt);
}

/** The text of the expressions a function names itself by (analyze/prepare.ts `self`). */
function codeOf(e: t.Node): string {
  switch (e.type) {
    case 'Identifier':
      return e.name;
    case 'ThisExpression':
      return 'this';
    case 'PrivateName':
      return `#${e.id.name}`;
    case 'StringLiteral':
      return JSON.stringify(e.value);
    case 'MemberExpression':
      return e.computed ? `${codeOf(e.object)}[${codeOf(e.property)}]` : `${codeOf(e.object)}.${codeOf(e.property)}`;
    case 'CallExpression':
      return `${codeOf(e.callee)}(${e.arguments.map(codeOf).join(', ')})`;
    default:
      throw new Error(`internal: a function names itself by a ${e.type}`);
  }
}
