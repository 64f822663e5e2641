// Bridges to the event loop: sleep(ms), wait(promise | thunk), receive/select
// timeouts, and runAsync(). Timers share one setTimeout armed for the earliest
// deadline (a binary heap of entries), so a million sleepers cost no host timers.
import { rt, now, Bomb, K_WAITING, W_SLEEP, W_PROMISE, W_MASK, F_TIMED, SK_WAIT } from './rt.js';
import { StacklessError } from './errors.js';
import { ringAppend, ringRemove, wakeIdleDriver } from './ring.js';
import { suspend } from './scheduler.js';
import { checkBlockTrap, checkBlock } from './block.js';
import { channelUnlink } from './chancore.js';
import { cancelSelect, SELECT_TIMEOUT } from './select.js';
import { runWith } from './api.js';
import type { Tasklet } from './tasklet.js';

const T_SLEEP = 0;
const T_PROMISE = 1;
const T_RECEIVE = 2;
const T_SELECT = 3;

/** What a sleeping/waiting tasklet's tempval holds; `t` is null once settled or cancelled. */
export class Timed {
  constructor(
    public t: Tasklet | null,
    readonly kind: number,
    /** Absolute deadline (ms since epoch) for timers; NaN for promises. */
    readonly at: number,
    readonly seq: number,
    readonly what: string,
  ) {}
}

let seq = 0;
const heap: Timed[] = [];
let armedAt = Infinity;
let armed: ReturnType<typeof setTimeout> | null = null;
/** Timer entries not yet fired or cancelled (promise waits are not timers). */
let liveTimers = 0;

function less(a: Timed, b: Timed): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
function heapPush(e: Timed): void {
  let i = heap.push(e) - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(heap[i], heap[p])) break;
    [heap[i], heap[p]] = [heap[p], heap[i]];
    i = p;
  }
}
function heapPop(): Timed {
  const top = heap[0];
  const last = heap.pop() as Timed;
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
  return top;
}

function arm(): void {
  while (heap.length > 0 && heap[0].t === null) heapPop(); // drop cancelled entries
  const at = heap.length > 0 ? heap[0].at : Infinity;
  if (at === armedAt) return;
  if (armed !== null) clearTimeout(armed);
  armed = null;
  armedAt = at;
  if (at !== Infinity) armed = setTimeout(fire, Math.max(0, at - Date.now()));
}

function fire(): void {
  armed = null;
  armedAt = Infinity;
  const due = Date.now();
  while (heap.length > 0 && heap[0].at <= due) {
    const e = heapPop();
    const t = e.t;
    if (t === null) continue;
    e.t = null;
    rt.pending--;
    liveTimers--;
    if (e.kind === T_SLEEP) {
      t._st &= ~(7 | F_TIMED | W_MASK);
      t._v = undefined;
    } else if (e.kind === T_RECEIVE) {
      channelUnlink(t);
      t._st &= ~(7 | F_TIMED | W_MASK);
      t._v = new Bomb(new StacklessError(`${e.what} timed out`));
    } else {
      cancelSelect(t);
      t._st &= ~(7 | W_MASK);
      t._v = SELECT_TIMEOUT();
    }
    ringAppend(t);
  }
  arm();
}

/** No timer left: drop the host timer so a cancelled sleep keeps nothing alive. */
function disarm(): void {
  if (armed !== null) clearTimeout(armed);
  armed = null;
  armedAt = Infinity;
  heap.length = 0;
}

function addTimer(t: Tasklet, kind: number, ms: number, what: string): Timed {
  const e = new Timed(t, kind, Date.now() + Math.max(0, +ms || 0), seq++, what);
  rt.pending++;
  liveTimers++;
  heapPush(e);
  if (e.at < armedAt) arm();
  return e;
}

/** Timer for a receive({ timeout }) that blocks; kept in the tasklet's tempval. */
export function armChannelTimeout(t: Tasklet, ms: number, what: string): Timed {
  return addTimer(t, T_RECEIVE, ms, what);
}
/** Timer for select({ timeout }). */
export function armSelectTimeout(t: Tasklet, ms: number): Timed {
  return addTimer(t, T_SELECT, ms, 'select()');
}

/** Snapshots: a restored sleeper (tasklet already K_WAITING | W_SLEEP) wakes at `ms` from now. */
export function armSleep(t: Tasklet, ms: number): Timed {
  return addTimer(t, T_SLEEP, ms, 'sleep()');
}

