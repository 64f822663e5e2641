// The driver: starts and resumes tasklets by the protocol (docs/protocol.md).
// A suspended tasklet is a heap chain of frame records; only the innermost record is
// re-entered, each outer one when the record above it returns, so the JS stack stays
// shallow however deep the chain is. Also `rt.boundary` and main's nested scheduling.
import {
  rt, now, Bomb, setBoundaryImpl, F_NEW, F_ERR, K_DONE, K_SCHED, SK_NONE, SK_SCHEDULE, SK_REMOVED,
  SK_CHANNEL, SK_WAIT, SK_SOFT, SK_WATCH, SK_PREEMPT, SK_SWITCHED, type Frame,
} from './rt.js';
import { StacklessError, TaskletExit } from './errors.js';
import { kind, ringAppend, ringRemove, ringInsertBefore } from './ring.js';
import { commit, switchTo, deliverError, errorHandler, unblock, watches, setIrqPending, takeCallbackError, preemptNow } from './scheduler.js';
import { finishJoins } from './join.js';
import { noteUnwound } from './stack.js';
import { lazyChain, type LazyRecord } from './lazy.js';
import type { Tasklet } from './tasklet.js';

/**
 * Stands in for the outermost frame when a primitive suspended with no compiled
 * frame above the driver (e.g. `spawn(schedule)`): resuming it returns the value.
 */
export function $ret(): unknown {
  rt.rf = null;
  if (rt.rk) throw rt.rv;
  return rt.rv;
}

/**
 * Closes the chain an unwind built on top of `below`: `outer` is what the unwound call
 * returned (its outermost record, or undefined when the primitive that suspended had no
 * compiled frame above it). Returns the innermost record.
 */
function closeChain(below: Frame | null, outer: unknown): Frame {
  if (outer === undefined) return { f: $ret, pc: 0, up: below };
  (outer as Frame).up = below;
  const inner = rt.inner as Frame;
  rt.inner = null;
  return inner;
}

function callArgs(fn: Function, a: unknown[]): unknown {
  switch (a.length) {
    case 0: return fn();
    case 1: return fn(a[0]);
    case 2: return fn(a[0], a[1]);
    case 3: return fn(a[0], a[1], a[2]);
    default: return fn(...a);
  }
}

/**
 * Saved frames are re-entered as `F.f.call(F.th, undefined x 4)`: a resumed function
 * takes its parameters from its record, not from its arguments, so what it is passed
 * does not matter; but calling it with fewer arguments than it declares makes V8 pad
 * the missing ones on every call. Four cover the usual tasklet function (more are
 * ignored cheaply): ping-pong +2-4 % (bench/README.md). Written out at each call: a
 * helper would be a native stack line between the records and the driver (stack.ts).
 */

/** Ticks a stack-overflow spill counts for (about the calls made since the last one). */
const SPILL_TICKS = 1000;

/** How the last `resume` ended: 0 = returned its value, 1 = threw it. */
let resumedKind: 0 | 1 = 0;

/** Re-enters one saved frame; its call site evaluates to `v` (or throws it, k = 1). */
function resume(F: Frame, v: unknown, k: 0 | 1): unknown {
  rt.rf = F;
  rt.rv = v;
  rt.rk = k;
  rt.tok = F.f;
  try {
    const r = F.f.call(F.th, undefined, undefined, undefined, undefined);
    resumedKind = 0;
    return r;
  } catch (e) {
    resumedKind = 1;
    return e;
  }
}

/**
 * Starts `t` (current, F_NEW): calls its function. Returns the chain to resume at once
 * (the first call spilled: resume it at its retry entry), or null when the tasklet
 * finished or suspended (the switch is committed; the caller goes on with `now.cur`).
 */
function start(t: Tasklet): Frame | null {
  const fn = t._top as Function;
  const a = t._v as unknown[] | Bomb;
  t._st &= ~F_NEW;
  t._top = null;
  t._v = undefined;
  if (a instanceof Bomb) {
    finish(t, a.e, 1); // killed before it started
    return null;
  }
  let v: unknown;
  let k: 0 | 1 = 0;
  rt.tok = fn;
  try {
    v = callArgs(fn, a);
  } catch (e) {
    v = e;
    k = 1;
  }
  if (rt.u === 0) {
    finish(t, v, k);
    return null;
  }
  const F = (t._top = closeChain(null, v));
  if (unwound()) return null;
  return F;
}

/**
 * Runs tasklets until main is current again: the current tasklet until it switches
 * away or ends, then the next one, in one loop (no return to a caller per switch).
 * The common switch (no watchdog timing, no callback, a known next tasklet) is
 * committed inline.
 */
