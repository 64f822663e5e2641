// The workflow engine: start runs, drain them (run everything runnable until each run has
// finished or waits for a timer, a signal or a child), read their state, signal and cancel them.
// One engine drives the process's one tasklet scheduler; it runs with the SQLite store by
// default. Several processes on one SQLite file must not drain at the same time (there are
// no leases in the embedded store); the CLI may read and request cancels/retries any time.
// With a store that has leases (Postgres), any number of engines in any number of processes
// drain the same store: each run is claimed with a lease that the engine renews while the run
// is loaded, and every write is fenced by it (a worker that lost a lease writes nothing more).
import { hostname } from 'node:os';
import { runAsync, snapshot, Tasklet } from '../runtime/index.js';
import { functionRegistry, type FunctionEntry } from '../runtime/compiled.js';
import { newCtx, type Live } from './context.js';
import { toStoredError, WorkflowError, type StoredError } from './errors.js';
import { checkSignalName } from './primitives.js';
import { preview } from './preview.js';
import { emptyReport, Runner, type DrainReport } from './runner.js';
import { sqliteStore } from './sqlite.js';
import { runStep, type CheckedOptions, type StepFn } from './steps.js';
import { LOST, type CancelState, type EngineStore, type ListFilter, type Lost, type RunStatus, type StoredJournalEntry } from './store.js';
import { parseJson, readValue, type FrameView } from './view.js';
import { saveable } from './scrub.js';

export interface EngineOptions {
  /** Where runs live; default sqliteStore('.stackless/workflows.db'). */
  store?: EngineStore;
  /** This process's name in leases (Postgres store); default `<hostname>:<pid>:<random>`. */
  worker?: string;
  /** How long a claimed run stays leased without renewal (Postgres store); default 30 s. Renewed every third of it. */
  leaseMs?: number;
  /** At most this many runs loaded at once (default: 100 with leases, so that workers share the runs; unlimited without). */
  maxRuns?: number;
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
  return new Engine(options.store ?? sqliteStore(), options);
}

export interface WorkOptions {
  /** Stops the worker when aborted (it finishes the current pass, releases its leases and returns). */
  signal?: AbortSignal;
  /** Longest sleep between two looks at the store (default 1 s; Postgres also wakes on NOTIFY). */
  pollMs?: number;
  /**
   * Called with an error of a pass (the store unreachable, ...). Without it, work() rejects with
   * the error; with it, the worker unloads its runs (their leases expire, or are released) and
   * goes on after `pollMs`.
   */
  onError?: (error: unknown) => void;
}

export class Engine extends Runner {
  readonly leaseMs: number;
  readonly maxRuns: number;
  private readonly claimBatch: number;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private fns: string[] = [];

