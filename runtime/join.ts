// join() and done(): waiting for a tasklet to end. Kept in a side table so that a
// Tasklet carries no joiner list: only tasklets somebody waits for have an entry.
import { rt, now, Bomb, K_DONE, K_WAITING, W_JOIN, W_MASK, F_ERR, SK_WAIT } from './rt.js';
import { StacklessError, M } from './errors.js';
import { kind, ringAppend, ringRemove } from './ring.js';
import { suspend } from './scheduler.js';
import { checkBlockTrap, checkBlock } from './block.js';
import type { Tasklet } from './tasklet.js';

interface Waiters {
  tasklets: Tasklet[];
  settle: Array<(t: Tasklet, dropped?: unknown) => void>;
}
const table = new Map<Tasklet, Waiters>();

function entry(t: Tasklet): Waiters {
  let w = table.get(t);
  if (w === undefined) table.set(t, (w = { tasklets: [], settle: [] }));
  return w;
}

/** Called when `t` ends: wakes its joiners (at the end of the ring), settles done() promises. */
export function finishJoins(t: Tasklet): void {
  if (table.size === 0) return;
  const w = table.get(t);
  if (w === undefined) return;
  table.delete(t);
  const err = (t._st & F_ERR) !== 0;
  for (const j of w.tasklets) {
    j._st &= ~(7 | (3 << 12));
    j._v = err ? new Bomb(t._top) : t._top;
    ringAppend(j);
  }
  for (const s of w.settle) s(t);
}

/** `t` was dropped: it will never end, so its joiners and done() promises fail. */
export function dropJoins(t: Tasklet): void {
  if (table.size === 0) return;
  const w = table.get(t);
  if (w === undefined) return;
  table.delete(t);
  const err = new StacklessError(M.dropped);
  for (const j of w.tasklets) {
    j._st &= ~(7 | (3 << 12));
    j._v = new Bomb(err);
    ringAppend(j);
  }
  for (const s of w.settle) s(t, err);
}

/** Takes joiner `j` (waiting, _v = the tasklet it joins) off the table. */
export function removeJoiner(j: Tasklet): void {
  const w = table.get(j._v as Tasklet);
  if (w === undefined) return;
  const i = w.tasklets.indexOf(j);
  if (i >= 0) w.tasklets.splice(i, 1);
  if (w.tasklets.length === 0 && w.settle.length === 0) table.delete(j._v as Tasklet);
}

export function joinTasklet(target: Tasklet, ok: boolean): unknown {
  if (kind(target) === K_DONE) {
    if (target._st & F_ERR) throw target._top;
    return target._top;
  }
  const t = now.cur as Tasklet;
  if (target === t) throw new StacklessError('a tasklet cannot join itself');
  if (!target.alive) throw new StacklessError('cannot join a tasklet that is not alive');
  checkBlockTrap(t);
  checkBlock(t, ok, 'join()');
  ringRemove(t);
  t._st = (t._st & ~(7 | W_MASK)) | K_WAITING | W_JOIN;
  t._v = target;
  entry(target).tasklets.push(t);
  return suspend(SK_WAIT, now.head);
}

export function donePromise(target: Tasklet): Promise<unknown> {
  if (kind(target) === K_DONE) {
    return target._st & F_ERR ? Promise.reject(target._top) : Promise.resolve(target._top);
  }
  return new Promise((resolve, reject) => {
    entry(target).settle.push((t, dropped) => (dropped !== undefined ? reject(dropped) : t._st & F_ERR ? reject(t._top) : resolve(t._top)));
  });
}
