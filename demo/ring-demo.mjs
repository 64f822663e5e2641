// stackless demo, part 2: 100,000 tasklets pass a token around a ring of channels,
// next to the same ring written with async/await over promise channels.
// demo/ring.ts is compiled with the built transformer (dist/) at start.
//
//   node demo/run.mjs ring [--n=100000] [--laps=10] [--runs=3]   (npm run demo -- ring)
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Workspace, loadRuntime, loadTransformer, missingDist, root } from '../bench/lib/compile.mjs';
import { finishedAsync, passTokenAsync, setupRingAsync } from './ring-async.mjs';

const demoDir = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : def;
};
const N = arg('n', 100_000);
const LAPS = arg('laps', 10);
const RUNS = arg('runs', 3);
const now = () => performance.now();
const M = (x) => `${(x / 1e6).toFixed(2)} M`;
const int = (x) => Math.round(x).toLocaleString('en-US');

const missing = missingDist();
if (missing.length) {
  console.error(`demo: dist/ is not built (missing ${missing.map((p) => path.relative(root, p)).join(', ')}); run \`npm run build\` first.`);
  process.exit(2);
}

const transform = await loadTransformer();
const runtime = await loadRuntime();
const ws = await Workspace.create('stackless-demo-');
let ring;
try {
  ring = await import((await ws.tasklet(transform, path.join(demoDir, 'ring.ts'))).url);
} finally {
  await ws.dispose();
}

function check(token, n, laps, what) {
  if (token !== n * laps) throw new Error(`${what}: the token came back as ${token}, expected ${n * laps}`);
}

function tasklets(n, laps) {
  const t0 = now();
  const r = ring.setupRing(n, laps);
  const t1 = now();
  const token = ring.passToken(r);
  const t2 = now();
  check(token, n, laps, 'tasklet ring');
  return { setupMs: t1 - t0, passMs: t2 - t1 };
}

async function asyncRing(n, laps) {
  const t0 = now();
  const r = setupRingAsync(n, laps);
  const t1 = now();
  const token = await passTokenAsync(r);
  const t2 = now();
  check(token, n, laps, 'async ring');
  await finishedAsync(r);
  return { setupMs: t1 - t0, passMs: t2 - t1 };
}

// warm up both on a small ring, then interleave full-size runs and keep the best
for (let i = 0; i < 3; i++) {
  tasklets(10_000, 2);
  await asyncRing(10_000, 2);
}
const best = { t: { setupMs: Infinity, passMs: Infinity }, a: { setupMs: Infinity, passMs: Infinity } };
const keep = (b, r) => {
  b.setupMs = Math.min(b.setupMs, r.setupMs);
  b.passMs = Math.min(b.passMs, r.passMs);
};
for (let i = 0; i < RUNS; i++) {
  if (i % 2) {
    keep(best.a, await asyncRing(N, LAPS));
    keep(best.t, tasklets(N, LAPS));
  } else {
    keep(best.t, tasklets(N, LAPS));
    keep(best.a, await asyncRing(N, LAPS));
  }
}

// count the scheduler's switches in one more (untimed) run
let switches = null;
if (typeof runtime.setScheduleCallback === 'function') {
  let count = 0;
  const prev = runtime.setScheduleCallback(() => {
    count++;
  });
  try {
    const r = ring.setupRing(N, LAPS);
    count = 0; // only the token's journey
    check(ring.passToken(r), N, LAPS, 'tasklet ring (counted)');
    switches = count;
  } finally {
    runtime.setScheduleCallback(prev ?? null);
  }
}

const hops = N * LAPS;
const t = best.t;
const a = best.a;
console.log(`stackless demo: ${int(N)} tasklets pass a token around a ring of channels, ${LAPS} laps (${int(hops)} hand-overs), best of ${RUNS}`);
console.log(`  tasklets     start ${int(N)}: ${t.setupMs.toFixed(0)} ms = ${M(N / (t.setupMs / 1000))} tasklets/s;  token: ${t.passMs.toFixed(0)} ms = ${M(hops / (t.passMs / 1000))} hand-overs/s` +
  (switches == null ? '' : `, ${M(switches / (t.passMs / 1000))} switches/s (${(switches / hops).toFixed(2)} per hand-over)`));
console.log(`  async/await  start ${int(N)}: ${a.setupMs.toFixed(0)} ms = ${M(N / (a.setupMs / 1000))} async fns/s;  token: ${a.passMs.toFixed(0)} ms = ${M(hops / (a.passMs / 1000))} hand-overs/s`);
console.log(`  tasklets vs async/await: ${(a.passMs / t.passMs).toFixed(2)}x the hand-overs/s, ${(a.setupMs / t.setupMs).toFixed(2)}x the start rate`);
