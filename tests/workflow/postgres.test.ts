// The Postgres store against a real server (a throwaway cluster, tests/workflow/programs/pg-cluster.mjs):
// the engine's behaviour on it, child workflows, leases and fencing between two engines, and
// bad input. If Postgres cannot be started, beforeAll fails with the reason (no silent skip).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, postgresStore, WorkflowError, type Engine, type PostgresStore } from '../../workflow/index.js';
import { approval, calls, cancellable, cleanups, collector, fragile, fragileState, longStep, napper, order } from './programs/flows.js';
import { family, parentOfFailing, parentWithId, waitsForApproval } from './programs/children.js';
import { startPostgres, type Cluster } from './programs/pg-cluster.mjs';

let cluster: Cluster;
let admin: pg.Pool;
let n = 0;

beforeAll(async () => {
  cluster = await startPostgres();
  admin = new pg.Pool({ connectionString: cluster.url, max: 2 });
}, 60_000);
afterAll(async () => {
  await admin?.end();
  cluster?.stop();
});

/** A fresh schema per test: runs of one test never meet another's. */
function fresh(): { store: PostgresStore; engine: Engine; schema: string } {
  const schema = `t${++n}`;
  const store = postgresStore(cluster.url, { schema, poolSize: 4 });
  calls.length = 0;
  cleanups.length = 0;
  return { store, engine: createEngine({ store, worker: `w${n}` }), schema };
}

const sql = async (text: string, values: unknown[] = []) => (await admin.query(text, values)).rows;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the engine on Postgres', () => {
  it('runs steps, parks on a signal and a sleep, and resumes in another engine', async () => {
    const { engine, store, schema } = fresh();
    await engine.start(order, ['book', 3], { id: 'o1' });
    await engine.start(approval, [50], { id: 'a1' });
    await engine.start(napper, [60], { id: 'n1' });
    expect(await engine.drain()).toEqual({ loaded: 3, finished: 1, failed: 0, cancelled: 0, parked: 2, skipped: [], lost: 0 });
    expect((await engine.get('o1')).result).toBe('book x3: 21');
    expect(calls.filter((c) => c.endsWith('book'))).toEqual(['price book', 'charge book', 'ship book']);
    expect(calls.filter((c) => c.endsWith('sleep'))).toEqual(['before sleep']);
    const a = await engine.get('a1');
    expect(a).toMatchObject({ status: 'waiting', waitingFor: ['decision'] });
    expect(a.frames.at(-1)).toMatchObject({ function: 'approval', locals: { amount: 50 } });
    // parked runs hold no lease
    expect(await sql(`SELECT id, owner FROM ${schema}.runs WHERE status = 'waiting' ORDER BY id`)).toEqual([
      { id: 'a1', owner: null },
      { id: 'n1', owner: null },
    ]);
    await engine.close();
    expect(store.pool.ending).toBe(true); // the store made the pool, the store closed it

    // "after a restart": a new engine, a new pool
    const again = createEngine({ store: postgresStore(cluster.url, { schema }) });
    await again.signal('a1', 'decision', { ok: true, by: 'ann' });
    await pause(70);
    expect(await again.drain()).toMatchObject({ loaded: 2, finished: 2, parked: 0 });
    expect((await again.get('a1')).result).toBe('paid 50, approved by ann');
    expect((await again.get('n1')).result).toBe('rested');
    expect((await again.journal('a1')).map((j) => j.kind)).toEqual(['started', 'signal', 'step', 'finished']);
    expect((await again.list()).map((r) => [r.id, r.status])).toEqual([['o1', 'finished'], ['a1', 'finished'], ['n1', 'finished']]);
    await again.close();
  });

  it('start is idempotent by id; signals in order; cancel runs finally blocks; retry from the last checkpoint', async () => {
    const { engine } = fresh();
    await engine.start(collector, [3], { id: 'c' });
    await engine.start(collector, [9], { id: 'c' }); // the same run
    for (const item of ['x', 'y', 'z']) await engine.signal('c', 'item', item);
    await engine.start(cancellable, [], { id: 'k' });
    fragileState.fixed = false;
    await engine.start(fragile, [], { id: 'f' });
    expect(await engine.drain()).toMatchObject({ loaded: 3, finished: 1, failed: 1, parked: 1 });
    expect((await engine.get('c')).result).toEqual(['x', 'y', 'z']);
    await engine.cancel('k');
    expect(await engine.drain()).toMatchObject({ cancelled: 1 });
    expect(cleanups).toEqual(['finally ran']);
    expect(calls.filter((c) => c === 'release')).toEqual(['release']);
    fragileState.fixed = true;
    await engine.retry('f');
    await engine.drain();
    expect((await engine.get('f')).result).toBe('ab');
    expect(calls.filter((c) => c === 'one')).toEqual(['one']); // a completed step never runs again
    await engine.close();
  });

  it('works on a pg.Pool the caller owns, and leaves it open', async () => {
    const pool = new pg.Pool({ connectionString: cluster.url, max: 3 });
    const schema = `pool${++n}`;
    const engine = createEngine({ store: postgresStore(pool, { schema }) });
    await engine.start(order, ['pen', 2], { id: 'p' });
    // a second store on the same pool (say, the CLI's) shares its connections and prepared statements
    const reader = postgresStore(pool, { schema });
    expect((await reader.listRuns()).map((r) => r.id)).toEqual(['p']);
    await engine.drain();
    expect((await engine.get('p')).result).toBe('pen x2: 14');
    expect((await reader.getRun('p'))?.status).toBe('finished');
    await reader.close();
    await engine.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });

  it('work() wakes on NOTIFY from another process\'s start and signal, not by polling', async () => {
    const { engine, schema } = fresh();
    const other = createEngine({ store: postgresStore(cluster.url, { schema }) }); // stands for another process
    const ac = new AbortController();
    const working = engine.work({ signal: ac.signal, pollMs: 60_000 });
    await pause(100);
    await other.start(approval, [7], { id: 'nt' });
    const t0 = Date.now();
    while ((await other.get('nt')).status !== 'waiting') await pause(5);
    await other.signal('nt', 'decision', { ok: true, by: 'notify' });
    while ((await other.get('nt')).status !== 'finished') await pause(5);
    expect(Date.now() - t0).toBeLessThan(5_000); // pollMs is a minute: NOTIFY woke it
    ac.abort();
    await working;
    await other.close();
    await engine.close();
  });
});

