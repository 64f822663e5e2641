/**
 * Compiles one marked function in place: prepare → lay out the frame →
 * hoist declarations → lower statements into states → assemble the body.
 */
import type { NodePath } from '@babel/traverse';
import * as t from './ast.js';
import { objectConstant, prepareFunction, type PrepareEnv } from './analyze/prepare.js';
import { CallSites } from './analyze/callsites.js';
import { createsFunctions, layoutFrame, type FrameLayout } from './analyze/bindings.js';
import { hoistDeclarations } from './analyze/declarations.js';
import { convertClosures } from './analyze/closures.js';
import { FunctionContext, type Names } from './lower/context.js';
import { lowerStatements } from './lower/statements.js';
import { assemble, frameKey, frameLocals } from './emit/assemble.js';
import { buildMeta } from './emit/meta.js';
import { temporaryLiveness } from './emit/liveness.js';

export interface FileState extends PrepareEnv {
  runtimeName: string;
  /** runtime exports the compiled code uses: export name -> local name */
  imports: Map<string, string>;
  forceSwitch: boolean;
  ticks: boolean;
  /** module id relative to root, for function ids */
  moduleId: string;
  /** function ids and layouts compiled in this file */
  functions: CompiledInfo[];
  /** module-level metadata constants to emit after the runtime import: constant name, function id, declaration */
  metas: { name: string; id: string; statement: t.Statement }[];
  /** registrations of hoisted functions, emitted after the metadata */
  registrations: t.Statement[];
}

export interface CompiledInfo {
  id: string;
  fingerprint: string;
  locals: { key: string; name: string }[];
  line: number;
  column: number;
}

const ARRAY_METHODS = ['forEach', 'map', 'filter', 'reduce', 'some', 'every', 'find', 'findIndex', 'flatMap', 'sort'];

export function runtimeImport(file: FileState, exported: string): string {
  let local = file.imports.get(exported);
  if (!local) {
    local = file.unique(`${file.runtimeName}_${exported.replace(/^\$/, '')}`);
    file.imports.set(exported, local);
  }
  return local;
}

/** Closures that capture a per-iteration environment keep the one of their own iteration. */
function bindClosureEnvs(fn: NodePath<t.Function>, layout: FrameLayout): void {
  if (layout.closureEnvs.size === 0) return;
  fn.traverse({
    'Function|Class'(p: NodePath) {
      const envs = layout.closureEnvs.get(p.node);
      if (envs && p.isExpression()) {
        const wrapper = t.callExpression(
          t.arrowFunctionExpression(envs.map((e) => t.identifier(e)), p.node as t.Expression),
          envs.map((e) => t.identifier(e)),
        );
        (wrapper as any)._stacklessInternal = true;
        p.replaceWith(wrapper);
      }
      p.skip();
    },
  });
}

