// Runs a tasklet function uninterrupted, then again with a snapshot / JSON / restore after
// every scheduler step, and compares what both runs produced (shared by the snapshot tests).
import { expect } from 'vitest';
import { spawn, run, schedule, snapshot, restore, type Tasklet, type SnapshotData } from 'stackless';

export const viaJson = (s: SnapshotData): SnapshotData => JSON.parse(JSON.stringify(s));

/**
 * `fn(...mkArgs())` to the end, then for k = 1, 2, ...: a fresh run stopped after k switches,
 * saved with its arguments, restored and finished; the first argument (a log) and the result
 * must equal the uninterrupted run's. Returns how many round trips happened and the reference
 * arguments.
 */
export function everyStep(fn: (...a: any[]) => unknown, mkArgs: () => unknown[]): { trips: number; ref: unknown[] } {
  const refArgs = mkArgs();
  const r = spawn(fn, ...refArgs);
  run();
  let trips = 0;
  for (let k = 1; ; k++) {
    const args = mkArgs();
    const t = spawn(fn, ...args);
    for (let i = 0; i < k; i++) schedule();
    if (!t.alive) break;
    const data = viaJson(snapshot(t, args));
    t.kill();
    const [t2, args2] = restore(data).roots as [Tasklet, unknown[]];
    t2.insert();
    run();
    expect(args2[0], `after ${k} switches`).toEqual(refArgs[0]);
    expect(t2.result, `after ${k} switches`).toEqual(r.result);
    trips++;
  }
  return { trips, ref: refArgs };
}