  constructor(store: EngineStore, options: EngineOptions = {}) {
    super(store, options.worker ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.maxRuns = options.maxRuns ?? (store.leases ? 100 : Number.POSITIVE_INFINITY);
    if (!(this.leaseMs >= 50)) throw new WorkflowError('BAD_ARGUMENT', `createEngine: leaseMs must be at least 50 ms, got ${String(options.leaseMs)}`);
    if (!(this.maxRuns >= 1)) throw new WorkflowError('BAD_ARGUMENT', `createEngine: maxRuns must be at least 1, got ${String(options.maxRuns)}`);
    // with leases, claim in small batches so that workers share the runs
    this.claimBatch = store.leases ? Math.min(25, this.maxRuns) : 1_000_000;
  }

  private readonly byFn = new Map<Function, FunctionEntry>();
  private readonly inflight = new Set<Promise<void>>();
  /** A step, child start or write ended since the drain loop last looked. */
  private woken = false;
  /** The error of a tracked promise (a store write that failed): the drain throws it. */
  private failure: { error: unknown } | null = null;
  private draining: Promise<DrainReport> | null = null;
  private poke: (() => void) | null = null;
  private closed = false;

  /** Starts `fn(...args)` as run `id`, or returns the existing run with that id. */
  async start<A extends unknown[]>(fn: (...args: A) => unknown, args: A = [] as unknown as A, options: StartOptions = {}): Promise<RunHandle> {
    this.open();
    const entry = this.entryOf(fn);
    const id = options.id ?? `run_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
    if (typeof id !== 'string' || id === '') throw new WorkflowError('BAD_ARGUMENT', 'a run id must be a non-empty string');
    if (!Array.isArray(args)) throw new WorkflowError('BAD_ARGUMENT', 'start(fn, args): args must be an array');
    const existing = await this.store.getRun(id);
    if (existing === undefined) {
      const t = new Tasklet(fn as (...a: unknown[]) => unknown).bind(undefined, args);
      let input: string;
      try {
        input = JSON.stringify(snapshot(t, newCtx(id)));
      } catch (e) {
        throw new WorkflowError('BAD_ARGUMENT', `cannot start run '${id}': its arguments cannot be saved: ${(e as Error).message}`, { cause: e });
      }
      if (await this.store.createRun({ id, fn: entry.meta.id, fp: entry.meta.fp, input }, { kind: 'started', data: { args: preview(args) } })) {
        this.nudge();
        return this.handle(id);
      }
    }
    const row = existing ?? (await this.store.getRun(id));
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
        this.stopHeartbeat();
      });
    }
    return this.draining;
  }

  private async drainLoop(): Promise<DrainReport> {
    const report = (this.report = emptyReport());
    const skip = new Set<string>();
    let more = false; // the last claim was full: more runs may be due
    this.nudged = true;
    if (this.store.leases) this.startHeartbeat();
    for (;;) {
      if ((this.nudged || more) && this.loaded.size < this.maxRuns && !this.closed) {
        this.nudged = false;
        const limit = Math.min(this.maxRuns - this.loaded.size, this.claimBatch);
        const exclude = this.store.leases ? [...skip] : [...skip, ...this.loaded.keys()];
        const rows = await this.store.claim({ worker: this.worker, now: Date.now(), limit, leaseMs: this.leaseMs, exclude, fns: this.knownFns() });
        more = rows.length >= limit;
        const failing: Promise<null>[] = [];
        for (const row of rows) {
          const r = this.load(row, report, skip);
          if (r instanceof Promise) failing.push(r);
        }
        if (failing.length > 0) await Promise.all(failing);
      }
      if (this.closed) return report;
      if (this.loaded.size === 0 && !this.nudged && !more) return report;
      this.woken = false;
      await this.runScheduler();
      if (await this.settle(report)) continue;
      if (more && this.loaded.size < this.maxRuns) continue;
      if (this.inflight.size > 0 || this.nudged) {
        // woken by the next completion (one promise, not a race over every step in flight)
        if (!this.nudged && !this.woken) await new Promise<void>((r) => (this.poke = r));
        this.poke = null;
        if (this.failure !== null) {
          const { error } = this.failure;
          this.failure = null;
          throw error;
        }
      } else if (this.loaded.size > 0) {
        // loaded runs, none runnable, nothing in flight: only a checkpoint being written can change that
        await new Promise<void>((r) => {
          this.poke = r;
          setTimeout(r, 5);
        });
        this.poke = null;
      }
    }
  }

  private knownFns(): string[] {
    if (this.fns.length !== functionRegistry.size) this.fns = [...functionRegistry.keys()];
    return this.fns;
  }

  /** While runs are loaded, renews their leases every third of leaseMs; runs whose lease is gone are dropped. */
  private startHeartbeat(): void {
    if (this.heartbeat !== null) return;
    this.heartbeat = setInterval(() => {
      if (this.loaded.size === 0 || this.closed) return;
      const ids = [...this.loaded.keys()];
      Promise.resolve(this.store.renew(this.worker, ids, this.leaseMs)).then(
        (held) => {
          const keep = new Set(held);
          for (const id of ids) {
            const live = this.loaded.get(id);
            if (live !== undefined && !keep.has(id)) this.drop(live, this.report);
          }
        },
        () => {}, // the store is unreachable: the next write says so
      );
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref?.();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /**
   * A worker: drains, then waits until the earliest sleep is due or another worker's lease
   * expires (at most `pollMs`, default 1 s), and again, until `signal` aborts or the engine
   * is closed. Starts, signals and cancels in this process wake it at once, and with the
   * Postgres store those of any process (LISTEN/NOTIFY). On the way out it releases its leases.
   */
  async work(options: WorkOptions = {}): Promise<void> {
    this.open();
    const poll = options.pollMs ?? 1000;
    const stop = options.signal;
    const stopped = () => this.closed || stop?.aborted === true;
    const onAbort = () => this.poke?.();
    stop?.addEventListener('abort', onAbort);
    const unlisten = await this.store.listen(() => this.nudge());
    try {
      while (!stopped()) {
        let failed = false;
        try {
          await this.drain();
        } catch (e) {
          if (options.onError === undefined) throw e;
          options.onError(e);
          failed = true;
          for (const live of [...this.loaded.values()]) this.unload(live);
          await Promise.resolve(this.store.release(this.worker)).catch(() => {});
        }
        if (stopped()) return;
        let next: number | null = null;
        if (!failed) {
          try {
            next = await this.store.nextWakeFor(this.worker);
          } catch (e) {
            if (options.onError === undefined) throw e;
            options.onError(e);
          }
        }
        const ms = Math.min(poll, next === null ? poll : Math.max(0, next - Date.now()));
        if (this.nudged && !failed) continue;
        if (stopped()) return; // aborted while it asked the store
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
      await unlisten();
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
      if (wanted()) this.journalLater(live, [{ kind: 'retry', name, attempt, data: { error: toStoredError(error).message, delay } }]);
    };
    this.track(runStep(fn, options, { name, runId: live.id, index }, onRetry, wanted).then(async (outcome) => {
      if (!wanted()) return;
      live.step = null;
      live.ctx.steps++;
      if (live.ctx.ctl.balance >= 0) return; // killed meanwhile: no longer waiting for it
      if (outcome.ok) {
        live.stepsDone++;
        live.journal.push({ kind: 'step', name, attempt: outcome.attempts, data: { value: preview(outcome.value) } });
        live.ctx.ctl.send(outcome.value);
        // the checkpoint that makes the step's result durable, with its journal entry;
        // a cancel requested by another process (the CLI) is seen here, at the latest
        await this.stepCheckpoint(live);
      } else {
        // No checkpoint after a failed step: if the workflow does not catch the error, the run
        // fails and its last checkpoint is still from before the step, so retry() runs the
        // step again. If it catches it, its next blocking point checkpoints as usual.
        this.journalLater(live, [{ kind: 'step', name, attempt: outcome.attempts, data: { error: toStoredError(outcome.error) } }]);
        live.ctx.ctl.sendThrow(saveable(outcome.error));
        live.clean = false;
      }
    }));
  }

  /**
   * Checkpoints a run whose step just completed (its tasklet runnable with the step's value).
   * With a store that answers later, the tasklet is held until the checkpoint is committed:
   * nothing of the workflow runs on a step result that is not durable yet.
   */
  private async stepCheckpoint(live: Live): Promise<void> {
    const c = this.checkpointData(live, 'running', null, []);
    if (c instanceof WorkflowError) {
      this.unload(live);
      await this.failStored(live.id, c, this.report, live);
      return;
    }
    let r: CancelState | Lost | Promise<CancelState | Lost> = this.store.checkpointRun(c);
    if (r instanceof Promise) {
      const t = live.t;
      live.writing = true;
      if (t.alive && t.scheduled && !t.blocked) t.remove();
      try {
        r = await r;
      } finally {
        live.writing = false;
      }
      if (this.loaded.get(live.id) !== live) return; // dropped or closed meanwhile
      if (t.paused) t.insert();
      this.poke?.();
    }
    if (r === LOST) return this.drop(live, this.report);
    this.committed(live, c);
    if (r === 1 && !live.cancelling) this.kill(live);
    live.clean = false; // it runs on from here: its next park needs a checkpoint
  }

  beginChild(live: Live, fn: Function, args: unknown[], id: string | undefined): void {
    const entry = this.entryOf(fn);
    const index = live.ctx.steps;
    const childId = id ?? `${live.id}/${index}`;
    let input: string;
    try {
      input = JSON.stringify(snapshot(new Tasklet(fn as (...a: unknown[]) => unknown).bind(undefined, args), newCtx(childId)));
    } catch (e) {
      throw new WorkflowError('BAD_ARGUMENT', `cannot start child run '${childId}': its arguments cannot be saved: ${(e as Error).message}`, { cause: e });
    }
    live.step = { index, name: `child ${childId}`, started: Date.now() };
    live.clean = false;
    const wanted = () => live.step !== null && live.step.index === index && this.loaded.get(live.id) === live && !this.closed;
    const run = { id: childId, fn: entry.meta.id, fp: entry.meta.fp, input, parent: live.id };
    this.track((async () => {
      const created = await this.store.createRun(run, { kind: 'started', data: { args: preview(args), parent: live.id } });
      const row = created ? null : await this.store.getRun(childId);
      if (!wanted()) return;
      live.step = null;
      live.ctx.steps++;
      if (live.ctx.ctl.balance >= 0) return;
      if (row !== null && (row === undefined || row.fn !== run.fn || (row.parent ?? null) !== live.id)) {
        const whose = row === undefined ? 'was deleted' : row.fn !== run.fn ? `runs another workflow (${row.fn})` : `is not a child of run '${live.id}'`;
        live.ctx.ctl.sendThrow(new WorkflowError('CONFLICT', `child run '${childId}' exists already and ${whose}: give child() another id`));
        return;
      }
      live.ctx.waitChild = childId;
      live.journal.push({ kind: 'child', name: childId, data: { started: created ? 'now' : 'before' } });
      this.nudge(); // a new run to claim
    })());
  }

  protected later(p: unknown): void {
    if (p instanceof Promise) this.track(p.then(() => {}));
  }

  private track(p: Promise<void>): void {
    const done = () => {
      this.inflight.delete(p);
      this.woken = true;
      this.poke?.();
    };
    p.then(done, (error) => {
      this.failure ??= { error };
      done();
    });
    this.inflight.add(p);
  }

  /** Journal entries outside a checkpoint, written in order with the run's other writes' order not mattering. */
  private journalLater(live: Live, entries: Parameters<EngineStore['appendJournalFenced']>[1]): void {
    const r = this.store.appendJournalFenced(live.id, entries, this.fence(live));
    if (r instanceof Promise) this.track(r);
  }
  /** The report of the current (or last) drain: a step's completion counts there too. */
  private report = emptyReport();

  async get(id: string): Promise<RunInfo> {
    const row = await this.store.getRun(id);
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
    return (await this.store.listRuns(filter)).map((r) => ({ id: r.id, workflow: r.fn, status: r.status, updatedAt: new Date(r.updatedAt) }));
  }

  async journal(id: string): Promise<StoredJournalEntry[]> {
    if ((await this.store.getRun(id)) === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
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
    await this.store.addSignal(id, name, data);
    this.nudge();
  }

  /** Cancels the run: TaskletExit is raised where it waits, so its finally blocks run (at the next drain). */
  async cancel(id: string): Promise<void> {
    this.open();
    await this.store.requestCancel(id);
    const live = this.loaded.get(id);
    // a run whose checkpoint is being written sees the cancel in that write's answer, or at its next one
    if (live !== undefined && !live.cancelling && !live.writing) this.kill(live);
    this.nudge();
  }

  /** Runs a failed run again from its last checkpoint, a cancelled one from its start. */
  async retry(id: string): Promise<void> {
    this.open();
    await this.store.retry(id);
    this.nudge();
  }

  /** Closes the store. Loaded runs keep their last checkpoints: another engine resumes them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeat();
    const held = [...this.loaded.keys()];
    for (const live of [...this.loaded.values()]) this.unload(live);
    this.poke?.();
    // other workers may take over this worker's runs at once instead of when the leases expire
    if (this.store.leases && held.length > 0) await Promise.resolve(this.store.release(this.worker, held)).catch(() => {});
    await this.store.close();
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
