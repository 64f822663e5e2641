// The workflow engine: start runs, drain them (run everything runnable until each run has
// finished or waits for a timer or a signal), read their state, signal and cancel them.
// One engine drives the process's one tasklet scheduler; it runs with the SQLite store by
// default. Several processes on one SQLite file must not drain at the same time (there are
// no leases in the embedded store); the CLI may read and request cancels/retries any time.
import { runAsync, snapshot, Tasklet } from '../runtime/index.js';
import { functionRegistry, type FunctionEntry } from '../runtime/compiled.js';
import { newCtx, type Live } from './context.js';
import { toStoredError, WorkflowError, type StoredError } from './errors.js';
import { checkSignalName } from './primitives.js';
import { preview } from './preview.js';
import { emptyReport, Runner, type DrainReport } from './runner.js';
import { sqliteStore } from './sqlite.js';
import { runStep, type CheckedOptions, type StepFn } from './steps.js';
import type { ListFilter, RunStatus, Store, StoredJournalEntry } from './store.js';
import { parseJson, readValue, type FrameView } from './view.js';
import { dropDeadTemporaries, saveable } from './scrub.js';

export interface EngineOptions {
  /** Where runs live; default sqliteStore('.stackless/workflows.db'). */
  store?: Store;
}

export interface StartOptions {
  /** The run's id; start() with an id that exists returns that run (idempotent). Default: a random id. */
  id?: string;
}

export interface RunInfo {
  id: string;
  /** Stable id of the workflow function. */
  workflow: string;
  status: RunStatus;
  result: unknown;
  error: StoredError | null;
  /** The stack at the last checkpoint, innermost last ([] once ended). */
  frames: FrameView[];
  wakeAt: Date | null;
  waitingFor: string[];
  steps: number;
  checkpoints: number;
  cancelRequested: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface RunHandle {
  readonly id: string;
  get(): Promise<RunInfo>;
}

export function createEngine(options: EngineOptions = {}): Engine {
  return new Engine(options.store ?? sqliteStore());
}

export class Engine extends Runner {
  private readonly byFn = new Map<Function, FunctionEntry>();
  private readonly inflight = new Set<Promise<void>>();
  private draining: Promise<DrainReport> | null = null;
  /** Something happened that drain() should look at (a start, signal, cancel, retry). */
  private nudged = false;
  private poke: (() => void) | null = null;
  private closed = false;