function driveAll(m: Tasklet): void {
  let t = now.cur as Tasklet;
  outer: while (t !== m) {
    let F: Frame | null;
    let v: unknown = undefined;
    let k: 0 | 1 = 0;
    let retry = false; // F is resumed at its retry entry after a spill
    if (t._st & F_NEW) {
      F = start(t);
      if (F === null) {
        t = now.cur as Tasklet;
        continue;
      }
      retry = true;
    } else {
      F = t._top as Frame;
      if (F.f === lazyChain) F = t._top = (F as LazyRecord).build((F as LazyRecord).n); // restored, not built yet
      v = t._v;
      t._v = undefined;
      if (v instanceof Bomb) {
        v = v.e;
        k = 1;
      }
    }
    for (;;) {
      const up: Frame | null = F.up;
      t._top = up; // the heap part below the running segment (recursionDepth)
      const kin = k;
      const vin = v;
      rt.rf = F;
      rt.rv = v;
      rt.rk = k;
      rt.tok = F.f;
      try {
        v = F.f.call(F.th, undefined, undefined, undefined, undefined);
        k = 0;
      } catch (e) {
        v = e;
        k = 1;
      }
      if (kin === 1 && k === 1 && v === vin) noteUnwound(v, F, DRIVE_ALL); // F did not catch it
      if (rt.u !== 0) {
        const top = closeChain(up, v);
        t._top = top;
        if (rt.u === 2) {
          rt.u = 0;
          const stuck = retry && noProgress(F, top, up);
          F = top;
          if (stuck) {
            v = overflow();
            k = 1;
            retry = false;
          } else {
            v = undefined;
            k = 0;
            retry = true;
            // recursion without loops counts its ticks here: a spill comes every few
            // thousand calls, and the retry entry is a suspension point like any other
            if ((rt.ticks -= SPILL_TICKS) < 0 && preemptNow(t, true)) {
              t._v = undefined;
              rt.sk = SK_PREEMPT;
              commit();
              t = now.cur as Tasklet;
              continue outer;
            }
          }
          continue;
        }
        rt.u = 0;
        const nx = now.head as Tasklet | null;
        const sk = rt.sk;
        if (nx !== null && rt.quiet && sk !== SK_PREEMPT) {
          if (sk === SK_SWITCHED) rt.back = null; // committed: nothing to undo
          rt.sk = SK_NONE;
          now.cur = t = nx; // commit()'s common case, inline
        } else {
          commit();
          t = now.cur as Tasklet;
        }
        continue outer;
      }
      retry = false;
      if (up === null) {
        finish(t, v, k);
        t = now.cur as Tasklet;
        continue outer;
      }
      F = up;
    }
  }
}

/**
 * A retried call spilled again at once, saving no deeper frame: the JS stack below
 * the driver is nearly full (ordinary frames under a boundary, or main blocked deep
 * in its own recursion), so retrying would loop forever. The call then fails as a
 * native overflow would (fixtures F18).
 */
function noProgress(retried: Frame, top: Frame, up: Frame | null): boolean {
  return top.up === up && top.f === retried.f && top.pc === retried.pc;
}

/** The RangeError thrown at a call that cannot get stack; marked spent so no frame retries it. */
function overflow(): RangeError {
  const e = new RangeError('Maximum call stack size exceeded');
  rt.spent = e;
  return e;
}

/** After an unwind: true if it was a suspension (committed), false for a stack spill. */
function unwound(): boolean {
  const u = rt.u;
  rt.u = 0;
  if (u === 2) return false;
  commit();
  return true;
}

/** The tasklet's function returned `v` (k = 0) or threw it (k = 1). */
function finish(t: Tasklet, v: unknown, k: 0 | 1): void {
  if (kind(t) === K_SCHED) ringRemove(t);
  t._top = v;
  t._v = undefined;
  t._st = K_DONE | (k ? F_ERR : 0);
  finishJoins(t);
  if (k && !(v instanceof TaskletExit)) {
    let e = v;
    const h = errorHandler;
    if (h !== null) {
      // The handler runs in the dying tasklet; if it throws, that error travels on.
      rt.incb++;
      try {
        h(e, t);
        e = undefined;
        k = 0;
      } catch (e2) {
        e = e2;
      } finally {
        rt.incb--;
      }
    }
    if (k) return switchTo(deliverError(e));
  }
  rt.sk = SK_NONE;
  commit();
}

