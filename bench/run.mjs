// stackless benchmarks. Compiles bench/cases/*.ts with the built transformer
// (dist/), runs every figure next to its baseline in this process (the memory
// figure in child processes with --expose-gc), prints one table and writes
// bench/results.json. See bench/README.md.
//
//   node bench/run.mjs                  all figures (needs `npm run build` first)
//   node bench/run.mjs --baselines-only  only the baselines (no dist/ needed)
//   node bench/run.mjs --only=fib,sieve  a subset (names: see FIGURES below)
//   node bench/run.mjs --no-ticks       compile with { ticks: false } (extra rows, marked)
import { execFile } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import {
  CompileError,
  Workspace,
  loadRuntime,
  loadTransformer,
  missingDist,
  root,
} from './lib/compile.mjs';
import { assertEqual, calibrate, interleave, now, timeSync } from './lib/measure.mjs';
import { pingpongAsync, pingpongGen } from './baselines/pingpong.mjs';
import { loadRegeneratorPingpong } from './baselines/regenerator.mjs';
import { pingpongCsp } from './baselines/csp-pingpong.mjs';
import { spawnAndFinishGen } from './baselines/spawn.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const casesDir = path.join(benchDir, 'cases');
const run = promisify(execFile);

const argv = process.argv.slice(2);
const baselinesOnly = argv.includes('--baselines-only');
const noTicks = argv.includes('--no-ticks');
const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

// ---------------------------------------------------------------------------
// goals

/** A goal on `ratio` or `value`: op '<=' or '>=', target, optional stretch target. */
function goal(on, op, target, stretch, text) {
  return { on, op, target, stretch, text };
}
function meets(op, x, target) {
  return op === '<=' ? x <= target : x >= target;
}

function row({ name, value, unit, baseline = null, baselineName = null, ratio = null, goal: g = null, extra = {} }) {
  const measured = g ? (g.on === 'ratio' ? ratio : value) : null;
  const ok = g && measured != null && Number.isFinite(measured);
  if (baselinesOnly) g = g && { ...g, op: null };
  return {
    name,
    value,
    unit,
    baseline,
    ratio,
    goal: g ? g.text : null,
    pass: g?.op ? (ok ? meets(g.op, measured, g.target) : false) : null,
    stretch: g?.op && g.stretch != null ? (ok ? meets(g.op, measured, g.stretch) : false) : null,
    baselineName,
    ...extra,
  };
}

function errorRow(name, unit, g, err) {
  const message = err instanceof CompileError ? err.message : err?.stack ?? String(err);
  log(`  ERROR in ${name}:\n${message.replace(/^/gm, '    ')}`);
  return { ...row({ name, value: null, unit, goal: g }), pass: g ? false : null, error: message.split('\n')[0] };
}

// ---------------------------------------------------------------------------
// context: compiled modules (lazily, so a broken case only breaks its figures)

let transform = null;
let runtime = null;
let ws = null;
const compiled = new Map();

async function taskletModule(file, options = {}) {
  const key = `${file}|${JSON.stringify(options)}`;
  if (!compiled.has(key)) {
    compiled.set(
      key,
      (async () => {
        const out = await ws.tasklet(transform, path.join(casesDir, file), options);
        for (const w of out.warnings) log(`  warning ${w.code} ${file}: ${w.message}`);
        return { mod: await import(out.url), url: out.url };
      })(),
    );
  }
  return compiled.get(key);
}
async function plainModule(file) {
  const key = `${file}|plain`;
  if (!compiled.has(key)) compiled.set(key, ws.plain(path.join(casesDir, file)).then(async (o) => ({ mod: await import(o.url), url: o.url })));
  return compiled.get(key);
}
const tOpts = () => (noTicks ? { ticks: false } : {});

// ---------------------------------------------------------------------------
// figures

