/** Transformed half of the differential runner: compile with the stackless transform, run main() in tasklets. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { captureConsole, uncaughtLine } from './capture.js';
import type { Fixture } from './fixtures.js';
import { REPO, RUNTIME_ENTRY, RUNTIME_INTERNAL, TRANSFORMER_ENTRY } from './paths.js';
import { loadMain } from './native.js';
import { importFile, writeTempModule } from './tmp.js';

// Loose views of the APIs under test, so this file does not depend on their exact typings.
export interface DiagnosticLike {
  code: string;
  message: string;
  severity: string;
  file: string;
  start: { line: number; column: number };
  end: { line: number; column: number };
  frame: string;
}
export interface TransformResultLike {
  code: string;
  diagnostics: DiagnosticLike[];
  changed: boolean;
}
export type TransformFn = (code: string, id: string, options?: Record<string, unknown>) => TransformResultLike;

interface TaskletLike {
  alive: boolean;
  blocked: boolean;
}
interface RuntimeLike {
  spawn(fn: (...a: unknown[]) => unknown, ...args: unknown[]): TaskletLike;
  run(options?: unknown): unknown;
  runAsync(options?: unknown): Promise<unknown>;
  getCurrent(): TaskletLike;
  setErrorHandler(h: ((e: unknown, t: TaskletLike) => void) | null): unknown;
}

export const haveTransformer = (): boolean => existsSync(TRANSFORMER_ENTRY);
export const haveRuntime = (): boolean => existsSync(RUNTIME_ENTRY) && existsSync(RUNTIME_INTERNAL);

export async function loadTransform(): Promise<TransformFn> {
  const mod = (await import(/* @vite-ignore */ pathToFileURL(TRANSFORMER_ENTRY).href)) as { transform?: TransformFn };
  if (typeof mod.transform !== 'function') throw new Error('transformer/index.ts does not export transform()');
  return mod.transform;
}

export async function loadRuntime(): Promise<RuntimeLike> {
  return (await import(/* @vite-ignore */ pathToFileURL(RUNTIME_ENTRY).href)) as unknown as RuntimeLike;
}

/** The fixture imports the public API as "stackless"; point that at the runtime source. */
export function pointAtRuntime(code: string): string {
  const target = JSON.stringify(RUNTIME_ENTRY);
  return code
    .replace(/(\bfrom\s*)(['"])stackless\2/g, (_m, from: string) => `${from}${target}`)
    .replace(/(\bimport\s*)(['"])stackless\2/g, (_m, imp: string) => `${imp}${target}`);
}

export class CompileError extends Error {}

/** Every fixture's main() has call sites, so its compiled form writes rt.tok (docs/protocol.md). */
function assertCompiled(main: () => unknown, name: string): void {
  if (!/\.tok\s*=/.test(String(main))) throw new Error(`fixture ${name}: main() was not compiled (no call-site protocol in its code)`);
}

/** Compile a fixture; throws CompileError listing the diagnostics when any is an error. */
export function compileFixture(transform: TransformFn, fx: Fixture, id: string, forceSwitch: boolean): string {
  const r = transform(fx.source, id, { stripTypes: true, runtimeModule: RUNTIME_INTERNAL, root: REPO, forceSwitch });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new CompileError(
      `transform reported errors for ${fx.name}:\n` + errors.map((d) => `${d.code} ${d.start.line}:${d.start.column} ${d.message}\n${d.frame}`).join('\n'),
    );
  }
  if (!r.changed) throw new CompileError(`transform left ${fx.name} unchanged (changed: false)`);
  return pointAtRuntime(r.code);
}

async function drive(rt: RuntimeLike, fx: Fixture): Promise<void> {
  if (fx.flags.async) await rt.runAsync();
  else rt.run();
}

/** Transformed mode: main() in one tasklet; every line printed by any tasklet is recorded in order. */
export async function runTransformed(transform: TransformFn, fx: Fixture): Promise<{ lines: string[]; code: string }> {
  const code = compileFixture(transform, fx, fx.inputPath, false);
  const file = writeTempModule(`${fx.name}.transformed`, code);
  const main = await loadMain(file, fx.name);
  assertCompiled(main, fx.name);
  const rt = await loadRuntime();
  const lines: string[] = [];
  const restore = captureConsole((t) => lines.push(t));
  const previous = rt.setErrorHandler((e) => {
    lines.push(uncaughtLine(e));
  });
  let t: TaskletLike | undefined;
  try {
    t = rt.spawn(main);
    await drive(rt, fx);
  } finally {
    rt.setErrorHandler(previous as never);
    restore();
  }
  if (t.alive) lines.push(`!! main tasklet did not finish (blocked: ${t.blocked})`);
  return { lines, code: file };
}

export interface ForcedResult {
  /** output per copy, attributed by getCurrent() */
  copies: string[][];
  /** lines printed by tasklets that are not one of the copies' main tasklets */
  stray: string[];
  /** copy index (0-based) of every line, in print order */
  order: number[];
  unfinished: string[];
  code: string;
}

/**
 * Forced-switch mode: compile with forceSwitch, import `n` separate copies of the module
 * (separate module state), run each copy's main() in its own tasklet, all at once.
 */
export async function runForced(transform: TransformFn, fx: Fixture, n = 3): Promise<ForcedResult> {
  const mains: Array<() => unknown> = [];
  let firstFile = '';
  for (let k = 0; k < n; k++) {
    const id = join(fx.dir, `input.force${k + 1}.ts`);
    const code = compileFixture(transform, fx, id, true);
    const file = writeTempModule(`${fx.name}.forced${k + 1}`, code);
    if (k === 0) firstFile = file;
    const main = await loadMain(file, fx.name);
    assertCompiled(main, fx.name);
    mains.push(main);
  }
  const rt = await loadRuntime();
  const copies: string[][] = mains.map(() => []);
  const stray: string[] = [];
  const order: number[] = [];
  const owner = new Map<TaskletLike, number>();
  const restore = captureConsole((text) => {
    const k = owner.get(rt.getCurrent());
    if (k === undefined) stray.push(text);
    else {
      copies[k].push(text);
      order.push(k);
    }
  });
  const previous = rt.setErrorHandler((e, t) => {
    const k = owner.get(t);
    if (k === undefined) stray.push(uncaughtLine(e));
    else copies[k].push(uncaughtLine(e));
  });
  const tasklets: TaskletLike[] = [];
  try {
    for (let k = 0; k < n; k++) {
      const t = rt.spawn(mains[k]);
      owner.set(t, k);
      tasklets.push(t);
    }
    await drive(rt, fx);
  } finally {
    rt.setErrorHandler(previous as never);
    restore();
  }
  const unfinished = tasklets.flatMap((t, k) => (t.alive ? [`copy ${k + 1} did not finish (blocked: ${t.blocked})`] : []));
  return { copies, stray, order, unfinished, code: firstFile };
}
