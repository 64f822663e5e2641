// Loading runs from the store into the scheduler, and saving them back: checkpoints at the
// blocking points, parking (checkpoint + unload) of runs that wait on a timer or a signal,
// and the end of a run. The drain loop that calls these is in engine.ts.
import { Channel, SnapshotError, Tasklet, TaskletExit, restore, snapshot } from '../runtime/index.js';
import { functionRegistry } from '../runtime/compiled.js';
import { attach, detach, Live, type Ctx, type Host } from './context.js';
import { toStoredError, WorkflowError } from './errors.js';
import { preview } from './preview.js';
import { ENDED, type JournalEntry, type Store } from './store.js';
import { viewFrames } from './view.js';
import type { CheckedOptions, StepFn } from './steps.js';

export interface DrainReport {
  /** Runs loaded into memory (started or resumed). */
  loaded: number;
  finished: number;
  failed: number;
  cancelled: number;
  /** Runs checkpointed and unloaded to wait for a timer or a signal. */
  parked: number;
  /** Runs this process cannot run now (their workflow function's module is not imported). */
  skipped: Array<{ id: string; reason: string }>;
}

export function emptyReport(): DrainReport {
  return { loaded: 0, finished: 0, failed: 0, cancelled: 0, parked: 0, skipped: [] };
}

export abstract class Runner implements Host {
  protected readonly loaded = new Map<string, Live>();

  constructor(readonly store: Store) {}

  abstract beginStep(live: Live, name: string, fn: StepFn<unknown>, options: CheckedOptions): void;

  /** Loads run `id` (its last checkpoint) and makes it runnable if something woke it. */
  protected load(id: string, report: DrainReport, skip: Set<string>): Live | null {
    if (this.loaded.has(id)) return null;
    let row;
    try {
      row = this.store.loadState(id);
    } catch (e) {
      this.failStored(id, e instanceof WorkflowError ? e : new WorkflowError('CORRUPT', String(e)), report);
      return null;
    }
    if (row === undefined || ENDED.has(row.status)) return null;
    const entry = functionRegistry.get(row.fn);
    if (entry === undefined) {
      skip.add(id);
      report.skipped.push({ id, reason: `workflow function '${row.fn}' is not loaded in this process (import its module before drain())` });
      return null;
    }
    if (entry.meta.fp !== row.fp) {
      return this.failStored(id, codeChanged(id, `workflow function ${entry.meta.name} (${row.fn}) has changed since the run started: ` +
        `the run is pinned to fingerprint ${row.fp}, the loaded code has ${entry.meta.fp}`), report);
    }
    let roots: unknown[];
    try {
      if (row.snapshot === null) throw new SnapshotError('BAD_FORMAT', 'the run has no checkpoint');
      roots = restore(row.snapshot).roots;
    } catch (e) {
      const changed = e instanceof SnapshotError && ['FINGERPRINT_MISMATCH', 'UNKNOWN_FUNCTION', 'UNKNOWN_CLASS'].includes(e.code);
      const err = changed
        ? codeChanged(id, (e as Error).message)
        : new WorkflowError('CORRUPT', `run '${id}': its checkpoint cannot be read back: ${(e as Error).message}`, { cause: e });
      return this.failStored(id, err, report);
    }
    const [t, ctx] = roots as [unknown, Ctx];
    if (!(t instanceof Tasklet) || !isCtx(ctx) || !t.alive) {
      return this.failStored(id, new WorkflowError('CORRUPT', `run '${id}': its checkpoint is not a workflow checkpoint`), report);
    }
    const live = new Live(this, id, t, ctx);
    // parked as it is: unloading it again needs no checkpoint (a retried run does need one)
    live.clean = row.status === 'waiting';
    attach(live);
    this.loaded.set(id, live);
    report.loaded++;
    if (row.cancel === 1) this.kill(live);
    else {
      live.cancelling = row.cancel === 2;
      this.wake(live);
      if (t.paused) {
        t.insert();
        live.clean = false;
      }
    }
    return live;
  }

  /** Delivers what woke a blocked run: a due sleep, signals. True if it became runnable. */
  protected wake(live: Live): boolean {
    const { ctx } = live;
    if (ctx.sleepUntil !== null && ctx.sleepUntil <= Date.now() && ctx.ctl.balance < 0) {
      ctx.sleepUntil = null;
      live.clean = false;
      ctx.ctl.send(undefined);
      return true;
    }
    return this.deliverSignals(live) > 0;
  }

  /** Hands inbox rows to the run's signal channels (only names it has asked for). */
  private deliverSignals(live: Live): number {
    if (live.ctx.signals.size === 0) return 0;
    let n = 0;
    for (const row of this.store.pendingSignals(live.id)) {
      const ch = live.ctx.signals.get(row.name);
      if (ch === undefined || live.delivered.has(row.id)) continue;
      let value: unknown;
      try {
        value = restore(row.value).roots[0];
      } catch (e) {
        // a broken payload must not block the run's other signals: the workflow gets the error
        value = undefined;
        live.journal.push({ kind: 'signal', name: row.name, data: { error: `unreadable payload: ${(e as Error).message}` } });
        live.delivered.add(row.id);
        continue;
      }
      live.delivered.add(row.id);
      live.journal.push({ kind: 'signal', name: row.name, data: { value: preview(value) } });
      live.clean = false;
      ch.send(value);
      n++;
    }
    return n;
  }

