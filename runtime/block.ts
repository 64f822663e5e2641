// Shared checks for primitives that are about to block the current tasklet.
import { rt, F_BTRAP } from './rt.js';
import { StacklessError, M, boundaryError } from './errors.js';
import { wakeable } from './scheduler.js';
import type { Tasklet } from './tasklet.js';

/** Throws block_trap's error if `t` refuses to block. */
export function checkBlockTrap(t: Tasklet): void {
  if (t._st & F_BTRAP) throw new StacklessError(M.blockTrap);
}

/**
 * Throws (leaving every tasklet as it was) unless `t` may switch away now:
 * reached from ordinary code in a non-main tasklet (`tokOk` false) is a boundary;
 * switch_trap forbids switching.
 */
export function checkSwitch(t: Tasklet, tokOk: boolean, what: string): void {
  if (!tokOk && t !== rt.main) throw boundaryError(what);
  if (rt.strap !== 0) throw new StacklessError(M.switchTrap);
  // Stackless: a schedule/channel callback must not switch; here the switch
  // machinery itself is on the stack, so switching would corrupt it.
  if (rt.incb !== 0) throw new StacklessError(`${what} cannot switch tasklets inside a runtime callback`);
}

/** As checkSwitch, plus Stackless's rule that the last runnable tasklet cannot block. */
export function checkBlock(t: Tasklet, tokOk: boolean, what: string): void {
  checkSwitch(t, tokOk, what);
  if (rt.count <= 1 && wakeable() === null) throw new StacklessError(M.deadlock);
}