export function compileFunction(path: NodePath<t.Function>, file: FileState): void {
  {
    // nothing in it can suspend: it stays exactly as it is
    const scope = path.scope;
    const probe = new CallSites({ isGlobal: (name) => !scope.hasBinding(name) }, file.ticks);
    if (!probe.contains(path.node.body) && !path.node.params.some((p) => probe.contains(p)) && !createsFunctions(path.node.body)) return;
  }
  const prepared = prepareFunction(path, file);
  if (!prepared) return;
  const fn = prepared.fn;
  // the scan's crawl is still true of an untouched function (nothing else in it has changed:
  // the functions compiled before it in this batch are disjoint from it)
  if (prepared.changed) fn.scope.crawl();
  const programScope = fn.scope.getProgramParent();
  const oracle = { isGlobal: (name: string) => !fn.scope.hasBinding(name) && !programScope.hasBinding(name) };
  const cs = new CallSites(oracle, file.ticks);
  const body = fn.node.body as t.BlockStatement;
  if (!cs.contains(body) && !createsFunctions(body)) return;

  const names: Names = {
    rt: file.runtimeName,
    pc: file.unique('$pc'),
    value: file.unique('$v'),
    token: file.unique('$tk'),
    loop: file.unique('$loop'),
    save: file.unique('$save'),
    resume: file.unique('$resume'),
    resumeThrow: file.unique('$rs'),
    frame: file.unique('$f'),
    record: file.unique('$rec'),
    forceSwitch: file.forceSwitch ? runtimeImport(file, '$yield') : '',
    arrayHelpers: { get: (m: string) => (ARRAY_METHODS.includes(m) ? runtimeImport(file, `$${m}`) : undefined) },
    helper: (exported: string) => runtimeImport(file, exported),
  };
  const reserved = new Set(Object.values(names).filter((v): v is string => typeof v === 'string' && v !== ''));
  const layout = layoutFrame(fn, cs, reserved, file.unique, () => runtimeImport(file, 'TDZ'), () => runtimeImport(file, 'tdzWrite'));
  const tdzSentinel = layout.tdz.size ? runtimeImport(file, 'TDZ') : null;
  hoistDeclarations(fn, layout);
  convertClosures(fn, layout, prepared.qualifiedName, {
    unique: file.unique,
    importRuntime: (name) => runtimeImport(file, name),
    moduleId: file.moduleId,
  }, [prepared.argsLocal, prepared.newTargetLocal].filter((x): x is string => x !== null));
  bindClosureEnvs(fn, layout);

  const lowering = new CallSites(oracle, file.ticks, cs.forced);
  const ctx = new FunctionContext(names, lowering, layout, { forceSwitch: file.forceSwitch, ticks: file.ticks }, file.unique);
  ctx.tdzSentinel = tdzSentinel;
  const bodyStatements = (fn.node.body as t.BlockStatement).body;
  lowerStatements(ctx, bodyStatements);

  const params: string[] = [];
  for (const p of fn.node.params) {
    const id = t.isAssignmentPattern(p) ? p.left : t.isRestElement(p) ? p.argument : p;
    if (t.isIdentifier(id) && id.name !== 'this') params.push(id.name);
  }
  const metaName = prepared.metaName;
  const assembleInput = {
    ctx,
    params,
    self: prepared.self,
    usesThis: prepared.usesThis,
    argsLocal: prepared.argsLocal,
    newTargetLocal: prepared.newTargetLocal,
    fnNode: fn.node,
    metaName,
    markedByMeta: prepared.markedByMeta,
  };
  const { statements, dispatch } = assemble(assembleInput);
  fn.node.body = t.blockStatement(statements);
  const id = `${file.moduleId}#${prepared.qualifiedName}`;
  const line = fn.node.loc?.start.line ?? 0;
  const column = fn.node.loc?.start.column ?? 0;
  const locals = frameLocals(assembleInput);
  const tempSet = new Set(ctx.temps);
  const temps = locals.flatMap((name, slot) => (tempSet.has(name) ? [{ name, slot }] : []));
  const pcs = ctx.callSites.flatMap((c) => [c.retry.id, c.value.id]).sort((a, b) => a - b);
  const live = temporaryLiveness(dispatch, temps, pcs);
  const meta = buildMeta({ id, name: prepared.qualifiedName.split('/').pop()!, file: file.moduleId, line, column, locals, originalNames: layout.originalNames, ctx, usesThis: prepared.usesThis, live });
  file.metas.push({ name: metaName, id, statement: t.rawStatements(`const ${metaName} = ${meta.code}`) });
  registerIfNamed(fn, prepared.self, metaName, file);
  file.functions.push({
    id,
    fingerprint: meta.fingerprint,
    locals: locals.map((l) => ({ key: frameKey(l), name: layout.originalNames.get(l) ?? l })),
    line,
    column,
  });
}

/**
 * Functions reachable without a closure (module-level declarations and
 * constants, methods of module-level classes) are registered at module load
 * under their stable id, so a saved frame can name them and be restored.
 */