describe('child workflows on Postgres', () => {
  it('a parent waits durably for its children and gets their results or their errors', async () => {
    const { engine } = fresh();
    await engine.start(family, [3], { id: 'fam' });
    await engine.start(parentOfFailing, [], { id: 'pf' });
    await engine.drain();
    expect((await engine.get('fam')).result).toBe(1 + 4 + 9);
    for (let k = 1; k <= 3; k++) expect(await engine.get(`fam/${k - 1}`)).toMatchObject({ status: 'finished', result: k * k });
    expect((await engine.store.getRun('fam/2'))?.parent).toBe('fam');
    expect((await engine.get('pf')).result).toMatch(/^caught CHILD_FAILED: child run 'pf\/0' failed: TypeError: bad input in the workflow$/);
    expect((await engine.journal('fam')).map((j) => `${j.kind} ${j.name ?? ''}`.trim())).toEqual([
      'started', 'child fam/0', 'child fam/0', 'child fam/1', 'child fam/1', 'child fam/2', 'child fam/2', 'finished',
    ]);
    await engine.close();
  });

  it('a parent parked on a child resumes when the child ends in another engine; cancelling a parent cancels its child', async () => {
    const { engine, schema } = fresh();
    await engine.start(waitsForApproval, [], { id: 'w' });
    await engine.start(waitsForApproval, [], { id: 'c' });
    expect(await engine.drain()).toMatchObject({ loaded: 4, parked: 4 });
    const other = createEngine({ store: postgresStore(cluster.url, { schema }), worker: 'other' });
    await other.signal('w/0', 'decision', { ok: true, by: 'lee' });
    expect(await other.drain()).toMatchObject({ finished: 2 }); // the child, then its parent
    expect((await engine.get('w')).result).toBe('child said: paid 9, approved by lee');
    await other.cancel('c');
    expect(await other.drain()).toMatchObject({ cancelled: 2 });
    expect((await engine.get('c/0')).status).toBe('cancelled');
    await other.close();
    await engine.close();
  });

  it('a child id that belongs to another run is a CONFLICT thrown into the parent', async () => {
    const { engine } = fresh();
    await engine.start(order, ['x', 1], { id: 'taken' });
    await engine.start(parentWithId, ['taken'], { id: 'pw' });
    await engine.drain();
    expect((await engine.get('pw')).result).toBe(
      "caught CONFLICT: child run 'taken' exists already and is not a child of run 'pw': give child() another id",
    );
    await engine.close();
  });
});

