// Snapshot figures (issue 4; issue 6 asks for them at 1,000,000 tasklets as well).
//
//   snapshot100k  100,000 tasklets blocked on one channel three frames deep (outer -> middle ->
//                 leaf, each frame with its own locals): snapshot(ch) + JSON.stringify,
//                 JSON.parse + restore, and bytes of JSON per tasklet
//   snapshot1m    the same with 1,000,000 tasklets
//
// Each count runs in its own child process (node --max-old-space-size=12288): the program is
// compiled with the built transformer (dist/), the tasklets are spawned and blocked, then the
// snapshot and the restore are timed (best of 5 rounds at 100k; one round at 1M, which takes about a minute here). Every round
// checks its result: the restored channel has all the tasklets waiting, and three of them,
// fed, finish with the value an uninterrupted run gives. The baseline beside each time is
// plain JSON work on the same data (JSON.stringify of the snapshot object, JSON.parse of its
// text), so the ratio says what snapshot() and restore() add on top of the JSON itself.
//
// Used by bench/run.mjs (FIGURES snapshot100k, snapshot1m), or alone: node bench/snapshot.mjs
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);
const baselinesOnly = process.argv.includes('--baselines-only');

const PROGRAM = `
import { Channel, spawn, run } from 'stackless';

function leaf(ch: Channel<number>, depth: number): number {
  'use tasklet';
  const v = ch.receive();
  return v + depth;
}
function middle(ch: Channel<number>, k: number): number {
  'use tasklet';
  const r = leaf(ch, 2);
  return r * k;
}
function outer(ch: Channel<number>, id: number): number {
  'use tasklet';
  const r = middle(ch, id % 7);
  return r + id;
}

export function setup(count: number) {
  const ch = new Channel<number>();
  const ts = [];
  for (let i = 0; i < count; i++) ts.push(spawn(outer, ch, i));
  run();
  if (ch.balance !== -count || ts[0].recursionDepth !== 3) throw new Error('setup: the tasklets are not blocked three frames deep');
  return ch;
}
`;

const goal = (text, target) => ({ on: 'value', op: '<=', target, stretch: null, text });
const rowsFor = (n) => [
  [`snapshot + JSON.stringify, ${n} tasklets 3 frames deep`, 'ms', goal('≤ 1000 ms', 1000)],
  [`JSON.parse + restore, ${n} tasklets 3 frames deep`, 'ms', goal('≤ 1000 ms', 1000)],
  [`snapshot JSON per tasklet, ${n} tasklets`, 'B/tasklet', goal('≤ 300 B', 300)],
];

export const META = {
  snapshot100k: rowsFor('100,000'),
  snapshot1m: rowsFor('1,000,000'),
};

function row([name, unit, g], value, baseline, baselineName, extra = {}) {
  const ok = value != null && Number.isFinite(value);
  return {
    name,
    value,
    unit,
    baseline,
    ratio: ok && baseline ? value / baseline : null,
    goal: g.text,
    pass: baselinesOnly ? null : ok ? value <= g.target : false,
    stretch: null,
    baselineName,
    ...extra,
  };
}

function errorRow([name, unit, g], error) {
  process.stderr.write(`  ERROR in ${name}:\n${String(error?.stack ?? error).replace(/^/gm, '    ')}\n`);
  return { name, value: null, unit, baseline: null, ratio: null, goal: g.text, pass: baselinesOnly ? null : false, stretch: null, error: String(error?.message ?? error).split('\n')[0] };
}

async function figure(key, count, rounds) {
  const meta = META[key];
  if (baselinesOnly) return meta.map((m) => row(m, null, null, null));
  try {
    const { stdout } = await run(process.execPath, ['--expose-gc', '--max-old-space-size=12288', self, `--child=${count}`, `--rounds=${rounds}`], {
      maxBuffer: 1 << 20,
      timeout: 110_000,
      killSignal: 'SIGKILL',
    });
    const r = JSON.parse(stdout.trim().split('\n').pop());
    const extra = { tasklets: count, rounds, medianSaveMs: r.medianSave, medianLoadMs: r.medianLoad, heapMB: r.heapMB };
    return [
      row(meta[0], r.save, r.stringifyOnly, 'JSON.stringify of the same snapshot object', extra),
      row(meta[1], r.load, r.parseOnly, 'JSON.parse of the same text', extra),
      row(meta[2], r.bytesPerTasklet, null, null, { totalMB: r.totalMB }),
    ];
  } catch (e) {
    const why = e.killed || e.signal === 'SIGKILL' ? new Error(`timed out (killed): ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`) : e.stderr ? new Error(`child failed:\n${e.stderr}`) : e;
    return meta.map((m) => errorRow(m, why));
  }
}

