// Loading runs from the store into the scheduler, and saving them back: checkpoints at the
// blocking points, parking (checkpoint + unload) of runs that wait on a timer, a signal or a
// child, and the end of a run. The drain loop that calls these is in engine.ts.
//
// The store may answer with promises (Postgres). While a settle pass waits for its writes,
// step completions of other runs go on; a run is never written by two passes at once: a run
// whose step is in flight or whose step checkpoint is being written is left alone by settle,
// and settle passes do not overlap.
import { Channel, SnapshotError, Tasklet, TaskletExit, restore, snapshot } from '../runtime/index.js';
import { functionRegistry } from '../runtime/compiled.js';
import { attach, detach, Live, type Ctx, type Host } from './context.js';
import { toStoredError, WorkflowError, type StoredError } from './errors.js';
import { preview } from './preview.js';
import {
  childSignal, LOST, type CancelState, type ChildEnd, type Checkpoint, type Claimed, type EngineStore, type Fence, type InboxRow,
  type JournalEntry, type Lost, type Write,
} from './store.js';
import { viewFrames } from './view.js';
import type { CheckedOptions, StepFn } from './steps.js';

export interface DrainReport {
  /** Runs loaded into memory (started or resumed). */
  loaded: number;
  finished: number;
  failed: number;
  cancelled: number;
  /** Runs checkpointed and unloaded to wait for a timer, a signal or a child. */
  parked: number;
  /** Runs this process cannot run now (their workflow function's module is not imported). */
  skipped: Array<{ id: string; reason: string }>;
  /** Runs this worker dropped because its lease on them was lost (another worker took them over). */
  lost: number;
}

export function emptyReport(): DrainReport {
  return { loaded: 0, finished: 0, failed: 0, cancelled: 0, parked: 0, skipped: [], lost: 0 };
}

export abstract class Runner implements Host {
  protected readonly loaded = new Map<string, Live>();
  /** Something happened that the drain loop should claim runs for (a start, signal, cancel, retry, a child's end). */
  protected nudged = false;

  constructor(
    readonly store: EngineStore,
    /** This process's name in leases. */
    readonly worker: string,
  ) {}

  abstract beginStep(live: Live, name: string, fn: StepFn<unknown>, options: CheckedOptions): void;
  abstract beginChild(live: Live, fn: Function, args: unknown[], id: string | undefined): void;

  protected fence(live: Live | { lease: number }): Fence | null {
    return this.store.leases ? { worker: this.worker, lease: live.lease } : null;
  }

  /**
   * Loads a claimed run (its last checkpoint) and makes it runnable if something woke it.
   * A run that cannot be loaded is failed in the store: the returned promise says when.
   */
  protected load(row: Claimed, report: DrainReport, skip: Set<string>): Live | null | Promise<null> {
    const { id } = row;
    const old = this.loaded.get(id);
    if (old !== undefined) {
      // claimed again by this worker under a newer lease (its lease had expired while it stalled):
      // the copy in memory can no longer write; load the stored state afresh
      if (!this.store.leases || row.lease <= old.lease) return null;
      this.drop(old, report);
    }
    if (row.corrupt !== undefined) return this.failStored(id, new WorkflowError('CORRUPT', row.corrupt), report, row);
    const entry = functionRegistry.get(row.fn);
    if (entry === undefined) {
      skip.add(id);
      report.skipped.push({ id, reason: `workflow function '${row.fn}' is not loaded in this process (import its module before drain())` });
      if (this.store.leases) return Promise.resolve(this.store.release(this.worker, [id])).then(() => null);
      return null;
    }
    if (entry.meta.fp !== row.fp) {
      return this.failStored(id, codeChanged(id, `workflow function ${entry.meta.name} (${row.fn}) has changed since the run started: ` +
        `the run is pinned to fingerprint ${row.fp}, the loaded code has ${entry.meta.fp}`), report, row);
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
      return this.failStored(id, err, report, row);
    }
    const [t, ctx] = roots as [unknown, Ctx];
    if (!(t instanceof Tasklet) || !isCtx(ctx) || !t.alive) {
      return this.failStored(id, new WorkflowError('CORRUPT', `run '${id}': its checkpoint is not a workflow checkpoint`), report, row);
    }
    if (ctx.waitChild === undefined) ctx.waitChild = null;
    const live = new Live(this, id, t, ctx, row.lease);
    live.parent = row.parent ?? null;
    // parked as it is: unloading it again needs no checkpoint (a retried run does need one)
    live.clean = row.status === 'waiting';
    attach(live);
    this.loaded.set(id, live);
    report.loaded++;
    if (row.cancel === 1) this.kill(live);
    else {
      live.cancelling = row.cancel === 2;
      this.wakeTimer(live);
      if (t.paused) {
        t.insert();
        live.clean = false;
      }
    }
    return live;
  }