/** A kernel timed as the tasklet function and as the same function untransformed. */
async function kernelFigure({ name, file, exportName, call, expected, targetMs, g }) {
  const plain = (await plainModule(file)).mod[exportName];
  assertEqual(call(plain), expected, `${name} (untransformed)`);
  if (baselinesOnly) {
    const reps = calibrate(() => call(plain), targetMs);
    const r = await interleave({ plain: () => timeSync(() => call(plain), reps) }, { warmup: 3, rounds: 9 });
    return [row({ name, value: null, unit: 'ms', baseline: r.plain.best / reps, baselineName: 'untransformed', goal: g })];
  }
  const tasklet = (await taskletModule(file, tOpts())).mod[exportName];
  assertEqual(call(tasklet), expected, `${name} (tasklet function)`);
  const reps = calibrate(() => call(plain), targetMs);
  const check = (fn) => () => {
    let r;
    const ms = timeSync(() => {
      r = call(fn);
    }, reps);
    assertEqual(r, expected, name);
    return ms;
  };
  const r = await interleave({ tasklet: check(tasklet), plain: check(plain) }, { warmup: 4, rounds: 15 });
  const value = r.tasklet.best / reps;
  const baseline = r.plain.best / reps;
  return [
    row({
      name,
      value,
      unit: 'ms',
      baseline,
      baselineName: 'untransformed',
      ratio: value / baseline,
      goal: g,
      extra: { median: r.tasklet.median / reps, baselineMedian: r.plain.median / reps, reps },
    }),
  ];
}

// Each figure's rows: [name, unit, goal]; used for the table and for error rows
// when a figure's child process dies or times out.
const META = {
  fib: [['fib(30), tasklet fn vs untransformed', 'ms', goal('ratio', '<=', 1.5, 1.2, 'ratio ≤ 1.5 (stretch 1.2)')]],
  sieve: [['sieve(2e6) loop kernel, never blocks', 'ms', goal('ratio', '<=', 1.2, null, 'ratio ≤ 1.2')]],
  objects: [['n-body objects kernel (methods), never blocks', 'ms', goal('ratio', '<=', 1.2, null, 'ratio ≤ 1.2')]],
  pingpong: [
    ['channel ping-pong vs async/await + promise channel', 'msg/s', goal('ratio', '>=', 2, 3, 'ratio ≥ 2 (stretch 3)')],
    ['channel ping-pong vs native-generator scheduler', 'msg/s', goal('ratio', '>=', 1, null, 'ratio ≥ 1')],
    ['channel ping-pong vs regenerator-runtime (Babel generators)', 'msg/s', goal('ratio', '>=', 1, null, 'ratio ≥ 1')],
    ['channel ping-pong vs js-csp', 'msg/s', goal('ratio', '>=', 1, null, 'ratio ≥ 1')],
  ],
  spawn: [['spawn + finish tasklets', 'tasklets/s', goal('value', '>=', 2_000_000, null, '≥ 2,000,000 /s')]],
  memory: [['heap per blocked tasklet (1M blocked in receive)', 'B/tasklet', goal('value', '<=', 200, 100, '≤ 200 B (stretch 100)')]],
  recursion: [['recursion 10,000 deep vs native', 'ms', goal('ratio', '<=', 1.5, null, 'ratio ≤ 1.5')]],
  recursionInTasklet: [['recursion 10,000 deep in a tasklet (spawn+run) vs native', 'ms', goal('ratio', '<=', 1.5, null, 'ratio ≤ 1.5')]],
  ticks: [['preemption ticks on a tight loop (ticks on vs ticks: false)', 'ms', goal('ratio', '<=', 1.1, null, 'ratio ≤ 1.1')]],
  deep: [
    ['recursion 1,000,000 deep in a tasklet', 'ms', goal('value', '<=', 1000, null, '≤ 1000 ms')],
    ['recursion 1,000,000 deep from ordinary code', 'ms', goal('value', '<=', 1000, null, '≤ 1000 ms')],
  ],
};

