// Figures for the embedded store (docs/workflows.md "Figures"), run with the built package:
//   node --import stackless/register tests/workflow/programs/bench.ts checkpoints <db>
//   node --import stackless/register tests/workflow/programs/bench.ts park <db> <n>
//   node --import stackless/register tests/workflow/programs/bench.ts resume <db>
// (park and resume in two processes: the second is "after a restart"). Prints JSON.
import { createEngine, signal, sleep, sqliteStore, step } from 'stackless/workflow';

export function counter(n: number): number {
  'use tasklet';
  let total = 0;
  for (let i = 0; i < n; i++) total += step('add', () => i);
  return total;
}

export function parked(k: number, until: number): number {
  'use tasklet';
  sleep(new Date(until));
  const extra = signal<number>('bonus').length; // 0: touches the restored signal map
  return k + extra;
}

/** CPU time of this process since `c0`, in ms: the machine may be shared, wall time then says little. */
function cpuMs(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return Math.round((c.user + c.system) / 1000);
}

const [mode, db, arg] = process.argv.slice(2);
const engine = createEngine({ store: sqliteStore(db) });

if (mode === 'checkpoints') {
  const runs = 100;
  const steps = 50;
  for (let r = 0; r < runs; r++) await engine.start(counter, [steps], { id: `c${r}` });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const report = await engine.drain();
  const ms = performance.now() - t0;
  const cpu = cpuMs(c0);
  const checkpoints = runs * steps;
  console.log(JSON.stringify({ runs, steps, checkpoints, ms: Math.round(ms), perSecond: Math.round((checkpoints / ms) * 1000), cpuMs: cpu, perCpuSecond: Math.round((checkpoints / cpu) * 1000), finished: report.finished }));
} else if (mode === 'park') {
  const n = Number(arg);
  const t0 = performance.now();
  const until = Date.now() + 15_000; // well after they have all parked
  for (let k = 0; k < n; k++) await engine.start(parked, [k, until], { id: `p${k}` });
  const started = performance.now() - t0;
  const report = await engine.drain();
  console.log(JSON.stringify({ n, startMs: Math.round(started), parkMs: Math.round(performance.now() - t0 - started), parked: report.parked }));
} else if (mode === 'resume') {
  const rows = await engine.store.listRuns({ status: 'waiting' });
  const due = Math.max(0, ...rows.map((r) => r.wakeAt ?? 0));
  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const report = await engine.drain();
  const resumeMs = Math.round(performance.now() - t0);
  console.log(JSON.stringify({ waiting: rows.length, resumeMs, cpuMs: cpuMs(c0), loaded: report.loaded, finished: report.finished }));
}
await engine.close();