  /** A due sleep: the run goes on. */
  protected wakeTimer(live: Live): boolean {
    const { ctx } = live;
    if (ctx.sleepUntil !== null && ctx.sleepUntil <= Date.now() && ctx.ctl.balance < 0) {
      ctx.sleepUntil = null;
      live.clean = false;
      ctx.ctl.send(undefined);
      return true;
    }
    return false;
  }

  /** Delivers what woke a blocked run: a due sleep, signals, its child's end. True if it became runnable. */
  protected wake(live: Live, inbox: InboxRow[] | undefined): boolean {
    if (this.wakeTimer(live)) return true;
    if (inbox === undefined || inbox.length === 0) return false;
    return this.deliverChild(live, inbox) || this.deliverSignals(live, inbox) > 0;
  }

  /** Whether settle must read the run's inbox before it parks it. */
  protected readsInbox(live: Live): boolean {
    return live.ctx.signals.size > 0 || (live.ctx.waitChild ?? null) !== null;
  }

  /** Hands inbox rows to the run's signal channels (only names it has asked for). */
  private deliverSignals(live: Live, rows: InboxRow[]): number {
    if (live.ctx.signals.size === 0) return 0;
    let n = 0;
    for (const row of rows) {
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

  /** The end of the child the run waits for, from its inbox: child() returns its result or throws its error. */
  private deliverChild(live: Live, rows: InboxRow[]): boolean {
    const childId = live.ctx.waitChild ?? null;
    if (childId === null || live.ctx.ctl.balance >= 0) return false;
    const name = childSignal(childId);
    const row = rows.find((r) => r.name === name && !live.delivered.has(r.id));
    if (row === undefined) return false;
    live.delivered.add(row.id);
    live.ctx.waitChild = null;
    live.clean = false;
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      const end = JSON.parse(row.value) as ChildEnd;
      if (end.status === 'finished') outcome = { ok: true, value: end.result === null ? undefined : restore(end.result).roots[0] };
      else {
        const err = (end.error === null ? null : (JSON.parse(end.error) as StoredError)) ?? { name: 'Error', message: '(no error recorded)' };
        const verb = end.status === 'cancelled' ? 'was cancelled' : 'failed';
        outcome = { ok: false, error: new WorkflowError('CHILD_FAILED', `child run '${childId}' ${verb}: ${err.name}: ${err.message}`) };
      }
    } catch (e) {
      outcome = { ok: false, error: new WorkflowError('CORRUPT', `the end of child run '${childId}' cannot be read back: ${(e as Error).message}`) };
    }
    live.journal.push({
      kind: 'child', name: childId,
      data: outcome.ok ? { value: preview(outcome.value) } : { error: toStoredError(outcome.error) },
    });
    if (outcome.ok) live.ctx.ctl.send(outcome.value);
    else live.ctx.ctl.sendThrow(outcome.error);
    return true;
  }

  /** Keeps track of a write that is not part of a checkpoint (the drain waits for it). */
  protected abstract later(p: unknown): void;

  protected kill(live: Live): void {
    live.cancelling = true;
    live.killed = true;
    live.clean = false;
    live.step = null;
    live.ctx.sleepUntil = null;
    const childId = live.ctx.waitChild ?? null;
    live.ctx.waitChild = null;
    if (childId !== null) {
      // a cancelled parent cancels the child it waits for (one that has ended already stays as it is)
      const claim = () => {
        this.nudged = true; // the child is due now: claim it
      };
      try {
        const r: unknown = this.store.requestCancel(childId);
        if (r instanceof Promise) this.later(r.then(claim, () => {}));
        else claim();
      } catch {
        // it ended already
      }
    }
    if (live.t.alive) live.t.kill({ pending: true });
  }

  /**
   * After the scheduler went quiet: ends finished runs, parks blocked ones (one commit for
   * all their writes). Returns true if some run became runnable again (a signal, a child's end
   * or a due sleep was delivered, or a cancel from another process arrived).
   */
  protected async settle(report: DrainReport): Promise<boolean> {
    let progress = false;
    const ended: Live[] = [];
    const blocked: Live[] = [];
    for (const live of this.loaded.values()) {
      const t = live.t;
      if (live.writing) continue;
      if (!t.alive) ended.push(live);
      else if (live.step === null && t.blocked) blocked.push(live);
    }
    if (ended.length === 0 && blocked.length === 0) return false;
    const asking = blocked.filter((l) => this.readsInbox(l));
    const inboxes = asking.length === 0 ? new Map<string, InboxRow[]>() : await this.store.inboxOf(asking.map((l) => l.id));
    const writes: Write[] = [];
    const release: string[] = [];
    const writers: Array<{ live: Live; park: boolean; status?: 'finished' | 'failed' | 'cancelled' }> = [];
    for (const live of ended) {
      const w = this.ending(live);
      writes.push({ end: w.ending });
      writers.push({ live, park: false, status: w.ending.status });
    }
    for (const live of blocked) {
      if (this.loaded.get(live.id) !== live || live.step !== null || !live.t.blocked) continue; // changed meanwhile
      if (this.wake(live, inboxes.get(live.id))) {
        progress = true;
        continue;
      }
      if (live.clean) {
        // nothing changed since it was loaded: no checkpoint, but give its lease back
        this.unload(live);
        report.parked++;
        if (this.store.leases) release.push(live.id);
        continue;
      }
      const waitingFor: string[] = [];
      for (const [name, ch] of live.ctx.signals) if (ch.balance < 0) waitingFor.push(name);
      if ((live.ctx.waitChild ?? null) !== null) waitingFor.push(childSignal(live.ctx.waitChild!));
      if (live.ctx.sleepUntil !== null) live.journal.push({ kind: 'sleep', data: { until: new Date(live.ctx.sleepUntil).toISOString() } });
      const c = await this.checkpointOf(live, 'waiting', live.ctx.sleepUntil, waitingFor, report);
      if (c === null) continue;
      writes.push({ checkpoint: c });
      writers.push({ live, park: true });
    }
    if (release.length > 0) await this.store.release(this.worker, release);
    if (writes.length === 0) return progress;
    for (const { live } of writers) live.writing = true;
    let results: Array<CancelState | Lost>;
    try {
      results = await this.store.commit(writes);
    } finally {
      for (const { live } of writers) live.writing = false;
    }
    writers.forEach(({ live, park, status }, i) => {
      const r = results[i];
      if (this.loaded.get(live.id) !== live) return; // dropped meanwhile (lease lost, engine closed)
      if (r === LOST) return this.drop(live, report);
      if (!park) {
        this.unload(live);
        report[status!]++;
        if (live.parent !== null) this.nudged = true; // its parent may be due now
        return;
      }
      this.committed(live, writes[i].checkpoint!);
      if (r === 1 && !live.cancelling) {
        // cancelled from another process while it ran (the store kept its lease): run its finally blocks now
        this.kill(live);
        progress = true;
        return;
      }
      this.unload(live);
      report.parked++;
    });
    return progress;
  }

  /** The checkpoint of a run; null (and the run failed) if its state cannot be saved. */
  protected async checkpointOf(live: Live, status: 'running' | 'waiting', wakeAt: number | null, waitingFor: string[], report: DrainReport): Promise<Checkpoint | null> {
    const c = this.checkpointData(live, status, wakeAt, waitingFor);
    if (c instanceof WorkflowError) {
      this.unload(live);
      await this.failStored(live.id, c, report, live);
      return null;
    }
    return c;
  }

  protected checkpointData(live: Live, status: 'running' | 'waiting', wakeAt: number | null, waitingFor: string[]): Checkpoint | WorkflowError {
    let data: string;
    let frames: string;
    try {
      data = JSON.stringify(snapshot(live.t, live.ctx));
      frames = JSON.stringify(viewFrames(live.t));
    } catch (e) {
      return new WorkflowError('CHECKPOINT', `run '${live.id}' cannot be checkpointed: ${(e as Error).message}`, { cause: e });
    }
    return {
      id: live.id, status, snapshot: data, frames, wakeAt, waitingFor, steps: live.stepsDone,
      cancelDelivered: live.killed, consumed: [...live.delivered], journal: live.journal.splice(0), fence: this.fence(live),
    };
  }

  /** What a committed checkpoint took with it. */
  protected committed(live: Live, c: Checkpoint): void {
    for (const id of c.consumed) live.delivered.delete(id);
    live.stepsDone -= c.steps;
    if (c.cancelDelivered) live.killed = false;
    live.clean = true;
  }

  private ending(live: Live): { ending: import('./store.js').Ending } {
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
    return {
      ending: {
        id: live.id, status, result, error: stored === null ? null : JSON.stringify(stored),
        keepSnapshot: status === 'failed', consumed: [...live.delivered], journal: [...live.journal.splice(0), entry], fence: this.fence(live),
      },
    };
  }

  /** Forgets a loaded run: its state is in the store (or it failed). */
  protected unload(live: Live): void {
    // forget the tasklet without running its finally blocks (the run is not over: it goes on
    // from its checkpoint, here later or in another worker), wherever it waits
    if (live.t.alive) live.t.drop();
    live.step = null;
    detach(live);
    this.loaded.delete(live.id);
  }

  /** Forgets a run whose lease this worker lost: another worker owns it now; nothing is written. */
  protected drop(live: Live, report: DrainReport): void {
    if (this.loaded.get(live.id) !== live) return;
    this.unload(live);
    report.lost++;
  }

  protected async failStored(id: string, err: WorkflowError, report: DrainReport, leased: { lease: number } | null): Promise<null> {
    const live = this.loaded.get(id);
    if (live !== undefined) this.unload(live);
    const stored = toStoredError(err);
    const ok = await this.store.failRun(id, JSON.stringify(stored), { kind: 'failed', data: stored }, leased === null ? null : this.fence(leased));
    if (ok) report.failed++;
    else report.lost++;
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
    (x.sleepUntil === null || typeof x.sleepUntil === 'number') &&
    (x.waitChild === undefined || x.waitChild === null || typeof x.waitChild === 'string');
}