function registerIfNamed(fn: NodePath<t.Function>, self: t.Expression | null, metaName: string, file: FileState): void {
  const register = (target: t.Expression = self!) =>
    t.expressionStatement(t.callExpression(t.identifier(runtimeImport(file, 'registerFunction')), [t.identifier(metaName), t.cloneNode(target)]));
  const parent = fn.parentPath;
  // `key: () => ...`, `m() {...}`, `get x() {...}` in `const obj = { ... }` at module level:
  // named through the constant
  const prop = parent?.isCallExpression() && (parent.node as any)._stacklessInternal ? parent.parentPath : parent;
  const member = fn.isObjectMethod() ? fn : prop?.isObjectProperty() ? prop : null;
  if (!self && member !== null) {
    const node = member.node as t.ObjectMethod | t.ObjectProperty;
    const obj = member.parentPath as NodePath<t.ObjectExpression>;
    const owner = objectConstant(obj);
    const decl = obj.findParent((q) => q.isVariableDeclaration());
    const stmt = decl?.parentPath?.isExportNamedDeclaration() ? decl.parentPath : decl;
    if (node.computed || !(t.isIdentifier(node.key) || t.isStringLiteral(node.key)) || owner === null || !stmt?.parentPath?.isProgram()) return;
    const key = t.stringLiteral(t.isIdentifier(node.key) ? node.key.name : node.key.value);
    const kind = t.isObjectMethod(node) ? node.kind : 'method';
    const target = kind === 'method'
      ? t.memberExpression(t.identifier(owner), key, true)
      : t.memberExpression(t.callExpression(t.memberExpression(t.identifier('Object'), t.identifier('getOwnPropertyDescriptor')), [t.identifier(owner), key]), t.identifier(kind));
    stmt.insertAfter(register(target));
    return;
  }
  if (!self) {
    // `const f = () => ...` / `const f = function () ...` at module level: named by the constant
    const decl = parent?.parentPath;
    const stmt = decl?.parentPath?.isExportNamedDeclaration() ? decl.parentPath : decl;
    if (parent?.isVariableDeclarator() && t.isIdentifier(parent.node.id) && parent.node.init === fn.node && decl?.isVariableDeclaration() && decl.node.kind === 'const' && stmt?.parentPath?.isProgram()) {
      stmt.insertAfter(register(t.identifier(parent.node.id.name)));
    }
    return;
  }
  if (fn.isFunctionDeclaration() && (parent?.isProgram() || (parent?.isExportNamedDeclaration() || parent?.isExportDefaultDeclaration()) && parent.parentPath?.isProgram())) {
    file.registrations.push(register()); // declarations are hoisted: register at the top
    return;
  }
  // const f = function ... / arrow at module level
  if (fn.isFunctionExpression() && parent?.isVariableDeclarator() && parent.parentPath?.parentPath?.isProgram() || parent?.parentPath?.parentPath?.isExportNamedDeclaration()) {
    const decl = parent!.parentPath!;
    const stmt = decl.parentPath!.isExportNamedDeclaration() ? decl.parentPath! : decl;
    // the function's own name is only visible inside it: register it through the constant
    const id = (parent!.node as t.VariableDeclarator).id;
    if (stmt.parentPath?.isProgram() && t.isIdentifier(id) && (decl.node as t.VariableDeclaration).kind === 'const') stmt.insertAfter(register(t.identifier(id.name)));
    return;
  }
  if ((fn.isClassMethod() || fn.isClassPrivateMethod()) && !fn.isClassPrivateMethod()) {
    const cls = fn.parentPath.parentPath;
    if (!cls?.isClassDeclaration()) return;
    const stmt = cls.parentPath.isExportNamedDeclaration() || cls.parentPath.isExportDefaultDeclaration() ? cls.parentPath : cls;
    if (stmt.parentPath?.isProgram()) stmt.insertAfter(register());
  }
}