  protected kill(live: Live): void {
    live.cancelling = true;
    live.killed = true;
    live.clean = false;
    live.step = null;
    live.ctx.sleepUntil = null;
    if (live.t.alive) live.t.kill({ pending: true });
  }

  /**
   * After the scheduler went quiet: ends finished runs, parks blocked ones. Returns true if
   * some run became runnable again (a signal or a due sleep was delivered).
   */
  protected settle(report: DrainReport): boolean {
    return this.store.batch(() => {
      let progress = false;
      for (const live of [...this.loaded.values()]) {
        const t = live.t;
        if (!t.alive) this.end(live, report);
        else if (live.step !== null || !t.blocked) continue;
        else if (this.wake(live)) progress = true;
        else if (this.park(live, report)) progress = true;
      }
      return progress;
    });
  }

  /** Checkpoints a run that waits for a timer or a signal, and unloads it. True if it must run on instead. */
  private park(live: Live, report: DrainReport): boolean {
    const waitingFor: string[] = [];
    for (const [name, ch] of live.ctx.signals) if (ch.balance < 0) waitingFor.push(name);
    if (!live.clean) {
      if (live.ctx.sleepUntil !== null) live.journal.push({ kind: 'sleep', data: { until: new Date(live.ctx.sleepUntil).toISOString() } });
      const cancel = this.checkpoint(live, 'waiting', live.ctx.sleepUntil, waitingFor, report);
      if (cancel === null) return false;
      if (cancel === 1 && !live.cancelling) {
        // cancelled from another process while it ran: run its finally blocks now
        this.kill(live);
        return true;
      }
    }
    this.unload(live);
    report.parked++;
    return false;
  }

  /** Saves the run atomically; null (and the run failed) if its state cannot be saved. */
  protected checkpoint(live: Live, status: 'running' | 'waiting', wakeAt: number | null, waitingFor: string[], report: DrainReport): 0 | 1 | 2 | null {
    let data: string;
    let frames: string;
    try {
      data = JSON.stringify(snapshot(live.t, live.ctx));
      frames = JSON.stringify(viewFrames(live.t));
    } catch (e) {
      const err = new WorkflowError('CHECKPOINT', `run '${live.id}' cannot be checkpointed: ${(e as Error).message}`, { cause: e });
      this.unload(live);
      this.failStored(live.id, err, report);
      return null;
    }
    const cancel = this.store.checkpoint({
      id: live.id, status, snapshot: data, frames, wakeAt, waitingFor, steps: live.stepsDone,
      cancelDelivered: live.killed, consumed: [...live.delivered], journal: live.journal.splice(0),
    });
    live.delivered.clear();
    live.stepsDone = 0;
    live.killed = false;
    live.clean = true;
    return cancel;
  }

  private end(live: Live, report: DrainReport): void {
    const t = live.t;
    const error = t.error;
    let status: 'finished' | 'failed' | 'cancelled' = error === undefined ? 'finished' : error instanceof TaskletExit && live.cancelling ? 'cancelled' : 'failed';
    let result: string | null = null;
    let stored = error === undefined ? null : toStoredError(error);
    if (status === 'finished') {
      try {
        result = JSON.stringify(snapshot(t.result));
      } catch (e) {
        status = 'failed';
        stored = toStoredError(new WorkflowError('CHECKPOINT', `run '${live.id}' finished but its result cannot be saved: ${(e as Error).message}`));
      }
    }
    const entry: JournalEntry = { kind: status, data: status === 'finished' ? { result: preview(t.result) } : stored };
    this.store.end({
      id: live.id, status, result, error: stored === null ? null : JSON.stringify(stored),
      keepSnapshot: status === 'failed', consumed: [...live.delivered], journal: [...live.journal.splice(0), entry],
    });
    this.unload(live);
    report[status]++;
  }

  /** Forgets a loaded run: its state is in the store (or it failed). */
  protected unload(live: Live): void {
    if (live.t.alive && live.t.scheduled && !live.t.blocked) live.t.remove();
    live.step = null;
    detach(live);
    this.loaded.delete(live.id);
  }

  protected failStored(id: string, err: WorkflowError, report: DrainReport): null {
    const live = this.loaded.get(id);
    if (live !== undefined) this.unload(live);
    this.store.fail(id, JSON.stringify(toStoredError(err)), { kind: 'failed', data: toStoredError(err) });
    report.failed++;
    return null;
  }
}

function codeChanged(id: string, detail: string): WorkflowError {
  return new WorkflowError(
    'CODE_CHANGED',
    `run '${id}' cannot resume: ${detail}. The run stays failed with its last checkpoint: deploy the code it started with and ` +
      `retry it, or start a new run`,
  );
}

function isCtx(c: unknown): c is Ctx {
  const x = c as Ctx;
  return typeof x === 'object' && x !== null && x.ctl instanceof Channel && x.signals instanceof Map && typeof x.steps === 'number' &&
    (x.sleepUntil === null || typeof x.sleepUntil === 'number');
}
