// Switching machinery: who runs next, watchdogs (callers of run()), error delivery,
// deadlock detection. Primitives decide *what* happens to the current tasklet and
// call `suspend`; the switch itself happens in `commit` once the stack has unwound,
// so that a boundary found during the unwind can still undo the primitive.
import {
  rt, now, Bomb, K_BLOCKED, K_PAUSED, K_SCHED, K_WAITING, F_SEND, F_WATCH, F_ITER, F_TIMED, W_MASK,
  W_SLEEP, W_PROMISE, W_JOIN, SK_NONE, SK_PREEMPT, SK_SOFT, SK_SWITCHED, NO_TICKS, F_ATOMIC,
} from './rt.js';
import { StacklessError, M } from './errors.js';
import { kind, setKind, ringAppend, ringRemove } from './ring.js';
import type { Tasklet } from './tasklet.js';
import { channelUnlink } from './chancore.js';
import { cancelSelect } from './select.js';
import { cancelTimed } from './async.js';
import { removeJoiner } from './join.js';
import { driveMain } from './driver.js';

/** A caller of run() waiting for the ring to empty (Stackless's watchdog). */
export interface Watch {
  t: Tasklet;
  timeout: number; // ticks per timeslice (or total budget); 0 = none
  soft: boolean;
  total: boolean;
  left: number; // remaining total budget
  given: number; // ticks handed to the tasklet now running
}

export const watches: Watch[] = [];
/** The interrupt watchdog: the first active run() with a timeout. */
export let wd: Watch | null = null;
export function setWd(w: Watch | null): void {
  wd = w;
  updateQuiet();
}
/** rt.quiet: the common switch needs none of the bookkeeping below. */
function updateQuiet(): void {
  rt.quiet = batchWatch === null && softDue === null && wd === null && scheduleCallback === null;
}
/** A soft interrupt is due at the next voluntary switch: return to this watchdog. */
let softDue: Watch | null = null;
/** runAsync's batch: the watchdog to return to once the batch's time is up. */
let batchWatch: Watch | null = null;
let batchEnd = 0;
let batchCount = 0;
export function setBatch(w: Watch | null, end: number): void {
  batchWatch = w;
  batchEnd = end;
  batchCount = 64;
  updateQuiet();
}
/** A preemption was deferred (atomic, switch_trap, callback); retry when allowed. */
export let irqPending = false;
export function setIrqPending(v: boolean): void {
  irqPending = v;
}

export let scheduleCallback: ((prev: Tasklet, next: Tasklet) => void) | null = null;
export function setScheduleCb(cb: typeof scheduleCallback): typeof scheduleCallback {
  const old = scheduleCallback;
  scheduleCallback = cb;
  updateQuiet();
  return old;
}
export let errorHandler: ((error: unknown, t: Tasklet) => void) | null = null;
export function setErrorCb(h: typeof errorHandler): typeof errorHandler {
  const old = errorHandler;
  errorHandler = h;
  return old;
}

/**
 * Records the pending switch and makes the current tasklet give up control: main
 * runs the scheduler nested on its JS stack until it is switched back to; any other
 * tasklet starts unwinding (protocol.md "Suspending") and the driver commits.
 * The tasklet to switch to, `nx` (in the ring, or null when the ring is empty),
 * becomes the ring's head right away; `commit` makes the head current. (No separate
 * "next" field: every store of a young tasklet into the long-lived `rt` costs a
 * write barrier, and this saves two per switch.) A hard preemption (`SK_PREEMPT`,
 * `nx` null) leaves the head alone and wakes the watchdog instead.
 */
export function suspend(sk: number, nx: Tasklet | null): unknown {
  rt.sk = sk;
  if (nx !== null && now.head !== nx) now.head = nx;
  if (now.cur === rt.main) {
    commit();
    return driveMain();
  }
  rt.u = 1;
  return undefined;
}

/**
 * `suspend` for a caller known not to be main (the channel fast paths): no nested
 * scheduler, so the code V8 inlines into the hot primitives stays small.
 */
export function suspendTasklet(sk: number, nx: Tasklet | null): undefined {
  rt.sk = sk;
  if (nx !== null && now.head !== nx) now.head = nx;
  rt.u = 1;
  return undefined;
}

/** Performs the switch recorded by the last suspension (to `now.head`, see `suspend`). */
export function commit(): void {
  const sk = rt.sk;
  rt.sk = SK_NONE;
  if (sk === SK_SWITCHED) rt.back = null; // committed: nothing to undo
  let nx = sk === SK_PREEMPT ? null : (now.head as Tasklet | null);
  if (nx !== null && rt.quiet) {
    // the common switch: no watchdog timing, no callback, a known next tasklet
    now.cur = nx;
    return;
  }
  if (batchWatch !== null && --batchCount < 0) {
    batchCount = 64;
    if (Date.now() >= batchEnd && watches.includes(batchWatch)) {
      softDue = batchWatch;
      updateQuiet();
    }
  }
  if (sk === SK_PREEMPT && wd !== null) nx = wakeWatch(wd, now.cur);
  else if (softDue !== null && sk !== SK_SOFT && watches.includes(softDue)) {
    // Soft interrupt: return to the watchdog at this voluntary switch point;
    // the tasklets stay where they are (the head already is the tasklet the
    // switch asked for: schedule() moved to the end).
    const w = softDue;
    softDue = null;
    updateQuiet();
    nx = wakeWatch(w, null);
  } else if (nx === null) nx = wakeIdle();
  switchTo(nx);
}