describe('leases and fencing', () => {
  it('a worker that lost its lease cannot write a checkpoint; the run is finished once, by the new owner', async () => {
    const { schema } = fresh();
    const a = createEngine({ store: postgresStore(cluster.url, { schema }), worker: 'A', leaseMs: 60_000 });
    const b = createEngine({ store: postgresStore(cluster.url, { schema }), worker: 'B', leaseMs: 60_000 });
    await a.start(longStep, [400], { id: 'L' });
    const draining = a.drain();
    while ((await sql(`SELECT owner FROM ${schema}.runs WHERE id = 'L'`))[0].owner !== 'A') await pause(5);
    // A stalls past its lease (as if its event loop were blocked): the lease expires, B takes the run over
    await sql(`UPDATE ${schema}.runs SET lease_until = 0 WHERE id = 'L'`);
    const rb = await b.drain();
    expect(rb).toMatchObject({ loaded: 1, finished: 1, lost: 0 });
    const ra = await draining; // A's step completes now: its checkpoint is fenced out
    expect(ra).toMatchObject({ loaded: 1, finished: 0, lost: 1 });
    const row = (await sql(`SELECT status, owner, lease, checkpoints FROM ${schema}.runs WHERE id = 'L'`))[0];
    expect(row).toEqual({ status: 'finished', owner: null, lease: '2', checkpoints: 1 });
    const kinds = (await b.journal('L')).map((j) => j.kind);
    expect(kinds).toEqual(['started', 'step', 'finished']); // A wrote nothing
    await a.close();
    await b.close();
  });

  it('a worker renews its lease while a step runs longer than the lease: no other worker takes the run', async () => {
    const { schema } = fresh();
    const a = createEngine({ store: postgresStore(cluster.url, { schema }), worker: 'A', leaseMs: 400 });
    const b = createEngine({ store: postgresStore(cluster.url, { schema }), worker: 'B', leaseMs: 400 });
    await a.start(longStep, [1200], { id: 'R' });
    const draining = a.drain();
    while ((await sql(`SELECT owner FROM ${schema}.runs WHERE id = 'R'`))[0].owner !== 'A') await pause(5);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      await pause(200); // 1 s in all: the lease (400 ms) would have expired twice without renewal
      expect(await b.drain()).toMatchObject({ loaded: 0 }); // still leased to A
      seen.push(Number((await sql(`SELECT lease_until FROM ${schema}.runs WHERE id = 'R'`))[0].lease_until));
    }
    expect(new Set(seen.filter((x) => x > 0)).size).toBeGreaterThan(1); // lease_until moved on: renewed
    expect(await draining).toMatchObject({ loaded: 1, finished: 1, lost: 0 });
    expect((await a.get('R')).result).toBe('long result');
    await a.close();
    await b.close();
  });

  it('two engines draining at once never load the same run', async () => {
    const { schema } = fresh();
    const a = createEngine({ store: postgresStore(cluster.url, { schema }), worker: 'A' });
    const b = createEngine({ store: postgresStore(cluster.url, { schema }), worker: 'B' });
    for (let i = 0; i < 40; i++) await a.start(order, [`i${i}`, 1], { id: `r${i}` });
    const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
    expect(ra.loaded + rb.loaded).toBe(40);
    expect(ra.finished + rb.finished).toBe(40);
    expect(calls.filter((c) => c.startsWith('ship')).length).toBe(40); // each run's steps ran once
    const dup = await sql(`SELECT run_id, name, count(*)::int AS n FROM ${schema}.journal WHERE kind IN ('step', 'finished')
      GROUP BY run_id, kind, name HAVING count(*) > 1`);
    expect(dup).toEqual([]);
    await a.close();
    await b.close();
  });
});