export const FIGURES = {
  snapshot100k: () => figure('snapshot100k', 100_000, 5),
  snapshot1m: () => figure('snapshot1m', 1_000_000, 1),
};

// ---------------------------------------------------------------------------
// child: compile, block `count` tasklets, time the rounds, print one JSON line

async function child(count, rounds) {
  const { loadTransformer, rewriteStacklessImports, runtimeInternalURL, runtimeIndexURL, root } = await import('./lib/compile.mjs');
  const transform = await loadTransformer();
  const dir = await mkdtemp(path.join(tmpdir(), 'stackless-snapbench-'));
  try {
    const id = path.join(root, 'bench', 'generated', 'snapshot.ts');
    const out = transform(PROGRAM, id, { stripTypes: true, runtimeModule: runtimeInternalURL, root, sourceMap: false });
    const errors = (out.diagnostics ?? []).filter((d) => d.severity === 'error');
    if (errors.length || !out.changed) throw new Error(`transform failed: ${errors.map((d) => d.message).join('; ')}`);
    const file = path.join(dir, 'snapshot.mjs');
    await writeFile(file, rewriteStacklessImports(out.code));
    const program = await import(pathToFileURL(file).href);
    const { snapshot, restore, run: runAll } = await import(runtimeIndexURL);

    const ch = program.setup(count);
    const saves = [];
    const loads = [];
    const stringifyOnly = [];
    const parseOnly = [];
    let text = '';
    for (let i = 0; i < rounds; i++) {
      text = '';
      globalThis.gc?.();
      let t0 = performance.now();
      const data = snapshot(ch);
      text = JSON.stringify(data);
      saves.push(performance.now() - t0);
      t0 = performance.now();
      JSON.stringify(data);
      stringifyOnly.push(performance.now() - t0);
      t0 = performance.now();
      JSON.parse(text);
      parseOnly.push(performance.now() - t0);
      globalThis.gc?.();
      t0 = performance.now();
      const r = restore(JSON.parse(text));
      loads.push(performance.now() - t0);
      // the copies work: every tasklet waits on the restored channel; three fed finish as they would have
      const ch2 = r.channels[0];
      if (r.tasklets.length !== count || ch2.balance !== -count) throw new Error(`restore lost tasklets (${r.tasklets.length}, balance ${ch2.balance})`);
      const first = r.tasklets.slice(0, 3);
      for (let k = 0; k < 3; k++) ch2.send(10);
      runAll();
      first.forEach((t, k) => {
        const expect = (10 + 2) * (k % 7) + k;
        if (t.alive || t.result !== expect) throw new Error(`restored tasklet ${k} finished with ${t.result}, expected ${expect}`);
      });
    }
    const best = (a) => Math.min(...a);
    const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const bytes = Buffer.byteLength(text);
    process.stdout.write(
      `${JSON.stringify({
        save: best(saves),
        load: best(loads),
        medianSave: median(saves),
        medianLoad: median(loads),
        stringifyOnly: best(stringifyOnly),
        parseOnly: best(parseOnly),
        bytesPerTasklet: bytes / count,
        totalMB: bytes / 1e6,
        heapMB: Math.round(process.memoryUsage().heapUsed / 1e6),
      })}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg) {
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
  await child(Number(childArg.slice(8)), rounds);
  process.exit(0);
} else if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  // standalone: node bench/snapshot.mjs
  for (const f of Object.values(FIGURES)) {
    for (const r of await f()) {
      const fmt = (x) => (x == null ? '—' : x.toFixed(1));
      console.log(`${r.name}: ${fmt(r.value)} ${r.unit}${r.baseline != null ? ` (baseline ${fmt(r.baseline)}: ${r.baselineName})` : ''} (${r.goal}: ${r.error ? `ERROR ${r.error}` : r.pass == null ? '—' : r.pass ? 'pass' : 'MISSED'})`);
    }
  }
}