  /** Starts `fn(...args)` as run `id`, or returns the existing run with that id. */
  async start<A extends unknown[]>(fn: (...args: A) => unknown, args: A = [] as unknown as A, options: StartOptions = {}): Promise<RunHandle> {
    this.open();
    const entry = this.entryOf(fn);
    const id = options.id ?? `run_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
    if (typeof id !== 'string' || id === '') throw new WorkflowError('BAD_ARGUMENT', 'a run id must be a non-empty string');
    if (!Array.isArray(args)) throw new WorkflowError('BAD_ARGUMENT', 'start(fn, args): args must be an array');
    const existing = this.store.getRun(id);
    if (existing === undefined) {
      const t = new Tasklet(fn as (...a: unknown[]) => unknown).bind(undefined, args);
      let input: string;
      try {
        input = JSON.stringify(snapshot(t, newCtx(id)));
      } catch (e) {
        throw new WorkflowError('BAD_ARGUMENT', `cannot start run '${id}': its arguments cannot be saved: ${(e as Error).message}`, { cause: e });
      }
      if (this.store.createRun({ id, fn: entry.meta.id, fp: entry.meta.fp, input }, { kind: 'started', data: { args: preview(args) } })) {
        this.nudge();
        return this.handle(id);
      }
    }
    const row = existing ?? this.store.getRun(id);
    if (row !== undefined && row.fn !== entry.meta.id) {
      throw new WorkflowError('CONFLICT', `run '${id}' exists already and runs another workflow (${row.fn}, not ${entry.meta.id})`);
    }
    return this.handle(id);
  }

  /**
   * Runs every runnable run until each has finished or waits for a timer or a signal, with
   * everything checkpointed. Runs whose sleep is due, or that got a signal they wait for, are
   * resumed. Concurrent calls share one drain.
   */
  drain(): Promise<DrainReport> {
    this.open();
    if (this.draining === null) {
      this.draining = this.drainLoop().finally(() => {
        this.draining = null;
      });
    }
    return this.draining;
  }

  private async drainLoop(): Promise<DrainReport> {
    const report = (this.report = emptyReport());
    const skip = new Set<string>();
    this.nudged = true;
    for (;;) {
      if (this.nudged) {
        this.nudged = false;
        const due = this.store.dueRuns(Date.now(), 1_000_000);
        this.store.batch(() => {
          for (const id of due) if (!skip.has(id)) this.load(id, report, skip);
        });
      }
      if (this.loaded.size === 0 && !this.nudged) return report;
      await this.runScheduler();
      if (this.settle(report)) continue;
      if (this.inflight.size > 0 || this.nudged) {
        if (!this.nudged) await Promise.race([...this.inflight, new Promise<void>((r) => (this.poke = r))]);
        this.poke = null;
      }
    }
  }

  /**
   * A worker: drains, then waits until the earliest sleep is due (at most `pollMs`, default
   * 1 s, so runs started, signalled or cancelled by other processes are seen), and again, until
   * `signal` aborts or the engine is closed. Starts, signals and cancels in this process wake it at once.
   */
  async work(options: { signal?: AbortSignal; pollMs?: number } = {}): Promise<void> {
    const poll = options.pollMs ?? 1000;
    const stop = options.signal;
    const stopped = () => this.closed || stop?.aborted === true;
    const onAbort = () => this.poke?.();
    stop?.addEventListener('abort', onAbort);
    try {
      while (!stopped()) {
        await this.drain();
        if (stopped()) return;
        const next = this.store.nextWake();
        const ms = Math.min(poll, next === null ? poll : Math.max(0, next - Date.now()));
        if (this.nudged) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          this.poke = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.poke = null;
      }
    } finally {
      stop?.removeEventListener('abort', onAbort);
    }
  }

  /** runAsync() until quiet; an error escaping a workflow's tasklet ends that run, not the drain. */
  private async runScheduler(): Promise<void> {
    for (;;) {
      try {
        await runAsync();
        return;
      } catch (e) {
        let ours = false;
        for (const live of this.loaded.values()) if (!live.t.alive && live.t.error === e) ours = true;
        if (!ours) throw e;
      }
    }
  }

  beginStep(live: Live, name: string, fn: StepFn<unknown>, options: CheckedOptions): void {
    const index = live.ctx.steps;
    live.step = { index, name, started: Date.now() };
    live.clean = false;
    const wanted = () => live.step !== null && live.step.index === index && this.loaded.get(live.id) === live && !this.closed;
    const onRetry = (attempt: number, error: unknown, delay: number) => {
      if (wanted()) this.store.appendJournal(live.id, [{ kind: 'retry', name, attempt, data: { error: toStoredError(error).message, delay } }]);
    };
    const p = runStep(fn, options, { name, runId: live.id, index }, onRetry, wanted).then((outcome) => {
      if (!wanted()) return;
      live.step = null;
      live.ctx.steps++;
      if (live.ctx.ctl.balance >= 0) return; // killed meanwhile: no longer waiting for it
      dropDeadTemporaries(live.t, fn);
      if (outcome.ok) {
        live.stepsDone++;
        live.journal.push({ kind: 'step', name, attempt: outcome.attempts, data: { value: preview(outcome.value) } });
        live.ctx.ctl.send(outcome.value);
        // the checkpoint that makes the step's result durable, with its journal entry
        // a cancel requested by another process (the CLI) is seen here, at the latest
        if (this.checkpoint(live, 'running', null, [], this.report) === 1 && !live.cancelling) this.kill(live);
      } else {
        // No checkpoint after a failed step: if the workflow does not catch the error, the run
        // fails and its last checkpoint is still from before the step, so retry() runs the
        // step again. If it catches it, its next blocking point checkpoints as usual.
        this.store.appendJournal(live.id, [{ kind: 'step', name, attempt: outcome.attempts, data: { error: toStoredError(outcome.error) } }]);
        live.ctx.ctl.sendThrow(saveable(outcome.error));
      }
      live.clean = false; // it runs on from here: its next park needs a checkpoint
    });
    const tracked: Promise<void> = p.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }
  /** The report of the current (or last) drain: a step's completion counts there too. */
  private report = emptyReport();

  async get(id: string): Promise<RunInfo> {
    const row = this.store.getRun(id);
    if (row === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
    return {
      id: row.id,
      workflow: row.fn,
      status: row.status,
      result: row.result === null ? undefined : readValue(row.result, `the result of run '${id}'`),
      error: parseJson<StoredError>(row.error, `the error of run '${id}'`),
      frames: parseJson<FrameView[]>(row.frames, `the frames of run '${id}'`) ?? [],
      wakeAt: row.wakeAt === null ? null : new Date(row.wakeAt),
      waitingFor: row.waitingFor,
      steps: row.steps,
      checkpoints: row.checkpoints,
      cancelRequested: row.cancel !== 0,
      createdAt: new Date(row.createdAt),
      updatedAt: new Date(row.updatedAt),
    };
  }

  async list(filter?: ListFilter): Promise<Array<{ id: string; workflow: string; status: RunStatus; updatedAt: Date }>> {
    return this.store.listRuns(filter).map((r) => ({ id: r.id, workflow: r.fn, status: r.status, updatedAt: new Date(r.updatedAt) }));
  }

  async journal(id: string): Promise<StoredJournalEntry[]> {
    if (this.store.getRun(id) === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
    return this.store.journal(id);
  }

  /** Queues `value` for the run's signal(name) channel; delivered by the next drain (or the current one). */
  async signal(id: string, name: string, value?: unknown): Promise<void> {
    this.open();
    checkSignalName(name);
    let data: string;
    try {
      data = JSON.stringify(snapshot(value));
    } catch (e) {
      throw new WorkflowError('BAD_ARGUMENT', `cannot signal run '${id}': the value cannot be saved: ${(e as Error).message}`, { cause: e });
    }
    this.store.addSignal(id, name, data);
    this.nudge();
  }

  /** Cancels the run: TaskletExit is raised where it waits, so its finally blocks run (at the next drain). */
  async cancel(id: string): Promise<void> {
    this.open();
    this.store.requestCancel(id);
    const live = this.loaded.get(id);
    if (live !== undefined && !live.cancelling) this.kill(live);
    this.nudge();
  }

  /** Runs a failed run again from its last checkpoint, a cancelled one from its start. */
  async retry(id: string): Promise<void> {
    this.open();
    this.store.retry(id);
    this.nudge();
  }

  /** Closes the store. Loaded runs keep their last checkpoints: another engine resumes them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const live of [...this.loaded.values()]) this.unload(live);
    this.poke?.();
    this.store.close();
  }

  private entryOf(fn: Function): FunctionEntry {
    if (this.byFn.size !== functionRegistry.size) {
      this.byFn.clear();
      for (const e of functionRegistry.values()) this.byFn.set(e.fn, e);
    }
    const e = typeof fn === 'function' ? this.byFn.get(fn) : undefined;
    if (e === undefined) {
      throw new WorkflowError(
        'NOT_A_WORKFLOW',
        `${typeof fn === 'function' ? `function ${fn.name || '(anonymous)'}` : String(fn)} is not a workflow: a workflow is a module-level ` +
          `"use tasklet" function (it is found again after a restart by its stable id)`,
      );
    }
    return e;
  }

  private handle(id: string): RunHandle {
    return { id, get: () => this.get(id) };
  }

  private nudge(): void {
    this.nudged = true;
    this.poke?.();
  }

  private open(): void {
    if (this.closed) throw new WorkflowError('CLOSED', 'the workflow engine is closed');
  }
}