const FIGURES = {
  // the same tasklet function compiled with and without tick counting, side by side
  async ticks() {
    const [[name, , g]] = META.ticks;
    try {
      if (baselinesOnly) return [row({ name, value: null, unit: 'ms', goal: g })];
      const on = (await taskletModule('spin.ts', {})).mod.spin;
      const off = (await taskletModule('spin.ts', { ticks: false })).mod.spin;
      const n = 2_000_000;
      const expected = off(n);
      assertEqual(on(n), expected, `${name} (ticks on)`);
      const reps = calibrate(() => off(n), 40);
      const r = await interleave({ on: () => timeSync(() => on(n), reps), off: () => timeSync(() => off(n), reps) }, { warmup: 4, rounds: 15 });
      const value = r.on.best / reps;
      const baseline = r.off.best / reps;
      return [row({ name, value, unit: 'ms', baseline, baselineName: 'ticks: false', ratio: value / baseline, goal: g, extra: { reps } })];
    } catch (e) {
      return [errorRow(name, 'ms', g, e)];
    }
  },

  async fib() {
    const [[name, , g]] = META.fib;
    try {
      return await kernelFigure({ name, file: 'fib.ts', exportName: 'fib', call: (f) => f(30), expected: 832040, targetMs: 40, g });
    } catch (e) {
      return [errorRow(name, 'ms', g, e)];
    }
  },

  async sieve() {
    const [[name, , g]] = META.sieve;
    try {
      return await kernelFigure({ name, file: 'sieve.ts', exportName: 'sieve', call: (f) => f(2_000_000), expected: 148933, targetMs: 40, g });
    } catch (e) {
      return [errorRow(name, 'ms', g, e)];
    }
  },

  async objects() {
    const [[name, , g]] = META.objects;
    try {
      const plain = (await plainModule('objects.ts')).mod.simulate;
      const expected = plain(16, 200);
      return await kernelFigure({ name, file: 'objects.ts', exportName: 'simulate', call: (f) => f(16, 200), expected, targetMs: 40, g });
    } catch (e) {
      return [errorRow(name, 'ms', g, e)];
    }
  },

  async pingpong() {
    const [[nameA, , gAsync], [nameG, , gGen], [nameR, , gRegen], [nameC, , gCsp]] = META.pingpong;
    const n = 200_000; // round trips per sample: 2n messages
    const nCsp = 20_000; // js-csp runs ~0.3 M msg/s: fewer round trips keep its samples ~0.15 s
    const sums = (k) => (k * (k + 1)) / 2;
    const msgs = { tasklet: 2 * n, async: 2 * n, gen: 2 * n, regen: 2 * n, csp: 2 * nCsp };
    // Samples are timed in CPU time of this process (user + system): on a machine shared
    // with other work, wall time mostly measures when the OS let the process run, and a
    // best-of-13 wall-time ratio swung from 1.0x to 2.3x between identical runs at load 10.
    // Wall times are kept too (results.json: wallRate, baselineWallRate).
    const cpuNow = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const wall = { tasklet: [], async: [], gen: [], regen: [], csp: [] };
    const timed = (name, fn, k = n, key) => () => {
      const c0 = cpuNow();
      const t0 = now();
      const r = fn(k);
      const ms = now() - t0;
      const cpu = cpuNow() - c0;
      assertEqual(r, sums(k), `ping-pong (${name})`);
      wall[key].push(ms);
      return cpu;
    };
    const timedAsync = (name, fn, k, key) => async () => {
      const c0 = cpuNow();
      const t0 = now();
      const r = await fn(k);
      const ms = now() - t0;
      const cpu = cpuNow() - c0;
      assertEqual(r, sums(k), `ping-pong (${name})`);
      wall[key].push(ms);
      return cpu;
    };
    const variants = {
      async: timedAsync('async', pingpongAsync, n, 'async'),
      gen: timed('generators', pingpongGen, n, 'gen'),
      csp: timedAsync('js-csp', pingpongCsp, nCsp, 'csp'),
    };
    // Peers that need a compile step: a failure costs only their own row.
    const peerError = {};
    try {
      const pingpongRegen = await loadRegeneratorPingpong(ws.dir);
      assertEqual(pingpongRegen(1000), sums(1000), 'ping-pong (regenerator)');
      variants.regen = timed('regenerator', pingpongRegen, n, 'regen');
    } catch (e) {
      peerError.regen = e;
    }
    try {
      if (!baselinesOnly) {
        const { pingpong } = (await taskletModule('pingpong.ts', tOpts())).mod;
        assertEqual(pingpong(1000), sums(1000), 'ping-pong (tasklets)');
        variants.tasklet = timed('tasklets', pingpong, n, 'tasklet');
      }
    } catch (e) {
      return META.pingpong.map(([name, unit, g]) => errorRow(name, unit, g, e));
    }
    const r = await interleave(variants, { warmup: 3, rounds: 13 });
    const rate = (key, s) => msgs[key] / (s / 1000);
    const value = r.tasklet ? rate('tasklet', r.tasklet.best) : null;
    const mk = (name, key, baselineName, g) => {
      if (peerError[key]) return errorRow(name, 'msg/s', g, peerError[key]);
      return row({
        name,
        value,
        unit: 'msg/s',
        baseline: rate(key, r[key].best),
        baselineName,
        ratio: value == null ? null : value / rate(key, r[key].best),
        goal: g,
        extra: {
          median: r.tasklet ? rate('tasklet', r.tasklet.median) : null,
          baselineMedian: rate(key, r[key].median),
          messages: msgs.tasklet,
          baselineMessages: msgs[key],
          timing: 'cpu',
          wallRate: r.tasklet ? rate('tasklet', Math.min(...wall.tasklet)) : null,
          baselineWallRate: rate(key, Math.min(...wall[key])),
        },
      });
    };
    return [
      mk(nameA, 'async', 'async/await + promise channel', gAsync),
      mk(nameG, 'gen', 'native generators + scheduler', gGen),
      mk(nameR, 'regen', 'regenerator-runtime generators (Babel output) + scheduler', gRegen),
      mk(nameC, 'csp', 'js-csp go blocks + channels', gCsp),
    ];
  },

  async spawn() {
    const [[name, , g]] = META.spawn;
    const count = 200_000;
    const expected = (count * (count - 1)) / 2;
    const variants = {
      gen: () => {
        const t0 = now();
        const r = spawnAndFinishGen(count);
        const ms = now() - t0;
        assertEqual(r, expected, 'spawn (generators)');
        return ms;
      },
    };
    try {
      if (!baselinesOnly) {
        const { spawnAndFinish } = (await taskletModule('spawn.ts', tOpts())).mod;
        assertEqual(spawnAndFinish(1000), (1000 * 999) / 2, 'spawn (tasklets)');
        variants.tasklet = () => {
          const t0 = now();
          const r = spawnAndFinish(count);
          const ms = now() - t0;
          assertEqual(r, expected, 'spawn (tasklets)');
          return ms;
        };
      }
    } catch (e) {
      return [errorRow(name, 'tasklets/s', g, e)];
    }
    const r = await interleave(variants, { warmup: 3, rounds: 13 });
    const rate = (s) => count / (s.best / 1000);
    const value = r.tasklet ? rate(r.tasklet) : null;
    return [
      row({
        name,
        value,
        unit: 'tasklets/s',
        baseline: rate(r.gen),
        baselineName: 'native generator tasks on the tiny scheduler',
        ratio: value == null ? null : value / rate(r.gen),
        goal: g,
        extra: { median: r.tasklet ? count / (r.tasklet.median / 1000) : null, baselineMedian: count / (r.gen.median / 1000) },
      }),
    ];
  },

  async memory() {
    const [[name, , g]] = META.memory;
    const count = 1_000_000;
    const child = async (variant, url) => {
      const args = ['--expose-gc', '--max-old-space-size=8192', path.join(benchDir, 'memory.mjs'), variant, String(count)];
      if (url) args.push(url);
      const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20, timeout: 120_000 });
      return JSON.parse(stdout.trim().split('\n').pop());
    };
    let url = null;
    try {
      if (!baselinesOnly) url = (await taskletModule('blocked.ts', tOpts())).url;
    } catch (e) {
      return [errorRow(name, 'B/tasklet', g, e)];
    }
    const samples = { tasklet: [], async: [] };
    try {
      for (let i = 0; i < 2; i++) {
        if (url) samples.tasklet.push(await child('tasklet', url));
        samples.async.push(await child('async'));
      }
    } catch (e) {
      return [errorRow(name, 'B/tasklet', g, e.stderr ? new Error(`child failed:\n${e.stderr}`) : e)];
    }
    const best = (a) => (a.length ? Math.min(...a.map((s) => s.perItem)) : null);
    const value = best(samples.tasklet);
    const baseline = best(samples.async);
    return [
      row({
        name,
        value,
        unit: 'B/tasklet',
        baseline,
        baselineName: 'async fn blocked on a pending promise (resolver kept)',
        ratio: value == null ? null : value / baseline,
        goal: g,
        extra: {
          createMs: samples.tasklet.length ? Math.min(...samples.tasklet.map((s) => s.ms)) : null,
          baselineCreateMs: Math.min(...samples.async.map((s) => s.ms)),
        },
      }),
    ];
  },

  // called from ordinary code, like the native one
  async recursion() {
    const [[name, , g]] = META.recursion;
    try {
      return await kernelFigure({ name, file: 'recursion.ts', exportName: 'depth', call: (f) => f(10_000), expected: 10_000, targetMs: 30, g });
    } catch (e) {
      return [errorRow(name, 'ms', g, e)];
    }
  },

  async recursionInTasklet() {
    const [[nameIn, , g]] = META.recursionInTasklet;
    const n = 10_000;
    const rows = [];
    let plain;
    try {
      plain = (await plainModule('recursion.ts')).mod.depth;
      assertEqual(plain(n), n, 'depth(10000) untransformed');
    } catch (e) {
      return [errorRow(nameIn, 'ms', g, e)];
    }
    if (baselinesOnly) return rows;
    // inside a tasklet: spawn(depth, n) + run() per recursion (the spawn/run cost is included)
    try {
      const { depth } = (await taskletModule('recursion.ts', tOpts())).mod;
      const { spawn, run: runScheduler } = runtime;
      const inTasklet = () => {
        const t = spawn(depth, n);
        runScheduler();
        return t.result;
      };
      assertEqual(inTasklet(), n, 'depth(10000) in a tasklet (Tasklet.result)');
      const reps = calibrate(() => plain(n), 30);
      const sample = (fn) => () => {
        let r;
        const ms = timeSync(() => {
          r = fn();
        }, reps);
        assertEqual(r, n, nameIn);
        return ms;
      };
      const r = await interleave({ tasklet: sample(inTasklet), plain: sample(() => plain(n)) }, { warmup: 4, rounds: 15 });
      const value = r.tasklet.best / reps;
      const baseline = r.plain.best / reps;
      rows.push(
        row({
          name: nameIn,
          value,
          unit: 'ms',
          baseline,
          baselineName: 'untransformed, called directly',
          ratio: value / baseline,
          goal: g,
          extra: { median: r.tasklet.median / reps, baselineMedian: r.plain.median / reps, reps },
        }),
      );
    } catch (e) {
      rows.push(errorRow(nameIn, 'ms', g, e));
    }
    return rows;
  },

  async deep() {
    const [[name, , g], [nameOrd]] = META.deep;
    const n = 1_000_000;
    // native: how deep plain recursion gets here (for context in the baseline column)
    let nativeMax = null;
    try {
      const plain = (await plainModule('recursion.ts')).mod.depth;
      let lo = 1000;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        let ok = true;
        try {
          plain(mid);
        } catch {
          ok = false;
        }
        if (ok) lo = mid;
        else hi = mid - 1;
      }
      nativeMax = lo;
    } catch (e) {
      log(`  native depth probe failed: ${e}`);
    }
    if (baselinesOnly) return [row({ name, value: null, unit: 'ms', baseline: nativeMax, baselineName: 'deepest native recursion (frames)', goal: g })];
    const rows = [];
    try {
      const { depth } = (await taskletModule('recursion.ts', tOpts())).mod;
      const { spawn, run: runScheduler } = runtime;
      const times = [];
      for (let i = 0; i < 5; i++) {
        const t0 = now();
        const t = spawn(depth, n);
        runScheduler();
        const ms = now() - t0;
        assertEqual(t.result, n, 'depth(1e6) in a tasklet (Tasklet.result)');
        times.push(ms);
      }
      times.sort((a, b) => a - b);
      rows.push(
        row({
          name,
          value: times[0],
          unit: 'ms',
          baseline: nativeMax,
          baselineName: 'deepest native recursion (frames)',
          goal: g,
          extra: { median: times[times.length >> 1] },
        }),
      );
    } catch (e) {
      rows.push(errorRow(name, 'ms', g, e));
    }
    try {
      const { depth } = (await taskletModule('recursion.ts', tOpts())).mod;
      const times = [];
      for (let i = 0; i < 5; i++) {
        const t0 = now();
        const r = depth(n);
        const ms = now() - t0;
        assertEqual(r, n, 'depth(1e6) called from ordinary code');
        times.push(ms);
      }
      times.sort((a, b) => a - b);
      rows.push(
        row({ name: nameOrd, value: times[0], unit: 'ms', baseline: nativeMax, baselineName: 'deepest native recursion (frames)', goal: g, extra: { median: times[times.length >> 1] } }),
      );
    } catch (e) {
      rows.push(errorRow(nameOrd, 'ms', g, e));
    }
    return rows;
  },
};

