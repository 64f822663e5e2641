// Durable workflow figures (issue 7), loaded by bench/run.mjs:
//
//   wfCheckpoints  checkpoints per second on the embedded SQLite store: 100 runs x 50 steps,
//                  every step a checkpoint (one process, tests/workflow/programs/bench.ts)
//   wfResume       10,000 runs parked in a durable sleep by one process, resumed and finished by
//                  a new process ("after a restart"): the time of that process's one drain
//   wfPostgres     steps per second across 4 worker processes on a Postgres store (a throwaway
//                  cluster with fsync on, started here): 400 runs x 25 steps, started before the
//                  workers; the workers load and connect, then all four start together; the window
//                  is from the first step's journal entry to the last run's end, as the server recorded them
//
// Every figure runs the built package (dist/) in child processes through
// `node --import stackless/register`, and reports CPU time next to wall time: on a shared
// machine the wall time measures the load as much as the engine.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { distDir, root } from './lib/compile.mjs';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const registerUrl = pathToFileURL(path.join(distDir, 'register', 'index.js')).href;
const benchProgram = path.join(root, 'tests', 'workflow', 'programs', 'bench.ts');
const workerProgram = path.join(root, 'tests', 'workflow', 'programs', 'pg-worker.ts');

const CHECKPOINTS = 'checkpoints/s, embedded SQLite store (100 runs x 50 steps)';
const RESUME = '10,000 parked runs resumed after a restart (SQLite)';
const POSTGRES = 'steps/s across 4 worker processes, Postgres store (400 runs x 25 steps)';

const goal = (op, target, text) => ({ on: 'value', op, target, stretch: null, text });
const G_CHECKPOINTS = goal('>=', 2000, '≥ 2,000/s');
const G_RESUME = goal('<=', 2000, '≤ 2,000 ms');
const G_POSTGRES = goal('>=', 5000, '≥ 5,000/s');

export const META = {
  wfCheckpoints: [[CHECKPOINTS, 'checkpoints/s', G_CHECKPOINTS]],
  wfResume: [[RESUME, 'ms', G_RESUME]],
  wfPostgres: [[POSTGRES, 'steps/s', G_POSTGRES]],
};

function row(name, unit, g, value, extra = {}) {
  const pass = value == null ? false : g.op === '>=' ? value >= g.target : value <= g.target;
  return { name, value, unit, baseline: null, ratio: null, goal: g.text, pass, stretch: null, baselineName: null, ...extra };
}

function errorRow(name, unit, g, err) {
  log(`  ERROR in ${name}:\n${String(err?.stack ?? err).replace(/^/gm, '    ')}`);
  return { ...row(name, unit, g, null), error: String(err?.message ?? err).split('\n')[0] };
}

