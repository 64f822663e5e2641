// The drain loop with things happening while it runs: a cancel of a run whose step is in
// flight, a signal to a parked run; and a run whose state cannot be saved.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, sqliteStore, type Engine, type SqliteStore } from '../../workflow/index.js';
import { approval, calls, cleanups, holdsClosure, holdsProxy, longStep, manySteps, napper } from './programs/flows.js';
import { tempDb } from './helpers.js';

let engine: Engine;
let store: SqliteStore;
beforeEach(() => {
  store = sqliteStore(tempDb());
  engine = createEngine({ store });
  calls.length = 0;
  cleanups.length = 0;
});
afterEach(() => engine.close());

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('while a drain runs', () => {
  it('cancel of a run whose step is in flight: finally runs, the late result is dropped', async () => {
    await engine.start(longStep, [150], { id: 'long' });
    const draining = engine.drain();
    await pause(30);
    await engine.cancel('long');
    const report = await draining;
    expect(report.cancelled).toBe(1);
    expect((await engine.get('long')).status).toBe('cancelled');
    expect(cleanups).toEqual(['long finally']);
    await pause(150);
    expect((await engine.journal('long')).map((j) => j.kind)).toEqual(['started', 'cancel', 'cancelled']);
  });

  it('a cancel requested in the store by another process (the CLI) stops a run between two steps', async () => {
    await engine.start(manySteps, [400], { id: 'many' });
    const draining = engine.drain();
    await pause(40);
    store.requestCancel('many'); // what `stackless workflows cancel many` writes
    await draining;
    const info = await engine.get('many');
    expect(info.status).toBe('cancelled');
    expect(info.steps).toBeGreaterThan(0);
    expect(info.steps).toBeLessThan(400);
    // the cancel is seen in the checkpoint of the step that just completed: TaskletExit is raised
    // at that step() call instead of its value, so the workflow counted one step fewer
    expect(cleanups).toEqual([`stopped after ${info.steps - 1}`]);
  });

  it('a signal to a parked run during the drain is delivered by that drain', async () => {
    await engine.start(approval, [3], { id: 'ap' });
    await engine.drain();
    await engine.start(longStep, [120], { id: 'long' });
    const draining = engine.drain();
    await pause(30);
    await engine.signal('ap', 'decision', { ok: true, by: 'eve' });
    const report = await draining;
    expect(report.finished).toBe(2);
    expect((await engine.get('ap')).result).toBe('paid 3, approved by eve');
    expect((await engine.get('long')).result).toBe('long result');
  });
});

describe('state that cannot be saved', () => {
  it('fails the run with CHECKPOINT naming the variable; the run keeps its last good checkpoint', async () => {
    await engine.start(holdsProxy, [], { id: 'px' });
    expect((await engine.drain()).failed).toBe(1);
    const info = await engine.get('px');
    expect(info.status).toBe('failed');
    expect(info.error?.code).toBe('CHECKPOINT');
    expect(info.error?.message).toMatch(/^run 'px' cannot be checkpointed: cannot save local 'handle' of function holdsProxy \(tests\/workflow\/programs\/flows\.ts:\d+\).*a Proxy/);
    expect(store.getRun('px')!.snapshot).toBe(store.getRun('px')!.input); // its last good checkpoint: the start
  });

  it('a closure kept in a variable across a step is saved (snapshots save closures)', async () => {
    await engine.start(holdsClosure, [], { id: 'cl' });
    expect((await engine.drain()).finished).toBe(1);
    expect((await engine.get('cl')).result).toBe(42);
  });
});

describe('work()', () => {
  async function until(check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await pause(5);
    }
  }

  it('resumes a sleeping run when due and a signalled run at once (not by polling), until aborted', async () => {
    await engine.start(napper, [80], { id: 'nap' });
    await engine.start(approval, [9], { id: 'ap' });
    const ac = new AbortController();
    const working = engine.work({ signal: ac.signal, pollMs: 60_000 });
    await until(async () => (await engine.get('ap')).status === 'waiting');
    await engine.signal('ap', 'decision', { ok: true, by: 'w' });
    await until(async () => (await engine.get('ap')).status === 'finished');
    await until(async () => (await engine.get('nap')).status === 'finished');
    expect([...calls].sort()).toEqual(['after sleep', 'before sleep', 'pay 9']);
    ac.abort();
    await working;
  });
});
