// Channel internals shared by Channel, select and close: handing a value to a waiting
// partner and the Stackless preference rules (research §3.3) for who runs next.
import {
  rt, now, Bomb, K_PAUSED, F_SEND, F_ITER, F_TIMED, SK_SOFT,
} from './rt.js';
import { StacklessError, M } from './errors.js';
import { setKind, ringAppend, ringInsertBefore } from './ring.js';
import { qUnlink, qSentinel, type QNode } from './queue.js';
import { suspend } from './scheduler.js';
import { cancelTimed } from './async.js';
import type { Tasklet } from './tasklet.js';
import { SelNode, fireSelect } from './select.js';

/** Marker delivered to receivers woken by `close({ wake: true })`. */
export const CLOSED = { closed: true };

// Channel flag bits (`Channel._fl`).
export const C_PREF_MASK = 3; // preference + 1: 0, 1, 2
export const C_SCHEDALL = 4;
export const C_CLOSING = 8;

/** The channel fields the core needs (Channel declares them). */
export interface Chan extends QNode {
  _bal: number;
  _fl: number;
  _buf: unknown[] | null;
  _bh: number;
  _cap: number;
}

/** Wakes one waiting receiver `w` (already unlinked) with `v` (value, Bomb or CLOSED). */
export function deliver(w: QNode, v: unknown): Tasklet {
  if (w instanceof SelNode) return fireSelect(w, v);
  const t = w as Tasklet;
  if (t._st & F_TIMED) cancelTimed(t._v);
  if (v === CLOSED) v = t._st & F_ITER ? { value: undefined, done: true } : new Bomb(new StacklessError(M.closed));
  else if (t._st & F_ITER && !(v instanceof Bomb)) v = { value: v, done: false };
  t._v = v;
  t._st &= ~(F_ITER | F_TIMED | F_SEND);
  setKind(t, K_PAUSED);
  return t;
}

/** Value taken from the last sender popped by `popSender`. */
export let taken: unknown;

/** Pops the first waiting receiver and hands it `v`. */
export function popReceiver(ch: Chan, v: unknown): Tasklet {
  const w = ch._n as QNode;
  qUnlink(w);
  ch._bal++;
  return deliver(w, v);
}

/** Pops the first waiting sender; its value goes to `taken`; its send() returns undefined. */
export function popSender(ch: Chan): Tasklet {
  const w = ch._n as QNode;
  qUnlink(w);
  ch._bal--;
  if (w instanceof SelNode) {
    taken = w.v;
    return fireSelect(w, undefined);
  }
  const t = w as Tasklet;
  taken = t._v;
  t._v = undefined;
  t._st &= ~F_SEND;
  setKind(t, K_PAUSED);
  return t;
}

/** Would a rendezvous by the caller acting in direction `dir` switch tasklets? */
export function rendezvousSwitches(ch: Chan, dir: number): boolean {
  return (ch._fl & C_SCHEDALL) !== 0 || (ch._fl & C_PREF_MASK) - 1 === -dir;
}

/**
 * After a rendezvous: `target` (the woken partner) is made runnable and the caller
 * either continues (returns `result`) or switches away and gets `result` later.
 * `switchOk` is false when the caller cannot suspend (reached from ordinary code):
 * then the operation has still happened and only the preferred switch is dropped.
 */
export function afterRendezvous(ch: Chan, dir: number, target: Tasklet, result: unknown, switchOk: boolean): unknown {
  const caller = now.cur as Tasklet;
  if (switchOk && caller._n !== null) {
    if (ch._fl & C_SCHEDALL) {
      ringAppend(target);
      caller._v = result;
      return suspend(SK_SOFT, caller._n as Tasklet);
    }
    if ((ch._fl & C_PREF_MASK) - 1 === -dir) {
      ringInsertBefore(caller._n as Tasklet, target);
      caller._v = result;
      return suspend(SK_SOFT, target);
    }
  }
  ringAppend(target);
  if (result instanceof Bomb) throw result.e;
  return result;
}

/** Is `x` a channel (a queue sentinel)? Only channels have a balance. */
function isChannel(x: QNode): boolean {
  return (x as Chan)._bal !== undefined;
}

/** Takes a blocked tasklet off its channel queue, restoring the balance (kill, timeouts). */
export function channelUnlink(t: Tasklet): void {
  const ch = qSentinel(t, isChannel) as Chan;
  qUnlink(t);
  ch._bal -= t._st & F_SEND ? 1 : -1;
}
