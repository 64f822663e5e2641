// Public entry points of snapshots (SPEC "Snapshots"): snapshot(...roots) -> JSON-safe
// object, restore(data) -> { roots, tasklets, channels }, registerClass(Cls, name?).
// Format: docs/snapshot-format.md.
import { Saver } from './save.js';
import { Tasklet } from '../tasklet.js';
import { check } from './check.js';
import { build, type Restored } from './load.js';
import { fail } from './errors.js';
import { FORMAT, VERSION, type SnapshotData } from './format.js';

export { registerClass } from './builtins.js';
export type { Restored } from './load.js';
export type { SnapshotData } from './format.js';

/**
 * Saves the given tasklets and channels (or any values) and everything reachable from
 * them: frames, locals, channels with their waiting tasklets, timers as absolute deadlines.
 * Throws SnapshotError (with a `code`) for a value that cannot be saved.
 */
export function snapshot(...roots: unknown[]): SnapshotData {
  return save(roots).data;
}

/**
 * snapshot() that also returns the tasklets it saved (in the order restore() returns
 * their copies). Not public: tests use it to retire the originals (every-point mode).
 */
export function saveAll(roots: unknown[]): { data: SnapshotData; tasklets: Tasklet[] } {
  const { data, saver } = save(roots);
  return { data, tasklets: saver.queue.filter((o): o is Tasklet => o instanceof Tasklet) };
}

function save(roots: unknown[]): { data: SnapshotData; saver: Saver } {
  const s = new Saver();
  const enc: unknown[] = [];
  for (let i = 0; i < roots.length; i++) {
    s.at(`root #${i}`);
    enc.push(s.rootVal(roots[i]));
  }
  s.drain();
  const packs = s.packs.finish(s.objs, s.undef);
  const data: SnapshotData = { format: FORMAT, version: VERSION, time: Date.now(), fns: s.fns, factories: s.factories, classes: s.classes, roots: enc, objs: s.objs };
  if (packs.length !== 0) data.packs = packs;
  return { data, saver: s };
}

/**
 * Rebuilds a snapshot (the object, or its JSON text) with fresh objects. Tasklets come
 * back paused (insert() them), or blocked/sleeping/selecting where they were. The
 * whole snapshot is validated first: on SnapshotError nothing has changed.
 */
export function restore(data: unknown): Restored {
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (e) {
      fail('BAD_FORMAT', `bad snapshot: not JSON (${(e as Error).message})`);
    }
  }
  return build(check(data));
}

