// Tasklet.throw / kill / raiseException (research §2.3, §3.5): make the target
// runnable with the error in its tempval (a Bomb) and, unless pending, switch to it
// at once, placed just before the caller so that the caller runs next.
import { rt, now, Bomb, K_BOUND, K_SCHED, SK_SOFT } from './rt.js';
import { StacklessError, TaskletExit, M } from './errors.js';
import { kind, ringAppend, ringRemove, ringInsertBefore } from './ring.js';
import { suspend, unblock } from './scheduler.js';
import type { Tasklet } from './tasklet.js';

/** throw/kill/raiseException (research §2.3, §3.5). */
export function throwTo(target: Tasklet<any>, error: unknown, pending: boolean, ok: boolean): void {
  const t = now.cur as Tasklet;
  if (!target.alive) {
    if (error instanceof TaskletExit) {
      // Killing an unbound tasklet just drops its binding.
      if (kind(target) === K_BOUND) target.bind(null);
      return;
    }
    throw new StacklessError(M.throwDead);
  }
  if (target === t) throw error; // raised in place
  // Immediate throws switch: refuse under switch_trap, before changing anything.
  const immediate = !pending && (ok || t === rt.main);
  if (immediate && rt.strap !== 0) throw new StacklessError(M.switchTrap);
  // blocked: off its channel/timer; paused: leaves a run() it may be waiting in
  if (kind(target) !== K_SCHED) unblock(target);
  target._v = new Bomb(error); // an unstarted tasklet dies without running (driver)
  if (!immediate) {
    // pending (or reached from ordinary code: the switch is dropped, the throw still happens)
    if (kind(target) !== K_SCHED) ringAppend(target);
    return;
  }
  // Put it just before the current tasklet and switch to it: the caller runs next.
  if (kind(target) === K_SCHED) ringRemove(target);
  if (kind(t) === K_SCHED) ringInsertBefore(t, target);
  else ringAppend(target);
  t._v = undefined;
  suspend(SK_SOFT, target);
}

