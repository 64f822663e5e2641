// The runnables ring: a circular doubly-linked list threaded through the tasklets
// themselves (fields _n/_p), anchored at `now.head`. No arrays, no per-tasklet nodes.
import { rt, now, K_MASK, K_SCHED } from './rt.js';
import type { Tasklet } from './tasklet.js';

export function kind(t: Tasklet): number {
  return t._st & K_MASK;
}

/** Sets the kind bits, keeping the flags. */
export function setKind(t: Tasklet, k: number): void {
  t._st = (t._st & ~K_MASK) | k;
}

/** Links `t` just before `at` (which is in the ring): "at the end" when `at` is the head. */
export function ringInsertBefore(at: Tasklet, t: Tasklet): void {
  const p = at._p as Tasklet;
  t._p = p;
  t._n = at;
  p._n = t;
  at._p = t;
  rt.count++;
  setKind(t, K_SCHED);
  if (rt.idle !== null) wakeIdleDriver();
}

/** Something became runnable while runAsync waits: let it run the scheduler again. */
export function wakeIdleDriver(): void {
  const w = rt.idle;
  rt.idle = null;
  if (w !== null) w();
}

/** Appends `t` at the end of the runnables (just before the head). */
export function ringAppend(t: Tasklet): void {
  const h = now.head as Tasklet | null;
  if (h === null) {
    t._n = t._p = t;
    now.head = t;
    rt.count = 1;
    setKind(t, K_SCHED);
    if (rt.idle !== null) wakeIdleDriver();
  } else ringInsertBefore(h, t);
}

/** Unlinks `t` from the ring; the head moves on to its successor if it was the head. */
export function ringRemove(t: Tasklet): void {
  const n = t._n as Tasklet;
  if (n === t) now.head = null;
  else {
    const p = t._p as Tasklet;
    p._n = n;
    n._p = p;
    if (now.head === t) now.head = n;
  }
  t._n = t._p = null;
  rt.count--;
}