/** Makes `nx` (already in the ring) current. */
export function switchTo(nx: Tasklet): void {
  const prev = now.cur as Tasklet;
  now.head = nx;
  now.cur = nx;
  if (wd !== null) account(nx);
  if (scheduleCallback !== null && prev !== nx) {
    rt.incb++;
    try {
      scheduleCallback(prev, nx);
    } catch (e) {
      // The switch has happened: throwing through the scheduler would leave it
      // half done. Main's current runtime call throws it once main runs again.
      if (callbackError === null) callbackError = { e };
    } finally {
      rt.incb--;
    }
  }
}

/** An error thrown by the schedule callback, waiting for main. */
export let callbackError: { e: unknown } | null = null;
export function takeCallbackError(): { e: unknown } | null {
  const c = callbackError;
  callbackError = null;
  return c;
}

/** Timeslice bookkeeping for preemption: charge the outgoing tasklet, arm the next. */
function account(nx: Tasklet): void {
  const w = wd as Watch;
  if (w.total) w.left -= w.given - rt.ticks;
  if (nx === rt.main || w.t === nx) {
    w.given = NO_TICKS;
  } else {
    w.given = w.total ? Math.max(w.left, 0) : w.timeout;
  }
  rt.ticks = w.given;
}

/** The tasklet woken if the ring became empty now, or null (deadlock). */
export function wakeable(): Tasklet | null {
  if (watches.length !== 0) return watches[watches.length - 1].t;
  const m = rt.main as Tasklet;
  return kind(m) === K_PAUSED ? m : null;
}

/** Wakes a watchdog (run() returns `value`); returns it, now in the ring. */
export function wakeWatch(w: Watch, value: unknown): Tasklet {
  const i = watches.lastIndexOf(w);
  if (i >= 0) watches.splice(i, 1);
  if (softDue === w) softDue = null;
  if (batchWatch === w) batchWatch = null;
  if (wd === w) {
    wd = null;
    irqPending = false;
    rt.ticks = NO_TICKS;
  }
  updateQuiet();
  const t = w.t;
  t._st &= ~F_WATCH;
  t._v = value;
  if (kind(t) !== K_SCHED) ringAppend(t);
  return t;
}

/** The ring is empty: wake the innermost watchdog, else main. */
function wakeIdle(): Tasklet {
  if (watches.length !== 0) return wakeWatch(watches[watches.length - 1], null);
  const m = rt.main as Tasklet;
  const k = kind(m);
  if (k !== K_PAUSED) {
    // Main is blocked and nobody is left to wake it: Stackless's messages.
    const msg = k === K_BLOCKED ? (m._st & F_SEND ? M.mainSend : M.mainRecv) : M.deadlock;
    unblock(m);
    m._v = new Bomb(new StacklessError(msg));
  }
  ringAppend(m);
  return m;
}

/**
 * Delivers an error that escaped a tasklet to the innermost watchdog, else to main,
 * wherever main is waiting; returns the tasklet to switch to.
 */
export function deliverError(e: unknown): Tasklet {
  if (watches.length !== 0) return wakeWatch(watches[watches.length - 1], new Bomb(e));
  const m = rt.main as Tasklet;
  const k = kind(m);
  if (k === K_BLOCKED || k === K_WAITING) unblock(m);
  m._v = new Bomb(e);
  if (kind(m) !== K_SCHED) ringAppend(m);
  return m;
}

/** Takes `t` out of whatever it waits on (channel, timer, promise, join, select); it ends paused. */
export function unblock(t: Tasklet): void {
  const k = kind(t);
  if (k === K_BLOCKED) {
    channelUnlink(t);
    if (t._st & F_TIMED) cancelTimed(t._v);
  } else if (k === K_WAITING) {
    const w = t._st & W_MASK;
    if (w === W_SLEEP || w === W_PROMISE) cancelTimed(t._v);
    else if (w === W_JOIN) removeJoiner(t);
    else cancelSelect(t);
  } else if (t._st & F_WATCH) {
    const i = watches.findIndex((w) => w.t === t);
    if (i >= 0) {
      if (wd === watches[i]) wd = null;
      watches.splice(i, 1);
      updateQuiet();
    }
  }
  t._st &= ~(F_SEND | F_ITER | F_TIMED | W_MASK | F_WATCH);
  t._v = undefined;
  if (k !== K_SCHED) setKind(t, K_PAUSED);
}

/** Requests a soft interrupt (return to `w`) at the next voluntary switch. */
export function setSoftDue(w: Watch): void {
  softDue = w;
  updateQuiet();
}

/**
 * The current tasklet `t` has used up its ticks: decides what the watchdog does.
 * Returns true for a hard preemption, with `t` already paused and out of the ring
 * (the caller then suspends or commits with SK_PREEMPT); otherwise re-arms the
 * counter (no watchdog, deferred while atomic, soft timeout noted) and returns false.
 * `reachable`: the tick came from compiled code that can suspend here.
 */
export function preemptNow(t: Tasklet, reachable: boolean): boolean {
  const w = wd;
  if (w === null || t === rt.main || t === w.t) {
    rt.ticks = NO_TICKS;
    return false;
  }
  if (t._st & F_ATOMIC || rt.strap !== 0 || rt.incb !== 0 || kind(t) !== K_SCHED) {
    setIrqPending(true); // deferred: atomic() / setAtomic(false) re-arm it
    rt.ticks = NO_TICKS;
    return false;
  }
  if (!reachable) {
    rt.ticks = 64; // reached from ordinary code: try again a little later
    return false;
  }
  setIrqPending(false);
  if (w.soft) {
    setSoftDue(w);
    rt.ticks = NO_TICKS;
    return false;
  }
  ringRemove(t);
  setKind(t, K_PAUSED);
  return true;
}
