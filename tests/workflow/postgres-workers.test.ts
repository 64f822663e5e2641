// Many workers on one Postgres store: 4 real worker processes (the built package through
// `node --import stackless/register`) drain 1,000 workflows; one is kill -9ed midway, the
// others take its runs over when its leases expire. Every run completes exactly once (from
// the journal), and a step's function ran more than once only in a run the killed worker held.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readValue } from '../../workflow/view.js';
import { registerUrl, repoRoot, runNode } from '../plugins/helpers/index.js';
import { startPostgres, type Cluster } from './programs/pg-cluster.mjs';

const program = join(repoRoot, 'tests', 'workflow', 'programs', 'pg-worker.ts');
const RUNS = 1000;
const STEPS = 3;
const schema = 'many';

let cluster: Cluster;
let db: pg.Pool;
const children: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await startPostgres();
  db = new pg.Pool({ connectionString: cluster.url, max: 2 });
}, 60_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.end();
  cluster?.stop();
});

const sql = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) => (await db.query(text, values)).rows as T[];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function worker(name: string): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', registerUrl, program, 'work', cluster.url, schema, name], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', STEP_LOG: join(cluster.dir, `${name}.log`), STEP_MS: '2', LEASE_MS: '3000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exited };
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await pause(50);
  }
}

const finished = async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.runs WHERE status = 'finished'`))[0].n);

describe('4 worker processes, 1,000 workflows, one worker killed', () => {
  it('every run completes exactly once; the killed worker\'s runs are taken over', async () => {
    const started = runNode(['--import', registerUrl, program, 'start', cluster.url, schema, String(RUNS), String(STEPS)]);
    expect(started.stderr).toBe('');
    expect(JSON.parse(started.stdout)).toMatchObject({ started: RUNS });

    const names = ['w0', 'w1', 'w2', 'w3'];
    const ws = names.map(worker);
    await until('a quarter of the runs to finish', async () => (await finished()) >= RUNS / 4, 30_000);
    ws[0].child.kill('SIGKILL');
    expect((await ws[0].exited).signal).toBe('SIGKILL');
    // what the dead worker held: its leases are still in the store until they expire
    const held = (await sql<{ id: string }>(`SELECT id FROM ${schema}.runs WHERE owner = 'w0'`)).map((r) => r.id);
    const doneAtKill = await finished();
    expect(doneAtKill).toBeLessThan(RUNS); // killed midway
    expect(held.length).toBeGreaterThan(0);

    await until('every run to finish', async () => (await finished()) === RUNS, 45_000);
    for (const w of ws.slice(1)) w.child.kill('SIGTERM');
    for (const w of ws.slice(1)) {
      const r = await w.exited;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }

    // the store: every run finished with the right result, no lease left behind
    const rows = await sql<{ id: string; status: string; result: string; owner: string | null; steps: number }>(
      `SELECT id, status, result, owner, steps FROM ${schema}.runs ORDER BY id`);
    expect(rows.length).toBe(RUNS);
    for (const r of rows) {
      const k = Number(r.id.slice(1));
      expect(r.status).toBe('finished');
      expect(r.owner).toBe(null);
      expect(r.steps).toBe(STEPS);
      expect(readValue(r.result, r.id)).toBe(STEPS * k + (STEPS * (STEPS - 1)) / 2);
    }
    // the journal: exactly once each
    const counts = await sql<{ kind: string; n: string }>(`SELECT kind, count(*) AS n FROM ${schema}.journal GROUP BY kind ORDER BY kind`);
    expect(Object.fromEntries(counts.map((c) => [c.kind, Number(c.n)]))).toEqual({ started: RUNS, step: RUNS * STEPS, finished: RUNS });
    const twice = await sql(`SELECT run_id, kind, name, count(*) FROM ${schema}.journal GROUP BY run_id, kind, name HAVING count(*) > 1`);
    expect(twice).toEqual([]);

    // the step functions: each ran at least once; twice only where the killed worker held the run
    const ran = new Map<string, number>();
    for (const name of names) {
      const file = join(cluster.dir, `${name}.log`);
      const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
      expect(lines.length, `${name} did some of the work`).toBeGreaterThan(0);
      for (const l of lines) ran.set(l, (ran.get(l) ?? 0) + 1);
    }
    for (let k = 0; k < RUNS; k++) for (let i = 0; i < STEPS; i++) expect(ran.get(`j${k} ${i}`) ?? 0, `step ${i} of j${k}`).toBeGreaterThanOrEqual(1);
    const heldSet = new Set(held);
    const repeated = [...ran].filter(([, n]) => n > 1).map(([l]) => l.split(' ')[0]);
    for (const id of repeated) expect(heldSet.has(id), `${id} ran a step twice but the killed worker did not hold it`).toBe(true);
    for (const id of held) {
      expect(repeated.filter((r) => r === id).length, `${id}: only the step in flight at the kill runs again`).toBeLessThanOrEqual(1);
    }
    // the killed worker's runs were claimed again (a new lease number) after its leases expired
    const leases = await sql<{ lease: string }>(`SELECT lease FROM ${schema}.runs WHERE id = ANY($1::text[])`, [held]);
    expect(leases.length).toBe(held.length);
    for (const l of leases) expect(Number(l.lease)).toBeGreaterThanOrEqual(2);
    for (const name of names.slice(1)) expect(JSON.parse((await ws[names.indexOf(name)].exited).stdout)).toMatchObject({ worker: name });
  }, 90_000);
});
