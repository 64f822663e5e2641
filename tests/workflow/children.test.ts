// Child workflows on the embedded store: the parent is parked while its child runs, resumes
// with the child's result (or its error), and a parent resumed after a crash finds its child again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, sqliteStore, type Engine, type SqliteStore } from '../../workflow/index.js';
import { family, parentOfFailing } from './programs/children.js';
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
});
