// The state of a run loaded in this process. Two parts:
// - `Ctx` is saved with the tasklet in every checkpoint (it is the snapshot's second
//   root): the control channel the workflow blocks on, its signal channels, its counters.
// - `Live` is what only this process knows: the step in flight, inbox rows delivered since
//   the last checkpoint, journal entries to write with the next one.
import { Channel, getCurrent, type Tasklet } from '../runtime/index.js';
import { WorkflowError } from './errors.js';
import type { JournalEntry } from './store.js';
import type { CheckedOptions, StepFn } from './steps.js';

export interface Ctx {
  /** The run's id (for messages; the store's row is the authority). */
  id: string;
  /** step() and sleep() block receiving on it; the engine sends the step's result or the wake-up. */
  ctl: Channel<unknown>;
  /** signal(name) channels, created on first use; buffered so delivery never blocks the engine. */
  signals: Map<string, Channel<unknown>>;
  /** Steps completed so far: the next step's index. */
  steps: number;
  /** Deadline (ms since the epoch) while blocked in sleep(), else null. */
  sleepUntil: number | null;
  /** The child run whose end the workflow waits for in child(), else null (absent in checkpoints of older versions). */
  waitChild?: string | null;
}

/** Room enough for any number of undelivered signals (an integer, as snapshots require). */
export const SIGNAL_CAPACITY = 2 ** 31 - 1;

export function newCtx(id: string): Ctx {
  const ctl = new Channel<unknown>();
  // 0: the engine's send makes the workflow runnable without switching to it from ordinary code
  ctl.preference = 0;
  return { id, ctl, signals: new Map(), steps: 0, sleepUntil: null, waitChild: null };
}

export function signalChannel(ctx: Ctx, name: string): Channel<unknown> {
  let ch = ctx.signals.get(name);
  if (ch === undefined) {
    ch = new Channel<unknown>({ capacity: SIGNAL_CAPACITY });
    ch.preference = 0;
    ctx.signals.set(name, ch);
  }
  return ch;
}

export interface InFlight {
  index: number;
  name: string;
  started: number;
}

/** What the engine does for a primitive called inside a workflow. */
export interface Host {
  beginStep(live: Live, name: string, fn: StepFn<unknown>, options: CheckedOptions): void;
  beginChild(live: Live, fn: Function, args: unknown[], id: string | undefined): void;
}

export class Live {
  /** The step whose function is running now (the tasklet is blocked on ctl). */
  step: InFlight | null = null;
  /** Inbox rows handed to signal channels since the last checkpoint. */
  readonly delivered = new Set<number>();
  readonly journal: JournalEntry[] = [];
  /** Steps completed since the last checkpoint. */
  stepsDone = 0;
  /** A kill was raised in the tasklet since the last checkpoint. */
  killed = false;
  /** Cancel requested: an end by TaskletExit is 'cancelled'. */
  cancelling = false;
  /** Loaded and not resumed since: a park needs no new checkpoint. */
  clean = true;
  /** The run that waits for this one's end (child workflows), or null. */
  parent: string | null = null;
  /** A checkpoint of a completed step is being written: the tasklet is held (removed) until it is committed. */
  writing = false;

  constructor(
    readonly host: Host,
    readonly id: string,
    readonly t: Tasklet,
    readonly ctx: Ctx,
    /** The lease number this process claimed the run under (0 in stores without leases): its writes carry it. */
    readonly lease: number,
  ) {}
}

const byTasklet = new WeakMap<Tasklet, Live>();

export function attach(live: Live): void {
  byTasklet.set(live.t, live);
}
export function detach(live: Live): void {
  byTasklet.delete(live.t);
}

/** The run whose tasklet is calling `what`; WorkflowError outside a workflow. */
export function current(what: string): Live {
  const live = byTasklet.get(getCurrent());
  if (live === undefined) {
    throw new WorkflowError(
      'NOT_IN_WORKFLOW',
      `${what} can only be called inside a workflow run by a workflow engine (engine.start + engine.drain), ` +
        `in the workflow's own tasklet`,
    );
  }
  return live;
}