// Build-integration figures (issue 5), kept in their own file: bench/build.mjs
import { BUILD_FIGURES, BUILD_META } from './build.mjs';
Object.assign(META, BUILD_META);
Object.assign(FIGURES, BUILD_FIGURES);

// Snapshot figures (issue 4) and workflow figures (issue 7) live in their own files, each
// exporting META and FIGURES in the shape of BUILD_META / BUILD_FIGURES (see bench/build.mjs).
for (const extra of ['snapshot.mjs', 'workflow.mjs']) {
  if (!existsSync(path.join(benchDir, extra))) continue;
  const m = await import(`./${extra}`);
  Object.assign(META, m.META);
  Object.assign(FIGURES, m.FIGURES);
}

// ---------------------------------------------------------------------------
// table

function fmt(x, unit) {
  if (x == null) return '—';
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x)) return String(x);
  if (unit && /\/s$/.test(unit)) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function passText(r) {
  if (r.error) return 'ERROR';
  if (r.pass == null) return '—';
  if (!r.pass) return 'MISSED';
  return r.stretch ? 'pass (stretch)' : 'pass';
}

function table(rows) {
  const head = ['name', 'value', 'unit', 'baseline', 'ratio', 'goal', 'pass'];
  const body = rows.map((r) => [
    r.name,
    r.error ? 'error' : fmt(r.value, r.unit),
    r.unit,
    fmt(r.baseline, r.baselineName?.includes('frames') ? '' : r.unit),
    r.ratio == null ? '—' : `${r.ratio.toFixed(2)}x`,
    r.goal ?? '—',
    passText(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const right = new Set([1, 3, 4]);
  const line = (cells) => cells.map((c, i) => (right.has(i) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------
// main: each figure runs in its own child process (same flags) so that a
// compiled program that hangs or crashes costs only its own figure.

const figureArg = argv.find((a) => a.startsWith('--figure='))?.slice(9);
const FIGURE_TIMEOUT_MS = 120_000;
const MARK = '@@bench-rows ';

async function runFigureHere(name) {
  if (!baselinesOnly) {
    transform = await loadTransformer();
    runtime = await loadRuntime();
  }
  ws = await Workspace.create();
  try {
    const out = await FIGURES[name]();
    process.stdout.write(`${MARK}${JSON.stringify(out)}\n`);
  } finally {
    await ws.dispose();
  }
}

async function runFigureChild(name) {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), `--figure=${name}`, ...argv.filter((a) => !a.startsWith('--only=') && !a.startsWith('--figure='))];
  try {
    const { stdout, stderr } = await run(process.execPath, args, { maxBuffer: 16 << 20, timeout: FIGURE_TIMEOUT_MS, killSignal: 'SIGKILL' });
    if (stderr.trim()) process.stderr.write(stderr.replace(/^/gm, '  '));
    const line = stdout.split('\n').find((l) => l.startsWith(MARK));
    if (!line) throw new Error(`figure ${name} printed no result:\n${stdout}`);
    return JSON.parse(line.slice(MARK.length));
  } catch (e) {
    const why = e.killed || e.signal === 'SIGKILL' ? `timed out after ${FIGURE_TIMEOUT_MS / 1000} s (killed)` : `child exited with ${e.code ?? e.signal}`;
    if (e.stderr) process.stderr.write(e.stderr.replace(/^/gm, '  '));
    return META[name].map(([rowName, unit, g]) => errorRow(rowName, unit, g, new Error(`${why}: ${(e.stderr || e.message || '').trim().split('\n').slice(-3).join(' | ')}`)));
  }
}

async function main() {
  const started = now();
  const loadStart = loadavg();
  if (!baselinesOnly) {
    const missing = missingDist();
    if (missing.length) {
      console.error(`bench: dist/ is not built (missing ${missing.map((p) => path.relative(root, p)).join(', ')}).`);
      console.error('Run `npm run build` first, or `node bench/run.mjs --baselines-only`.');
      process.exit(2);
    }
  }
  const names = only ?? Object.keys(FIGURES);
  for (const name of names) if (!FIGURES[name]) throw new Error(`unknown figure ${name} (have: ${Object.keys(FIGURES).join(', ')})`);
  const rows = [];
  for (const name of names) {
    const t0 = now();
    log(`bench: ${name} ...`);
    const out = await runFigureChild(name);
    if (noTicks) for (const r of out) r.name += ' [ticks: false]';
    rows.push(...out);
    log(`bench: ${name} done in ${((now() - t0) / 1000).toFixed(1)} s`);
  }
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}-${process.arch}`;
  const load = (l) => l.map((x) => x.toFixed(1)).join(' ');
  console.log(`stackless bench — ${new Date().toISOString()} — ${machine} — load avg at start ${load(loadStart)}, at end ${load(loadavg())}${baselinesOnly ? ' — BASELINES ONLY' : ''}${noTicks ? ' — ticks: false' : ''}`);
  console.log(table(rows));
  const missed = rows.filter((r) => r.pass === false);
  console.log(`\n${rows.filter((r) => r.pass).length} passed, ${missed.length} missed or failed; total ${((now() - started) / 1000).toFixed(0)} s`);
  if (!baselinesOnly && !only && !noTicks) {
    const out = path.join(benchDir, 'results.json');
    await writeFile(out, `${JSON.stringify(rows, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  }
}

if (figureArg) await runFigureHere(figureArg);
else await main();