/** Main waits here (nested on its JS stack) until it is switched back to. */
export function driveMain(): unknown {
  const m = rt.main as Tasklet;
  driveAll(m);
  const v = m._v;
  m._v = undefined;
  const cbErr = takeCallbackError();
  if (cbErr !== null) throw cbErr.e;
  if (v instanceof Bomb) throw v.e;
  return v;
}

/** Names the boundary for the error thrown at the blocking call. */
function boundaryErr(rec: Frame): StacklessError {
  const name = ((rec as any).m?.name as string | undefined) || (rec.f as Function).name || '<anonymous>';
  return new StacklessError(
    `cannot block: tasklet function ${name} was called from ordinary (untransformed) code, ` +
      `which cannot be suspended (a "boundary")`,
  );
}

/**
 * Undoes what the pending suspension did to the current tasklet, which keeps running.
 * Returns the error to throw at the blocking call, or null when the operation itself
 * completed and only a preferred switch is dropped (its value is in tempval).
 */
function undo(rec: Frame): StacklessError | null {
  const t = now.cur as Tasklet;
  const sk = rt.sk;
  rt.sk = SK_NONE;
  switch (sk) {
    case SK_SOFT:
      now.head = t; // it is still in the ring: just do not switch
      return null;
    case SK_SCHEDULE:
      t._v = undefined;
      break;
    case SK_WATCH: {
      const i = watches.findIndex((w) => w.t === t);
      unblock(t);
      if (i >= 0) watches.splice(i, 1);
      break;
    }
    case SK_PREEMPT:
      setIrqPending(true);
      rt.ticks = 64; // try again a little later, hopefully outside the boundary
      break;
    case SK_SWITCHED: {
      // the head moved to the target: put t back before the tasklet that followed it
      const back = rt.back as Tasklet | null;
      rt.back = null;
      if (back !== null && back !== t && kind(back) === K_SCHED) {
        ringInsertBefore(back, t);
        now.head = t;
      }
      break;
    }
    case SK_REMOVED:
    case SK_CHANNEL:
    case SK_WAIT:
      unblock(t);
      break;
  }
  if (kind(t) !== K_SCHED) ringAppend(t);
  now.head = t;
  t._v = undefined;
  return sk === SK_PREEMPT ? null : boundaryErr(rec);
}

/** Kind of the value `undoValue` returned: 1 = throw it. */
let undoKind: 0 | 1 = 0;

/** Undoes the pending suspension; returns what the blocking call evaluates to. */
function undoValue(rec: Frame): unknown {
  const t = now.cur as Tasklet;
  const err = undo(rec);
  let v: unknown = err;
  undoKind = 1;
  if (err === null) {
    v = t._v;
    t._v = undefined;
    undoKind = 0;
    if (v instanceof Bomb) {
      v = v.e;
      undoKind = 1;
    }
  }
  return v;
}

/**
 * rt.boundary: called by the outermost compiled frame of a segment entered from
 * ordinary code, whose record `rec` ends the chain. Drives the frames above it
 * here, on the ordinary caller's stack, and returns what the boundary frame's own
 * call site evaluates to, with `rt.rk` = 1 when that is an error to throw there;
 * the boundary frame then carries on in place (it is still on the JS stack).
 */
function boundary(rec: Frame, inPlace = false): unknown {
  let v: unknown;
  let k: 0 | 1 = 0;
  let F = closeChain(null, rec);
  let retried: Frame | null = null; // the record last resumed at its retry entry
  let up0: Frame | null = null;
  for (;;) {
    if (rt.u === 2) {
      rt.u = 0;
      v = undefined;
      k = 0;
      if (retried !== null && noProgress(retried, F, up0)) {
        v = overflow();
        k = 1;
        retried = null;
      } else retried = F;
    } else if (rt.u === 1) {
      retried = null;
      rt.u = 0;
      v = undoValue(rec);
      k = undoKind;
    }
    if (inPlace && F === rec) {
      rt.rk = k;
      return v;
    }
    const up: Frame | null = F.up;
    up0 = up;
    const kin = k;
    const vin = v;
    v = resume(F, v, k);
    k = resumedKind;
    if (kin === 1 && k === 1 && v === vin) noteUnwound(v, F, BOUNDARY);
    if (rt.u !== 0) {
      F = closeChain(up, v);
      continue;
    }
    retried = null;
    if (up === null) {
      if (k) throw v;
      return v;
    }
    F = up;
  }
}
setBoundaryImpl(boundary);

/** Names the logical-stack lines are placed before in a native trace (stack.ts). */
const DRIVE_ALL = driveAll.name;
const BOUNDARY = boundary.name;
