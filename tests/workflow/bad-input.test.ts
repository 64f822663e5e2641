// Bad input: a corrupt row, a run pinned to other code, an unknown id, a signal to a finished
// run. Each gives a clear error and harms no other run.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, sqliteStore, type Engine, type SqliteStore } from '../../workflow/index.js';
import { approval, calls, napper } from './programs/flows.js';
import { tempDb } from './helpers.js';

let engine: Engine;
let store: SqliteStore;
beforeEach(async () => {
  store = sqliteStore(tempDb());
  engine = createEngine({ store });
  calls.length = 0;
  // two parked runs that a signal would finish
  await engine.start(approval, [1], { id: 'victim' });
  await engine.start(approval, [2], { id: 'bystander' });
  await engine.drain();
});
afterEach(() => engine.close());

const sql = (text: string, ...args: unknown[]) => store.db.prepare(text).run(...args);

async function signalBoth(): Promise<void> {
  await engine.signal('victim', 'decision', { ok: true, by: 'v' });
  await engine.signal('bystander', 'decision', { ok: true, by: 'b' });
}

describe('a corrupt row', () => {
  it('a checkpoint that is not JSON fails that run (CORRUPT), the other finishes', async () => {
    sql(`UPDATE runs SET snapshot = '{"format":"stackless-snapshot", trunc' WHERE id = 'victim'`);
    await signalBoth();
    const report = await engine.drain();
    expect(report).toMatchObject({ failed: 1, finished: 1 });
    const v = await engine.get('victim');
    expect(v.status).toBe('failed');
    expect(v.error).toMatchObject({ code: 'CORRUPT', message: expect.stringMatching(/^run 'victim': its checkpoint cannot be read back: bad snapshot: not JSON/) });
    expect((await engine.get('bystander')).result).toBe('paid 2, approved by b');
  });

  it('a checkpoint with a hostile shape (bad program counter) is refused, nothing of it runs', async () => {
    const row = store.getRun('victim')!;
    const data = JSON.parse(row.snapshot!);
    const k = data.objs.find((o: unknown[]) => o[0] === 'K');
    k[3][0][1] = 9999; // the innermost frame's pc
    sql(`UPDATE runs SET snapshot = ? WHERE id = 'victim'`, JSON.stringify(data));
    await signalBoth();
    await engine.drain();
    expect((await engine.get('victim')).error).toMatchObject({ code: 'CORRUPT' });
    expect((await engine.get('bystander')).status).toBe('finished');
    expect(calls).toEqual(['pay 2']);
  });

  it('an unknown status is reported by get() and listed as failed, with the reason', async () => {
    sql(`UPDATE runs SET status = 'zombie' WHERE id = 'victim'`);
    await expect(engine.get('victim')).rejects.toMatchObject({ code: 'CORRUPT', message: `run 'victim' has an unknown status "zombie" in the store` });
    const rows = store.listRuns();
    expect(rows.map((r) => [r.id, r.status, r.corrupt])).toEqual([
      ['victim', 'failed', `run 'victim' has an unknown status "zombie" in the store`],
      ['bystander', 'waiting', undefined],
    ]);
    await signalBoth().catch(() => {}); // the zombie may refuse the signal
    await engine.signal('bystander', 'decision', { ok: true, by: 'b' });
    await engine.drain();
    expect((await engine.get('bystander')).status).toBe('finished');
  });
});

describe('code changes', () => {
  it('a run pinned to another fingerprint of its workflow function fails with CODE_CHANGED', async () => {
    sql(`UPDATE runs SET fp = 'deadbeef' WHERE id = 'victim'`);
    await signalBoth();
    await engine.drain();
    const v = await engine.get('victim');
    expect(v.status).toBe('failed');
    expect(v.error?.code).toBe('CODE_CHANGED');
    expect(v.error?.message).toMatch(/workflow function approval \(tests\/workflow\/programs\/flows\.ts#approval\) has changed since the run started: the run is pinned to fingerprint deadbeef, the loaded code has \w+/);
    expect((await engine.get('bystander')).status).toBe('finished');
  });

  it('a frame of changed code in the checkpoint (the snapshot layer refuses it) fails with CODE_CHANGED; retry after a fix resumes it', async () => {
    const row = store.getRun('victim')!;
    const data = JSON.parse(row.snapshot!);
    const realFp = data.fns[0][1];
    data.fns[0][1] = 'cafebabe';
    sql(`UPDATE runs SET snapshot = ? WHERE id = 'victim'`, JSON.stringify(data));
    await signalBoth();
    await engine.drain();
    const v = await engine.get('victim');
    expect(v.error?.code).toBe('CODE_CHANGED');
    expect(v.error?.message).toContain('the snapshot has fingerprint cafebabe');
    // "deploy the code it started with" (here: put its fingerprint back) and retry
    data.fns[0][1] = realFp;
    sql(`UPDATE runs SET snapshot = ? WHERE id = 'victim'`, JSON.stringify(data));
    await engine.retry('victim');
    await engine.drain();
    expect(await engine.get('victim')).toMatchObject({ status: 'finished', result: 'paid 1, approved by v' });
  });
});

describe('ids and ended runs', () => {
  it('unknown ids: get, signal, cancel, retry, journal all say so', async () => {
    const unknown = { code: 'UNKNOWN_RUN', message: "no workflow run with id 'ghost'" };
    await expect(engine.get('ghost')).rejects.toMatchObject(unknown);
    await expect(engine.signal('ghost', 'decision', 1)).rejects.toMatchObject(unknown);
    await expect(engine.cancel('ghost')).rejects.toMatchObject(unknown);
    await expect(engine.retry('ghost')).rejects.toMatchObject(unknown);
    await expect(engine.journal('ghost')).rejects.toMatchObject(unknown);
  });

  it('a signal to a finished run is refused and queues nothing; retry of a finished run is refused', async () => {
    await engine.signal('victim', 'decision', { ok: true, by: 'v' });
    await engine.drain();
    await expect(engine.signal('victim', 'decision', 2)).rejects.toMatchObject({ code: 'RUN_ENDED', message: "cannot signal run 'victim': it has finished" });
    expect(store.pendingSignals('victim')).toEqual([]);
    await expect(engine.retry('victim')).rejects.toMatchObject({ code: 'NOT_RETRYABLE' });
    expect((await engine.get('bystander')).status).toBe('waiting');
  });

  it('bad signal names and unsaveable values are refused before anything is stored', async () => {
    await expect(engine.signal('victim', '', 1)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(engine.signal('victim', 'decision', () => 1)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('cannot be saved') });
    expect(store.pendingSignals('victim')).toEqual([]);
  });

  it('a run whose workflow module is not loaded is skipped, not failed', async () => {
    sql(`UPDATE runs SET fn = 'elsewhere.ts#gone' WHERE id = 'victim'`);
    await signalBoth();
    const report = await engine.drain();
    expect(report.skipped).toEqual([{ id: 'victim', reason: "workflow function 'elsewhere.ts#gone' is not loaded in this process (import its module before drain())" }]);
    expect((await engine.get('victim')).status).toBe('waiting');
    expect((await engine.get('bystander')).status).toBe('finished');
  });

  it('step() outside a workflow is a clear error', async () => {
    expect(() => napper(1)).toThrow(/step\(\) can only be called inside a workflow/);
  });
});