/** Cancels a timer or promise wait (kill, or the operation completed first). */
export function cancelTimed(e: unknown): void {
  if (e instanceof Timed && e.t !== null) {
    e.t = null;
    rt.pending--;
    if (e.kind !== T_PROMISE && --liveTimers === 0) disarm();
    if (rt.pending === 0) wakeIdleDriver(); // runAsync may be done now
  }
}

function mainCannot(what: string): StacklessError {
  return new StacklessError(
    `${what} cannot block the main tasklet: ordinary code cannot wait for the event loop; ` +
      `call it inside a tasklet driven by runAsync()`,
  );
}

/** Blocks the calling tasklet for `ms` milliseconds. */
export function sleep(ms: number): void {
  const ok = rt.tok === sleep;
  rt.tok = null;
  const t = now.cur as Tasklet;
  if (t === rt.main) throw mainCannot('sleep()');
  checkBlockTrap(t);
  checkBlock(t, ok, 'sleep()');
  ringRemove(t);
  t._st = (t._st & ~(7 | W_MASK)) | K_WAITING | W_SLEEP;
  t._v = addTimer(t, T_SLEEP, ms, 'sleep()');
  suspend(SK_WAIT, now.head);
}

/**
 * Blocks the calling tasklet until the promise settles; returns its value or throws
 * its reason. A thunk is called to get the promise (and called again after a restore).
 */
export function wait<T>(p: PromiseLike<T> | T | (() => PromiseLike<T> | T)): T {
  const ok = rt.tok === wait;
  rt.tok = null;
  const v = typeof p === 'function' ? (p as () => PromiseLike<T> | T)() : p;
  if (v === null || (typeof v !== 'object' && typeof v !== 'function') || typeof (v as PromiseLike<T>).then !== 'function') return v as T;
  const t = now.cur as Tasklet;
  if (t === rt.main) throw mainCannot('wait()');
  checkBlockTrap(t);
  checkBlock(t, ok, 'wait()');
  const e = new Timed(t, T_PROMISE, NaN, seq++, 'wait()');
  rt.pending++;
  (v as PromiseLike<T>).then(
    (x) => settle(e, x),
    (err) => settle(e, new Bomb(err)),
  );
  ringRemove(t);
  t._st = (t._st & ~(7 | W_MASK)) | K_WAITING | W_PROMISE;
  t._v = e;
  return suspend(SK_WAIT, now.head) as T;
}

function settle(e: Timed, v: unknown): void {
  const t = e.t;
  if (t === null) return;
  e.t = null;
  rt.pending--;
  t._st &= ~(7 | W_MASK);
  t._v = v;
  ringAppend(t); // wakes runAsync
}

export interface RunAsyncOptions {
  /** Milliseconds of tasklet work between yields to the event loop (default 10). */
  batchMs?: number;
}

/**
 * Runs tasklets from the event loop: in batches of about `batchMs`, yielding in
 * between so timers and I/O progress; settles once nothing is runnable, sleeping or
 * waiting for a promise; rejects with an error that escapes a tasklet.
 */
export function runAsync(options?: RunAsyncOptions): Promise<void> {
  // One driver at a time: a second call while one is active shares its promise
  // (two loops would steal each other's wake-ups).
  if (now.cur !== rt.main) return Promise.reject(new StacklessError('runAsync() drives the scheduler from ordinary code; inside a tasklet use run()'));
  if (active === null) {
    active = drain(options?.batchMs ?? 10).finally(() => {
      active = null;
    });
  }
  return active;
}

let active: Promise<void> | null = null;

async function drain(batchMs: number): Promise<void> {
  for (;;) {
    runWith(0, false, false, batchMs);
    if (rt.count > 1) {
      await new Promise<void>(yieldToHost);
      continue;
    }
    if (rt.pending === 0) return;
    await new Promise<void>((r) => {
      rt.idle = r;
    });
  }
}

/**
 * Lets timers and I/O run between batches: `setImmediate` in Node, a message
 * through a MessageChannel in browsers (which have no setImmediate; setTimeout
 * would be clamped to 4 ms after a few nested calls).
 */
const yieldToHost: (resume: () => void) => void =
  typeof setImmediate === 'function'
    ? (resume) => setImmediate(resume)
    : typeof MessageChannel === 'function'
      ? (() => {
          const queue: (() => void)[] = [];
          const ch = new MessageChannel();
          (ch.port1 as any).onmessage = () => queue.shift()?.();
          return (resume: () => void) => {
            queue.push(resume);
            ch.port2.postMessage(0);
          };
        })()
      : (resume) => setTimeout(resume, 0);
