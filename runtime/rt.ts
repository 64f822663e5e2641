// The `rt` object shared by compiled code and the runtime (docs/protocol.md).
// This module is a leaf (no imports) so that every other runtime module may use
// `rt` at load time whatever order a cycle of imports evaluates them in.

/** A saved activation of a compiled function (or of a runtime helper). */
export interface Frame {
  f: Function;
  pc: number;
  up: Frame | null;
  th?: unknown;
  [local: string]: unknown;
}

/** Carries an exception through `tempval` (Stackless's "bomb"). */
export class Bomb {
  constructor(readonly e: unknown) {}
}

// Tasklet state word (`Tasklet._st`): low 3 bits are the kind, the rest are flags.
// One small integer instead of many fields keeps a Tasklet at five fields.
export const K_MASK = 7;
export const K_DEAD = 0; // unbound, or finished (then DONE)
export const K_BOUND = 1; // has a function, no arguments: not alive
export const K_PAUSED = 2; // alive, in no queue
export const K_SCHED = 3; // in the runnables ring (running or runnable)
export const K_BLOCKED = 4; // in a channel queue
export const K_WAITING = 5; // sleeping, waiting for a promise, joining, selecting
export const K_DONE = 6; // finished; _top holds the result or the error

export const F_NEW = 8; // alive but not started: _top = function, _v = argument array
export const F_ATOMIC = 16;
export const F_BTRAP = 32; // blockTrap
export const F_ERR = 64; // K_DONE: it died of an error (in _top)
export const F_SEND = 128; // K_BLOCKED: blocked sending (else receiving)
export const F_ITER = 256; // K_BLOCKED receiver inside iteration: deliver {value, done}
export const F_TIMED = 512; // K_BLOCKED receiver with a timeout: _v holds the timer
export const F_MAIN = 1024;
export const F_WATCH = 2048; // paused inside run() as a watchdog
export const W_SHIFT = 12; // K_WAITING sub-kind, two bits
export const W_MASK = 3 << W_SHIFT;
export const W_SLEEP = 0 << W_SHIFT; // _v = timer entry
export const W_PROMISE = 1 << W_SHIFT; // _v = promise waiter
export const W_JOIN = 2 << W_SHIFT; // _v = the tasklet joined
export const W_SELECT = 3 << W_SHIFT; // _v = the select group

/** Largest tick budget: keeps `rt.ticks` a small integer and makes `tick()` rare. */
export const NO_TICKS = 0x3fffffff;

// Suspension kinds (`rt.sk`): what a primitive did to the current tasklet before it
// asked the stack to unwind, so that `rt.boundary` can undo it.
export const SK_NONE = 0;
export const SK_SCHEDULE = 1; // still in the ring; head moved on
export const SK_REMOVED = 2; // taken off the ring (scheduleRemove, switch)
export const SK_CHANNEL = 3; // queued on a channel
export const SK_WAIT = 4; // sleeping / waiting / joining / selecting
export const SK_SOFT = 5; // operation done; only the switch is pending (preference, throw)
export const SK_WATCH = 6; // became a watchdog inside run()
export const SK_PREEMPT = 7; // removed by a hard preemption
export const SK_SWITCHED = 8; // removed by switch(); head moved to the target, `rt.back` = where it was

type BoundaryImpl = (record: Frame, inPlace?: boolean) => unknown;
type TickImpl = () => void;
let boundaryImpl: BoundaryImpl = () => {
  throw new Error('stackless runtime not loaded');
};
let tickImpl: TickImpl = () => {};

/** Installed by the driver module: the runtime side of `rt.boundary`. */
export function setBoundaryImpl(fn: BoundaryImpl): void {
  boundaryImpl = fn;
}
/** Installed by the scheduler module: the slow path of preemption counting. */
export function setTickImpl(fn: TickImpl): void {
  tickImpl = fn;
}

/**
 * The one runtime object compiled code talks to. All fields are created in the
 * constructor, in one order, so every access site in compiled code stays monomorphic.
 */
