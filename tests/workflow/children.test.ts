// Child workflows on the embedded store: the parent is parked while its child runs, resumes
// with the child's result (or its error), and a parent resumed after a crash finds its child again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, sqliteStore, type Engine, type SqliteStore } from '../../workflow/index.js';
import { family, parentOfFailing, waitsForApproval } from './programs/children.js';
import { tempDb } from './helpers.js';

let engine: Engine;
let store: SqliteStore;
let db: string;
beforeEach(() => {
  db = tempDb();
  store = sqliteStore(db);
  engine = createEngine({ store });
});
afterEach(() => engine.close());

describe('child workflows (SQLite)', () => {
  it('a parent gets its children\'s results; each child is a run of its own', async () => {
    await engine.start(family, [3], { id: 'fam' });
    const report = await engine.drain();
    expect((await engine.get('fam')).result).toBe(14);
    expect(report).toMatchObject({ loaded: 7, finished: 4, failed: 0 });
    for (let k = 1; k <= 3; k++) expect(store.getRun(`fam/${k - 1}`)).toMatchObject({ status: 'finished', parent: 'fam' });
  });

  it('a failed child is CHILD_FAILED at the parent\'s call', async () => {
    await engine.start(parentOfFailing, [], { id: 'pf' });
    await engine.drain();
    expect((await engine.get('pf')).result).toBe("caught CHILD_FAILED: child run 'pf/0' failed: TypeError: bad input in the workflow");
    expect((await engine.get('pf/0')).status).toBe('failed');
  });

  it('a parent parked on a child that waits for a signal resumes in a new engine when the child ends', async () => {
    await engine.start(waitsForApproval, [], { id: 'w' });
    expect(await engine.drain()).toMatchObject({ loaded: 2, parked: 2, finished: 0 });
    expect(await engine.get('w')).toMatchObject({ status: 'waiting', waitingFor: ['\u0001child:w/0'] });
    expect(await engine.get('w/0')).toMatchObject({ status: 'waiting', waitingFor: ['decision'] });
    await engine.close();
    const again = createEngine({ store: sqliteStore(db) });
    try {
      await again.signal('w/0', 'decision', { ok: true, by: 'kim' });
      expect(await again.drain()).toMatchObject({ loaded: 2, finished: 2 });
      expect((await again.get('w')).result).toBe('child said: paid 9, approved by kim');
      expect((await again.journal('w')).map((j) => [j.kind, j.name])).toEqual([
        ['started', null], ['child', 'w/0'], ['child', 'w/0'], ['finished', null],
      ]);
    } finally {
      await again.close();
    }
  });

  it('cancelling a parent that waits for a child cancels the child too', async () => {
    await engine.start(waitsForApproval, [], { id: 'c' });
    await engine.drain();
    await engine.cancel('c');
    expect(await engine.drain()).toMatchObject({ cancelled: 2 });
    expect((await engine.get('c')).status).toBe('cancelled');
    expect((await engine.get('c/0')).status).toBe('cancelled');
    expect((await engine.journal('c/0')).map((j) => j.kind)).toEqual(['started', 'cancel', 'cancelled']);
  });
});
