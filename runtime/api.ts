// Module-level scheduler functions (SPEC "Runtime API"): run, schedule,
// scheduleRemove, introspection, atomic, switchTrap, callbacks, spawn, and the
// preemption slow path behind `rt.tick()`.
import {
  rt, now, freshRun, Rt, setTickImpl, K_PAUSED, K_SCHED, F_ATOMIC, F_WATCH, F_NEW, NO_TICKS, SK_SCHEDULE,
  SK_REMOVED, SK_WATCH, SK_PREEMPT, type Frame,
} from './rt.js';
import { StacklessError, M, boundaryError } from './errors.js';
import { kind, setKind, ringAppend, ringRemove } from './ring.js';
import {
  suspend, watches, wd, setWd, setBatch, setSoftDue, irqPending, setIrqPending, wakeable,
  setScheduleCb, setErrorCb, preemptNow, type Watch,
} from './scheduler.js';
import { checkSwitch } from './block.js';
import { Tasklet } from './tasklet.js';
import { setChannelCb, type ChannelCallback } from './channel.js';

export interface RunOptions {
  /** Preempt a tasklet that runs this many ticks without switching (0: never). */
  timeout?: number;
  /** Only interrupt at the next voluntary switch; run() then returns null. */
  soft?: boolean;
  /** `timeout` is the budget for the whole run() call, not per timeslice. */
  totalTimeout?: boolean;
}

/**
 * Runs the scheduler until nothing else is runnable; returns null, or (hard
 * preemption) the tasklet that overran its timeout, removed from the ring.
 */
export function run(options?: RunOptions): Tasklet | null {
  const ok = rt.tok === run;
  rt.tok = null;
  return runWith(options?.timeout ?? 0, options?.soft === true, options?.totalTimeout === true, 0, ok);
}

/** run() with a runAsync batch limit (`batchMs` > 0: soft stop after that long). */
export function runWith(timeout: number, soft: boolean, total: boolean, batchMs: number, ok = true): Tasklet | null {
  const t = now.cur as Tasklet;
  if (t !== rt.main && !ok) throw boundaryError('run()');
  if (kind(t) !== K_SCHED || t._n === t) return null; // nothing else to run
  if (rt.strap !== 0) throw new StacklessError(M.switchTrap);
  const budget = Math.max(0, Math.floor(+timeout || 0));
  const w: Watch = { t, timeout: budget, soft, total, left: budget, given: NO_TICKS };
  watches.push(w);
  if (budget > 0 && wd === null) setWd(w);
  if (batchMs > 0) setBatch(w, Date.now() + batchMs);
  if (t === rt.main) freshRun(); // as young as the tasklets main just spawned (rt.ts `Now`)
  const nx = t._n as Tasklet;
  ringRemove(t);
  setKind(t, K_PAUSED);
  t._st |= F_WATCH;
  return suspend(SK_WATCH, nx) as Tasklet | null;
}

/** Lets the others run once; returns `value` (default: the current tasklet). */
export function schedule(value?: unknown): unknown {
  const ok = rt.tok === schedule;
  rt.tok = null;
  const t = now.cur as Tasklet;
  const ret = arguments.length === 0 ? t : value;
  if (kind(t) !== K_SCHED || t._n === t) return ret; // alone: nobody to switch to
  checkSwitch(t, ok, 'schedule()');
  t._v = ret;
  return suspend(SK_SCHEDULE, t._n as Tasklet);
}

/**
 * Leaves the runnables (paused) until someone inserts it again; returns its
 * tempval then (initially `value`, default the current tasklet).
 */
export function scheduleRemove(value?: unknown): unknown {
  const ok = rt.tok === scheduleRemove;
  rt.tok = null;
  const t = now.cur as Tasklet;
  checkSwitch(t, ok, 'scheduleRemove()');
  if (rt.count <= 1 && wakeable() === null) throw new StacklessError(M.deadlock);
  t._v = arguments.length === 0 ? t : value;
  ringRemove(t);
  setKind(t, K_PAUSED);
  return suspend(SK_REMOVED, now.head as Tasklet | null);
}

export function getCurrent(): Tasklet {
  return now.cur as Tasklet;
}
export function getMain(): Tasklet {
  return rt.main as Tasklet;
}
/** Runnable tasklets including the current one. */
export function getRunCount(): number {
  return rt.count;
}

/** Adds `delta` to the switch_trap level (switching throws while non-zero); returns the old level. */
export function switchTrap(delta: number): number {
  const old = rt.strap;
  rt.strap += delta | 0;
  // A preemption deferred while the trap was set happens as soon as it is lifted
  // (as when an atomic section ends); otherwise a tasklet that keeps spinning after
  // the section would never be interrupted.
  if (rt.strap === 0 && old !== 0 && irqPending && wd !== null && now.cur !== rt.main) rt.ticks = 0;
  return old;
}

export function setErrorHandler(h: ((error: unknown, t: Tasklet) => void) | null): ((error: unknown, t: Tasklet) => void) | null {
  return setErrorCb(h);
}
export function setScheduleCallback(cb: ((prev: Tasklet, next: Tasklet) => void) | null): ((prev: Tasklet, next: Tasklet) => void) | null {
  return setScheduleCb(cb);
}
export function setChannelCallback(cb: ChannelCallback | null): ChannelCallback | null {
  return setChannelCb(cb);
}

/** new Tasklet(fn).setup(...args), without the intermediate steps. */
export function spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Tasklet<R> {
  if (typeof fn !== 'function') throw new TypeError(M.callable);
  const t = new Tasklet<R>();
  t._top = fn;
  t._v = args;
  t._st = F_NEW;
  ringAppend(t);
  return t;
}

function restoreAtomic(t: Tasklet, old: number): void {
  t._st = (t._st & ~F_ATOMIC) | old;
  if (!old && irqPending && wd !== null && t === now.cur) rt.ticks = 0; // deferred preemption
}

/**
 * Runs `fn` with the current tasklet atomic (never preempted); restores the flag even
 * if `fn` throws. Resumable: `fn` may block (the flag stays set while it is blocked).
 */
export function atomic<R>(fn: () => R): R {
  const tk = rt.tok;
  rt.tok = null;
  if (rt.rf !== null) {
    const F = rt.rf;
    rt.rf = null;
    restoreAtomic(F.t as Tasklet, F.old as number);
    if (rt.rk) throw rt.rv;
    return rt.rv as R;
  }
  const t = now.cur as Tasklet;
  const old = t._st & F_ATOMIC;
  t._st |= F_ATOMIC;
  let r: R;
  try {
    rt.tok = fn;
    r = fn();
  } catch (e) {
    restoreAtomic(t, old);
    throw e;
  }
  if (rt.u !== 0) {
    const rec: Frame = { f: atomic, pc: 1, up: null, t, old };
    if (r !== undefined) (r as Frame).up = rec;
    else rt.inner = rec;
    if (tk !== atomic) return rt.boundary(rec) as R;
    return rec as R;
  }
  restoreAtomic(t, old);
  return r;
}

/** The slow path of `rt.ticks` (docs/protocol.md "Preemption"). */
function tick(): void {
  const ok = rt.tok === Rt.prototype.tick;
  rt.tok = null;
  if (preemptNow(now.cur as Tasklet, ok)) suspend(SK_PREEMPT, null);
}
setTickImpl(tick);