/** Runs a program with the built package; its last stdout line is JSON. */
function runJson(args, env = {}) {
  const r = spawnSync(process.execPath, ['--import', registerUrl, ...args], {
    cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env }, timeout: 100_000,
  });
  if (r.status !== 0) throw new Error(`${path.basename(args[0])} ${args.slice(1, 2).join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

async function wfCheckpoints() {
  const dir = mkdtempSync(path.join(tmpdir(), 'stackless-bench-wf-'));
  try {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const r = runJson([benchProgram, 'checkpoints', path.join(dir, `c${i}.db`)]);
      if (r.finished !== r.runs) throw new Error(`only ${r.finished} of ${r.runs} runs finished`);
      log(`  wfCheckpoints: ${r.perSecond}/s wall (${r.ms} ms), ${r.perCpuSecond} per CPU-second`);
      runs.push(r);
    }
    const best = runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    return [row(CHECKPOINTS, 'checkpoints/s', G_CHECKPOINTS, best.perSecond, {
      samples: runs.map((r) => r.perSecond), perCpuSecond: best.perCpuSecond, checkpoints: best.checkpoints,
    })];
  } catch (e) {
    return [errorRow(CHECKPOINTS, 'checkpoints/s', G_CHECKPOINTS, e)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function wfResume() {
  const dir = mkdtempSync(path.join(tmpdir(), 'stackless-bench-wf-'));
  try {
    const samples = [];
    for (let i = 0; i < 2; i++) {
      const db = path.join(dir, `p${i}.db`);
      const parked = runJson([benchProgram, 'park', db, '10000']);
      if (parked.parked !== 10000) throw new Error(`parked ${parked.parked} runs, not 10,000`);
      const r = runJson([benchProgram, 'resume', db]);
      if (r.waiting !== 10000 || r.finished !== 10000) throw new Error(`resumed ${r.finished} of ${r.waiting} waiting runs`);
      log(`  wfResume: start ${parked.startMs} ms, park ${parked.parkMs} ms, resume ${r.resumeMs} ms wall (${r.cpuMs} ms CPU)`);
      samples.push(r);
    }
    const best = samples.reduce((a, b) => (b.resumeMs < a.resumeMs ? b : a));
    return [row(RESUME, 'ms', G_RESUME, best.resumeMs, { samples: samples.map((r) => r.resumeMs), cpuMs: best.cpuMs })];
  } catch (e) {
    return [errorRow(RESUME, 'ms', G_RESUME, e)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** utime + stime + cutime + cstime of a process, in ms (Linux /proc; exited children count once waited for). */
function cpuOf(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i]), 0);
  return ticks * 10; // USER_HZ = 100 on Linux
}

async function wfPostgres() {
  const { startPostgres } = await import('../tests/workflow/programs/pg-cluster.mjs');
  const pg = (await import('pg')).default;
  let cluster = null;
  try {
    cluster = await startPostgres({ fsync: true });
    const postmaster = Number(readFileSync(path.join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const db = new pg.Pool({ connectionString: cluster.url, max: 1 });
    const RUNS = 400;
    const STEPS = 25;
    const samples = [];
    let workers = null;
    try {
      for (let round = 0; round < 2; round++) {
        const schema = `bench${round}`;
        const started = runJson([workerProgram, 'start', cluster.url, schema, String(RUNS), String(STEPS)]);
        // the workers load and connect first; all four start working together on SIGUSR2
        workers = [0, 1, 2, 3].map((i) => {
          const child = spawn(process.execPath, ['--import', registerUrl, workerProgram, 'work', cluster.url, schema, `w${i}`], {
            cwd: root, env: { ...process.env, NODE_OPTIONS: '', WAIT_GO: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
          });
          const w = { child, out: '', err: '' };
          child.stdout.on('data', (d) => (w.out += d));
          child.stderr.on('data', (d) => (w.err += d));
          w.done = new Promise((resolve) => child.on('exit', (code) => resolve({ code, out: w.out, err: w.err })));
          return w;
        });
        const readyBy = Date.now() + 60_000;
        while (!workers.every((w) => w.out.includes('"ready"'))) {
          const dead = workers.find((w) => w.child.exitCode !== null);
          if (dead) throw new Error(`a worker died before it was ready: ${dead.err.trim().split('\n').slice(0, 3).join(' | ')}`);
          if (Date.now() > readyBy) throw new Error('the workers were not ready in 60 s');
          await new Promise((r) => setTimeout(r, 20));
        }
        const pg0 = cpuOf(postmaster);
        for (const w of workers) w.child.kill('SIGUSR2');
        const deadline = Date.now() + 60_000;
        for (;;) {
          const n = Number((await db.query(`SELECT count(*) AS n FROM ${schema}.runs WHERE status = 'finished'`)).rows[0].n);
          if (n === RUNS) break;
          if (Date.now() > deadline) throw new Error(`only ${n} of ${RUNS} runs finished in 60 s`);
          const dead = workers.find((w) => w.child.exitCode !== null);
          if (dead) throw new Error(`a worker died (exit ${dead.child.exitCode}): ${(await dead.done).err.trim().split('\n').slice(0, 3).join(' | ')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        for (const w of workers) w.child.kill('SIGTERM');
        let workerCpu = 0;
        for (const w of workers) {
          const r = await w.done;
          if (r.code !== 0) throw new Error(`a worker exited with ${r.code}: ${r.err.trim()}`);
          workerCpu += JSON.parse(r.out.trim().split('\n').at(-1)).cpuMs;
        }
        await new Promise((r) => setTimeout(r, 200)); // the workers' backends exit: their CPU reaches the postmaster's children time
        const serverCpu = cpuOf(postmaster) - pg0;
        const j = (await db.query(`SELECT min(at) FILTER (WHERE kind = 'step') AS first, max(at) FILTER (WHERE kind = 'finished') AS last,
          count(*) FILTER (WHERE kind = 'step') AS steps, count(*) FILTER (WHERE kind = 'finished') AS ends FROM ${schema}.journal`)).rows[0];
        const steps = Number(j.steps);
        if (steps !== RUNS * STEPS || Number(j.ends) !== RUNS) throw new Error(`journal has ${steps} steps and ${j.ends} ends, not ${RUNS * STEPS} and ${RUNS}`);
        const ms = Number(j.last) - Number(j.first);
        const perSecond = Math.round((steps / ms) * 1000);
        const perCpuSecond = Math.round((steps / (workerCpu + serverCpu)) * 1000);
        log(`  wfPostgres: ${steps} steps in ${ms} ms = ${perSecond}/s wall; CPU: workers ${workerCpu} ms + server ${serverCpu} ms = ${perCpuSecond} steps per CPU-second (start of ${started.started} runs: ${started.ms} ms)`);
        samples.push({ perSecond, ms, workerCpu, serverCpu, perCpuSecond });
      }
    } finally {
      await db.end();
      for (const w of workers ?? []) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
    const best = samples.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    return [row(POSTGRES, 'steps/s', G_POSTGRES, best.perSecond, {
      samples: samples.map((s) => s.perSecond), windowMs: best.ms, workerCpuMs: best.workerCpu, serverCpuMs: best.serverCpu, perCpuSecond: best.perCpuSecond,
    })];
  } catch (e) {
    return [errorRow(POSTGRES, 'steps/s', G_POSTGRES, e)];
  } finally {
    cluster?.stop();
  }
}

export const FIGURES = { wfCheckpoints, wfResume, wfPostgres };