describe('bad input on Postgres', () => {
  it('a corrupt checkpoint fails that run (CORRUPT); the other run finishes', async () => {
    const { engine, schema } = fresh();
    await engine.start(approval, [1], { id: 'victim' });
    await engine.start(approval, [2], { id: 'bystander' });
    await engine.drain();
    await sql(`UPDATE ${schema}.runs SET snapshot = '{"format":"stackless-snapshot", trunc' WHERE id = 'victim'`);
    await engine.signal('victim', 'decision', { ok: true, by: 'v' });
    await engine.signal('bystander', 'decision', { ok: true, by: 'b' });
    expect(await engine.drain()).toMatchObject({ failed: 1, finished: 1 });
    const v = await engine.get('victim');
    expect(v.status).toBe('failed');
    expect(v.error).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/^run 'victim': its checkpoint cannot be read back: bad snapshot: not JSON/) });
    expect((await engine.get('bystander')).result).toBe('paid 2, approved by b');
    // a row with an unknown status is never claimed, and list() shows it as failed with why
    await sql(`UPDATE ${schema}.runs SET status = 'exploded' WHERE id = 'victim'`);
    const listed = await engine.store.listRuns();
    expect(listed.find((r) => r.id === 'victim')).toMatchObject({ status: 'failed', corrupt: `run 'victim' has an unknown status "exploded" in the store` });
    await expect(engine.get('victim')).rejects.toThrow(`run 'victim' has an unknown status "exploded" in the store`);
    await engine.close();
  });

  it('an unknown id and a signal or cancel to a finished run are clear errors that change nothing', async () => {
    const { engine, schema } = fresh();
    await engine.start(order, ['a', 1], { id: 'done' });
    await engine.drain();
    const before = await sql(`SELECT * FROM ${schema}.runs`);
    const err = (p: Promise<unknown>) => p.then(() => null, (e: WorkflowError) => [e.code, e.message]);
    expect(await err(engine.signal('nope', 'decision', 1))).toEqual(['UNKNOWN_RUN', "no workflow run with id 'nope'"]);
    expect(await err(engine.get('nope'))).toEqual(['UNKNOWN_RUN', "no workflow run with id 'nope'"]);
    expect(await err(engine.cancel('nope'))).toEqual(['UNKNOWN_RUN', "no workflow run with id 'nope'"]);
    expect(await err(engine.signal('done', 'decision', 1))).toEqual(['RUN_ENDED', "cannot signal run 'done': it has finished"]);
    expect(await err(engine.cancel('done'))).toEqual(['RUN_ENDED', "cannot cancel run 'done': it has finished"]);
    expect(await err(engine.retry('done'))).toEqual(['NOT_RETRYABLE', "cannot retry run 'done': it is finished (only failed or cancelled runs can be retried)"]);
    expect(await sql(`SELECT * FROM ${schema}.runs`)).toEqual(before);
    expect(await sql(`SELECT count(*)::int AS n FROM ${schema}.inbox`)).toEqual([{ n: 0 }]);
    await engine.close();
  });

  it('a server that is not there: a STORE error naming where, with what to check', async () => {
    const engine = createEngine({ store: postgresStore('postgres://postgres@127.0.0.1:1/nowhere') });
    await expect(engine.start(order, ['a', 1])).rejects.toThrow(
      /^postgres store: cannot set up schema 'stackless' at 127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED.*\. Check the connection string and that the server is running and accepts this user$/,
    );
    await engine.close();
    expect(() => postgresStore(cluster.url, { schema: 'Bad-Name' })).toThrow(
      'postgresStore: schema must be a lower-case SQL identifier (letters, digits, _), got "Bad-Name"',
    );
  });
});
