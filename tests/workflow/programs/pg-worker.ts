// Worker processes for tests/workflow/postgres-workers.test.ts and the Postgres figure, run with
// the built package:
//   node --import stackless/register pg-worker.ts start <url> <schema> <runs> <steps>
//   node --import stackless/register pg-worker.ts work <url> <schema> <worker name>
// `start` starts the runs (ids j0..j<runs-1>) and exits. `work` works until SIGTERM, then
// releases its leases and exits 0. With STEP_LOG=<file> every execution of a step's function
// appends "<run id> <step index>" to that file (what ran where, and how often); STEP_MS is
// how long a step's function waits (default 0); LEASE_MS the lease (default 3000). With
// WAIT_GO=1 a worker connects, prints {"ready": name} and starts working on SIGUSR2.
import { appendFileSync } from 'node:fs';
import { createEngine, postgresStore, step } from 'stackless/workflow';

const log = process.env.STEP_LOG ?? null;
const stepMs = Number(process.env.STEP_MS ?? 0);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function job(k: number, steps: number): number {
  'use tasklet';
  let sum = 0;
  for (let i = 0; i < steps; i++) {
    sum += step(`s${i}`, async ({ runId, index }) => {
      if (log !== null) appendFileSync(log, `${runId} ${index}\n`);
      if (stepMs > 0) await pause(stepMs);
      return k + i;
    });
  }
  return sum;
}

const [mode, url, schema, arg, arg2] = process.argv.slice(2);
if (mode === 'start') {
  const engine = createEngine({ store: postgresStore(url, { schema }) });
  const runs = Number(arg);
  const steps = Number(arg2);
  const t0 = performance.now();
  for (let k = 0; k < runs; k += 50) {
    const batch = [];
    for (let j = k; j < Math.min(runs, k + 50); j++) batch.push(engine.start(job, [j, steps], { id: `j${j}` }));
    await Promise.all(batch);
  }
  console.log(JSON.stringify({ started: runs, ms: Math.round(performance.now() - t0) }));
  await engine.close();
} else if (mode === 'work') {
  const engine = createEngine({ store: postgresStore(url, { schema }), worker: arg, leaseMs: Number(process.env.LEASE_MS ?? 3000) });
  const ac = new AbortController();
  process.on('SIGTERM', () => ac.abort());
  if (process.env.WAIT_GO) {
    // for the figure: connect and set up first, say so, and start working on SIGUSR2 (all workers at once)
    await engine.store.nextWakeFor(arg);
    const go = new Promise((resolve) => process.once('SIGUSR2', resolve));
    console.log(JSON.stringify({ ready: arg }));
    await go;
  }
  const c0 = process.cpuUsage();
  await engine.work({ signal: ac.signal, pollMs: 250 });
  await engine.close();
  const c = process.cpuUsage(c0);
  console.log(JSON.stringify({ worker: arg, cpuMs: Math.round((c.user + c.system) / 1000) }));
} else {
  console.error(`usage: pg-worker.ts start <url> <schema> <runs> <steps> | work <url> <schema> <name>`);
  process.exit(2);
}
