// The engine on a real SQLite file: steps, retries, sleeps, signals, cancel, errors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, sqliteStore, WorkflowError, type Engine } from '../../workflow/index.js';
import { approval, calls, cancellable, cleanups, collector, declined, flaky, fragile, fragileState, napper, order, slowStep, thrower } from './programs/flows.js';
import { tempDb } from './helpers.js';

let engine: Engine;
let db: string;
beforeEach(() => {
  db = tempDb();
  engine = createEngine({ store: sqliteStore(db) });
  calls.length = 0;
  cleanups.length = 0;
});
afterEach(() => engine.close());

describe('steps', () => {
  it('runs a workflow to the end, each step once, and journals the steps', async () => {
    const h = await engine.start(order, ['book', 3], { id: 'o1' });
    expect((await h.get()).status).toBe('running');
    const report = await engine.drain();
    expect(report.finished).toBe(1);
    const info = await engine.get('o1');
    expect(info).toMatchObject({ status: 'finished', result: 'book x3: 21', error: null, frames: [], steps: 3 });
    expect(calls).toEqual(['price book', 'charge book', 'ship book']);
    const steps = (await engine.journal('o1')).filter((j) => j.kind === 'step');
    expect(steps.map((j) => [j.name, j.attempt, j.data])).toEqual([
      ['price', 1, { value: 7 }],
      ['charge', 1, { value: 21 }],
      ['ship', 1, { value: '<undefined>' }],
    ]);
  });

  it('start is idempotent by id', async () => {
    await engine.start(order, ['pen', 1], { id: 'same' });
    await engine.start(order, ['other', 9], { id: 'same' });
    await engine.drain();
    expect((await engine.get('same')).result).toBe('pen x1: 7');
    await engine.start(order, ['again', 2], { id: 'same' });
    expect((await engine.drain()).loaded).toBe(0);
    expect(calls.filter((c) => c.startsWith('price'))).toEqual(['price pen']);
  });

  it('start with an existing id and another workflow is a conflict', async () => {
    await engine.start(order, ['pen', 1], { id: 'x' });
    await expect(engine.start(flaky, [0], { id: 'x' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('retries a failing step with backoff, journaling each failed attempt', async () => {
    await engine.start(flaky, [2], { id: 'f' });
    await engine.drain();
    expect(await engine.get('f')).toMatchObject({ status: 'finished', result: 33 });
    expect(calls).toEqual(['flaky attempt 1', 'flaky attempt 2', 'flaky attempt 3']);
    const j = await engine.journal('f');
    expect(j.filter((e) => e.kind === 'retry').map((e) => [e.attempt, (e.data as { error: string }).error])).toEqual([
      [1, 'boom 1'],
      [2, 'boom 2'],
    ]);
  });

  it('a step that fails after its retries fails the run with its error', async () => {
    await engine.start(flaky, [10], { id: 'f' });
    const report = await engine.drain();
    expect(report.failed).toBe(1);
    const info = await engine.get('f');
    expect(info.status).toBe('failed');
    expect(info.error).toMatchObject({ name: 'Error', message: 'boom 4' });
    expect(calls).toHaveLength(4);
  });

  it('retry of a failed run resumes from its last checkpoint: completed steps do not run again', async () => {
    fragileState.fixed = false;
    await engine.start(fragile, [], { id: 'fr' });
    await engine.drain();
    expect(await engine.get('fr')).toMatchObject({ status: 'failed', error: { message: 'service down' }, steps: 1 });
    fragileState.fixed = true;
    await engine.retry('fr');
    await engine.drain();
    expect(await engine.get('fr')).toMatchObject({ status: 'finished', result: 'ab', steps: 2 });
    expect(calls).toEqual(['one', 'two', 'two']);
  });

  it('NonRetryableError stops retries and is thrown into the workflow', async () => {
    await engine.start(declined, [], { id: 'd' });
    await engine.drain();
    expect((await engine.get('d')).result).toBe('caught NonRetryableError: card declined');
    expect(calls).toEqual(['declined charge']);
  });

  it('an attempt that takes longer than its timeout fails with STEP_TIMEOUT', async () => {
    await engine.start(slowStep, [], { id: 's' });
    await engine.drain();
    const info = await engine.get('s');
    expect(info.status).toBe('failed');
    expect(info.error).toMatchObject({ name: 'WorkflowError', code: 'STEP_TIMEOUT' });
    expect((await engine.journal('s')).filter((e) => e.kind === 'retry')).toHaveLength(1);
  });

  it('an error thrown by the workflow fails the run; other runs are unharmed', async () => {
    await engine.start(thrower, [], { id: 'bad' });
    await engine.start(order, ['cup', 2], { id: 'good' });
    const report = await engine.drain();
    expect(report).toMatchObject({ failed: 1, finished: 1 });
    expect((await engine.get('bad')).error).toMatchObject({ name: 'TypeError', message: 'bad input in the workflow' });
    expect((await engine.get('good')).result).toBe('cup x2: 14');
  });

  it('refuses a function that is not a module-level tasklet function', async () => {
    await expect(engine.start(() => 1, [])).rejects.toMatchObject({ code: 'NOT_A_WORKFLOW' });
  });
});

describe('durable sleep', () => {
  it('parks the run (drain returns) and resumes it once due, without repeating steps', async () => {
    await engine.start(napper, [60], { id: 'n' });
    const first = await engine.drain();
    expect(first).toMatchObject({ parked: 1, finished: 0 });
    const parked = await engine.get('n');
    expect(parked.status).toBe('waiting');
    expect(parked.wakeAt!.getTime()).toBeGreaterThan(Date.now());
    expect(parked.frames.at(-1)).toMatchObject({ function: 'napper' });
    expect(parked.frames.at(-1)!.locals).toMatchObject({ ms: 60 });
    expect((await engine.drain()).loaded).toBe(0); // not due yet: nothing loaded
    await new Promise((r) => setTimeout(r, 70));
    await engine.drain();
    expect(await engine.get('n')).toMatchObject({ status: 'finished', result: 'rested' });
    expect(calls).toEqual(['before sleep', 'after sleep']);
  });

  it("takes text durations ('3 days') and keeps the deadline", async () => {
    await engine.start(napper, ['3 days'], { id: 'long' });
    await engine.drain();
    const info = await engine.get('long');
    expect(info.wakeAt!.getTime() - Date.now()).toBeGreaterThan(3 * 86_400_000 - 60_000);
  });

  it('a bad duration fails the run with a clear error', async () => {
    await engine.start(napper, ['3 fortnights'], { id: 'bad' });
    await engine.drain();
    expect((await engine.get('bad')).error).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining("unknown unit 'fortnights'") });
  });
});

describe('signals', () => {
  it('a run waits for a signal, parked; the signal resumes it', async () => {
    await engine.start(approval, [120], { id: 'a' });
    await engine.drain();
    expect(await engine.get('a')).toMatchObject({ status: 'waiting', waitingFor: ['decision'] });
    await engine.signal('a', 'decision', { ok: true, by: 'ann' });
    await engine.drain();
    expect(await engine.get('a')).toMatchObject({ status: 'finished', result: 'paid 120, approved by ann' });
    expect(calls).toEqual(['pay 120']);
  });

  it('signals sent before the run asks are kept, in order', async () => {
    await engine.start(collector, [3], { id: 'c' });
    await engine.signal('c', 'item', 'x');
    await engine.signal('c', 'item', 'y');
    await engine.drain();
    expect((await engine.get('c')).status).toBe('waiting');
    await engine.signal('c', 'item', 'z');
    await engine.drain();
    expect((await engine.get('c')).result).toEqual(['x', 'y', 'z']);
  });

  it('signals the run never asked for are dropped when it finishes', async () => {
    const store = sqliteStore(db);
    await engine.start(approval, [7], { id: 'a2' });
    await engine.signal('a2', 'unrelated', 1);
    await engine.signal('a2', 'decision', { ok: true, by: 'cy' });
    await engine.drain();
    expect((await engine.get('a2')).status).toBe('finished');
    expect(store.pendingSignals('a2')).toEqual([]);
    store.close();
  });

  it('a signal to a finished run or an unknown run is a clear error', async () => {
    await engine.start(order, ['pen', 1], { id: 'done' });
    await engine.drain();
    await expect(engine.signal('done', 'decision', 1)).rejects.toThrow("cannot signal run 'done': it has finished");
    await expect(engine.signal('nope', 'decision', 1)).rejects.toMatchObject({ code: 'UNKNOWN_RUN', message: "no workflow run with id 'nope'" });
    await expect(engine.get('nope')).rejects.toBeInstanceOf(WorkflowError);
    expect((await engine.get('done')).status).toBe('finished');
  });
});

describe('cancel', () => {
  it('raises TaskletExit where the run waits: finally blocks (with steps) run, status cancelled', async () => {
    await engine.start(cancellable, [], { id: 'k' });
    await engine.drain();
    expect((await engine.get('k')).status).toBe('waiting');
    await engine.cancel('k');
    await engine.drain();
    expect((await engine.get('k')).status).toBe('cancelled');
    expect(calls).toEqual(['reserve', 'release']);
    expect(cleanups).toEqual(['finally ran']);
    await expect(engine.cancel('k')).rejects.toMatchObject({ code: 'RUN_ENDED' });
  });

  it('retry runs a cancelled run again from its start', async () => {
    await engine.start(approval, [5], { id: 'r' });
    await engine.drain();
    await engine.cancel('r');
    await engine.drain();
    expect((await engine.get('r')).status).toBe('cancelled');
    await engine.retry('r');
    await engine.signal('r', 'decision', { ok: false, by: 'bob' });
    await engine.drain();
    expect(await engine.get('r')).toMatchObject({ status: 'finished', result: 'rejected by bob' });
  });
});