export class Rt {
  /** The function compiled code is about to call (see protocol.md). */
  tok: Function | null = null;
  /** 0 running, 1 unwinding for a suspension, 2 unwinding for a stack spill. */
  u: 0 | 1 | 2 = 0;
  /** Frame record to resume; consumed by the callee on entry. */
  rf: Frame | null = null;
  /** Value (rk = 0) or error (rk = 1) the resumed call site evaluates to. */
  rv: unknown = undefined;
  rk: 0 | 1 = 0;
  /**
   * Innermost record saved by the current unwind. Each unwinding frame returns its
   * record to its caller, which links it below its own (`callee.up = mine`), so the
   * outermost record arrives as the return value where the unwind ends.
   */
  inner: Frame | null = null;
  /**
   * Preemption counter: compiled code decrements it at loop back-edges and calls and
   * calls `rt.tick()` (as a call site) when it drops below zero.
   */
  ticks = NO_TICKS;
  /**
   * A stack-overflow RangeError some frame already declined to retry (its callee did
   * run): outer frames must rethrow it rather than spill and re-run their call.
   */
  spent: unknown = null;
  /**
   * Key of the (non-enumerable) property that tags arrows, anonymous functions and
   * object-literal members with their compiled metadata; compiled code reads
   * `$tk[rt.tagKey]` while unwinding, with no function call (the stack may be full).
   */
  readonly tagKey: symbol = Symbol('stackless.meta');

  // ---- runtime-private state (compiled code never touches these) ----
  /** The main tasklet. */
  main: any = null;
  /** Number of tasklets in the ring. */
  count = 0;
  /** What the pending suspension did (SK_*); the tasklet to switch to is already `head`. */
  sk = SK_NONE;
  /**
   * True while a switch needs no bookkeeping beyond making the next tasklet current:
   * no watchdog timing (timeout, runAsync batch, soft interrupt) and no schedule
   * callback. Kept by the scheduler module (`updateQuiet`); the driver reads it to
   * commit the common switch inline.
   */
  quiet = true;
  /**
   * SK_SWITCHED only: the tasklet that followed the switching tasklet in the ring, so
   * that a boundary undoing the switch puts it back at its place (the head has already
   * moved to the switch's target).
   */
  back: any = null;
  /** switch_trap level. */
  strap = 0;
  /** Non-zero while a user callback (schedule/channel/error handler) runs. */
  incb = 0;
  /** Tasklets sleeping or waiting for a promise (runAsync waits for them). */
  pending = 0;
  /** Set while runAsync waits for something to happen; called (once) when it does. */
  idle: (() => void) | null = null;

  constructor() {
  }

  /** Called by the outermost frame (its record) of a segment entered from ordinary code. */
  boundary(record: Frame): unknown {
    return boundaryImpl(record);
  }

  /**
   * As `boundary`, for compiled frames: drives only the frames above the caller's
   * record and returns what the caller's call site evaluates to (`rk` = 1: throw
   * it there); the caller then carries on in place.
   */
  boundaryHere(record: Frame): unknown {
    return boundaryImpl(record, true);
  }

  /** Slow path of preemption counting; compiled code calls it as a call site. */
  tick(): void {
    tickImpl();
  }

  /** `now.cur`, for code outside the scheduler (tests, snapshots). */
  get cur(): any {
    return now.cur;
  }
  set cur(t: any) {
    now.cur = t;
  }
  /** `now.head`, for code outside the scheduler. */
  get head(): any {
    return now.head;
  }
  set head(t: any) {
    now.head = t;
  }
}

/**
 * The two scheduler pointers that change at every switch. They are not fields of `rt`:
 * `rt` lives as long as the program and soon sits in V8's old generation, while the
 * tasklets a run switches between are usually young, and every store of a young object
 * into an old one calls the write barrier (ping-pong: four such stores per switch, 14 %
 * of its time). A fresh holder is made whenever main starts a run (`freshRun`), so it is
 * as young as the tasklets spawned for that run. Every runtime module reads `now.cur`
 * and `now.head` through the live binding.
 */
export class Now {
  /** The tasklet executing now (a Tasklet; typed loosely to keep this module a leaf). */
  cur: any = null;
  /** Anchor of the runnables ring: the tasklet that runs now or runs next. */
  head: any = null;
}

export let now = new Now();

/** Moves the scheduler pointers into a new (young) holder; main calls it as it starts run(). */
export function freshRun(): void {
  const n = new Now();
  n.cur = now.cur;
  n.head = now.head;
  now = n;
}

export const rt = new Rt();
