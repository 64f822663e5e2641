// Fast paths of send()/receive() for the common case: a tasklet (not main) using
// an unbuffered channel with no channel callback, partner (if any) a plain tasklet.
// Everything else, and every error case, goes to the general `action` in channel.ts.
// Same semantics; fewer checks and no intermediate calls on the hot path.
import { rt, now, Bomb, K_MASK, K_PAUSED, K_BLOCKED, F_SEND, F_ITER, F_TIMED, F_BTRAP, SK_SOFT, SK_CHANNEL } from './rt.js';
import { ringAppend, ringInsertBefore, ringRemove } from './ring.js';
import { suspendTasklet, wakeable } from './scheduler.js';
import type { Chan } from './chancore.js';
import type { QNode } from './queue.js';
import type { Tasklet } from './tasklet.js';

/** Returned by fastSend when the fast path does not apply. */
export const SLOW = { slow: true };

/**
 * Set by fastReceive when the fast path did not apply (it then returned undefined).
 * A flag rather than a sentinel value: comparing the received value, which can be
 * anything, with a sentinel makes V8 emit a generic (builtin) strict-equality call.
 */
export let missed = false;

/** Flags of a waiting partner the fast paths cannot deliver to. */
const SPECIAL = F_ITER | F_TIMED;

// The front functions only check and dispatch; each outcome is its own function, so V8
// inlines into a call site only the outcomes that site has seen (in a ping-pong every
// send blocks and every receive finds its sender waiting) and the inlining budget of
// the compiled tasklet functions is not spent on paths they never take.

export function fastSend(ch: Chan, value: unknown): unknown {
  const t = now.cur as Tasklet;
  const fl = ch._fl; // preference + 1 in bits 0-1; 0 means -1 (default), open, no schedule_all
  if (t === rt.main || (fl & ~3) !== 0 || rt.strap !== 0 || rt.incb !== 0) return SLOW;
  if (ch._bal < 0) return sendToWaiting(ch, t, fl, value);
  return fastBlock(ch, t, 1, value);
}

export function fastReceive(ch: Chan): unknown {
  const t = now.cur as Tasklet;
  const fl = ch._fl;
  if (t === rt.main || (fl & ~3) !== 0 || rt.strap !== 0 || rt.incb !== 0) return miss();
  if (ch._bal > 0) return receiveFromWaiting(ch, t, fl);
  return receiveBlocking(ch, t);
}

/** A receiver waits: hand it the value; by preference -1 (default) it runs first. */
function sendToWaiting(ch: Chan, t: Tasklet, fl: number, value: unknown): unknown {
  const w = ch._n as Tasklet;
  if ((w as { _st?: number })._st === undefined || (w._st & SPECIAL) !== 0) return SLOW; // a select node
  const n = w._n as QNode;
  ch._n = n;
  n._p = ch;
  w._n = w._p = null;
  ch._bal++;
  w._v = value;
  w._st = (w._st & ~K_MASK) | K_PAUSED;
  if (fl === 0) {
    // preference -1: the receiver runs now, the sender later in the cycle
    ringInsertBefore(t._n as Tasklet, w);
    t._v = undefined;
    return suspendTasklet(SK_SOFT, w);
  }
  ringAppend(w);
  return undefined;
}

/** A sender waits: take its value; by preference -1 (default) the receiver runs on. */
function receiveFromWaiting(ch: Chan, t: Tasklet, fl: number): unknown {
  const s = ch._n as Tasklet;
  if ((s as { _st?: number })._st === undefined) return miss(); // a select node
  const n = s._n as QNode;
  ch._n = n;
  n._p = ch;
  s._n = s._p = null;
  ch._bal--;
  const v = s._v;
  s._v = undefined;
  s._st = (s._st & ~(K_MASK | F_SEND)) | K_PAUSED;
  if (fl === 2) {
    // preference 1: the sender runs now, the receiver later in the cycle
    ringInsertBefore(t._n as Tasklet, s);
    t._v = v;
    return suspendTasklet(SK_SOFT, s);
  }
  ringAppend(s);
  if (v instanceof Bomb) throw v.e;
  return v;
}

function receiveBlocking(ch: Chan, t: Tasklet): unknown {
  const r = fastBlock(ch, t, -1, undefined);
  return r === SLOW ? miss() : r;
}

export function clearMissed(): void {
  missed = false;
}

function miss(): undefined {
  missed = true;
  return undefined;
}

function fastBlock(ch: Chan, t: Tasklet, dir: number, value: unknown): unknown {
  if (t._st & F_BTRAP || (rt.count <= 1 && wakeable() === null)) return SLOW; // errors: the general path
  ringRemove(t);
  const p = ch._p as QNode;
  t._p = p;
  t._n = ch;
  p._n = t;
  ch._p = t;
  ch._bal += dir;
  t._st = (t._st & ~K_MASK) | K_BLOCKED | (dir > 0 ? F_SEND : 0);
  t._v = value;
  return suspendTasklet(SK_CHANNEL, now.head);
}
