// stackless demo, part 1: a durable workflow survives `kill -9`.
//
// demo/order.ts runs in a real worker process (node --import stackless/register) on the
// embedded SQLite store. While its third step runs (made slow in that worker, so the kill
// surely lands mid-step), this script SIGKILLs it. A fresh process
// then finds the run in the store and resumes it from its last checkpoint: the steps that
// completed before the kill are not run again. Everything printed is read from the workers'
// output, the store and the log the step functions append to; the script checks the outcome
// and exits 1 if a completed step ran twice or the run did not finish.
//
//   node demo/run.mjs [workflow]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const register = pathToFileURL(path.join(root, 'dist', 'register', 'index.js')).href;
const cli = path.join(root, 'dist', 'cli', 'index.js');
const KILL_AT = 'pack';
const STEPS = ['reserve stock', 'charge card', 'pack', 'ship', 'email receipt'];

export async function durableDemo() {
  for (const f of [fileURLToPath(register), cli]) {
    if (!existsSync(f)) {
      console.error(`demo: dist/ is not built (missing ${path.relative(root, f)}); run \`npm run build\` first.`);
      return 2;
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stackless-demo-'));
  const db = path.join(dir, 'workflows.db');
  const log = path.join(dir, 'steps.log');
  try {
    console.log('stackless demo 1: a durable workflow survives kill -9');
    console.log(`  store: ${db} (embedded SQLite)`);
    console.log(`  workflow: demo/order.ts, 5 steps: ${STEPS.map((s) => `'${s}'`).join(', ')}\n`);

    console.log('$ node --import stackless/register demo/order.ts   # worker 1');
    const first = await worker(db, log, `step '${KILL_AT}' runs`, { DEMO_SLOW_STEP: KILL_AT });
    console.log(`$ kill -9 ${first.pid}   # while step '${KILL_AT}' runs`);
    console.log(`  worker 1 ended by ${first.signal}\n`);
    if (first.signal !== 'SIGKILL') return fail(`worker 1 was not killed (it exited with ${first.code})`);

    console.log('$ stackless workflows show order-A-17   # what the store holds now');
    const show = spawnSync(process.execPath, [cli, 'workflows', 'show', 'order-A-17', '--db', db], { cwd: root, encoding: 'utf8' });
    process.stdout.write(show.stdout.trimEnd().replace(/^/gm, '  ') + '\n');
    if (show.status !== 0) return fail(`workflows show failed: ${show.stderr}`);
    const committed = Number(/steps {6}(\d+) completed/.exec(show.stdout)?.[1] ?? NaN);
    console.log('');

    console.log('$ node --import stackless/register demo/order.ts   # worker 2: a fresh process');
    const second = await worker(db, log, null, {});
    if (second.code !== 0) return fail(`worker 2 exited with ${second.code ?? second.signal}`);
    if (!/run 'order-A-17' finished: /.test(second.output)) return fail('the run did not finish in worker 2');

    // what really ran: the log the step functions appended to, "pid name" per execution
    const runs = readFileSync(log, 'utf8').trim().split('\n').map((l) => {
      const sp = l.indexOf(' ');
      return { pid: Number(l.slice(0, sp)), name: l.slice(sp + 1) };
    });
    console.log('\nstep functions run (from the log both workers appended to):');
    const problems = [];
    STEPS.forEach((name, i) => {
      const mine = runs.filter((r) => r.name === name);
      const by = [...new Set(mine.map((r) => (r.pid === first.pid ? 'worker 1' : r.pid === second.pid ? 'worker 2' : `pid ${r.pid}`)))].join(' and ');
      let note = '';
      if (i < committed) note = 'completed before the kill: not run again';
      else if (i === committed) note = mine.length > 1 ? 'in flight at the kill: run again (steps run at least once)' : 'run after the restart';
      else note = 'run after the restart';
      console.log(`  ${name.padEnd(14)} ${mine.length}x  ${by.padEnd(21)}  ${note}`);
      if (i < committed && mine.length !== 1) problems.push(`step '${name}' completed before the kill but ran ${mine.length} times`);
      if (i > committed && mine.length !== 1) problems.push(`step '${name}' ran ${mine.length} times`);
      if (mine.length === 0) problems.push(`step '${name}' never ran`);
    });
    if (!Number.isInteger(committed)) problems.push('the store did not say how many steps were completed');
    if (problems.length > 0) return fail(problems.join('; '));
    console.log(`\nworker 1 was killed with ${committed} of 5 steps completed; worker 2, a new process, resumed the run from its`);
    console.log('last checkpoint in the store: it ran only the remaining steps, none of the completed ones again.');
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fail(why) {
  console.error(`demo failed: ${why}`);
  return 1;
}

/** Runs demo/order.ts; echoes its output; SIGKILLs it as soon as a line contains `killOn`. */
function worker(db, log, killOn, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', register, path.join('demo', 'order.ts'), db, log], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', DEMO_SLOW_STEP: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        output += `${line}\n`;
        console.log(line);
        if (killOn !== null && line.includes(killOn) && child.exitCode === null) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (stderr.trim() !== '' && signal !== 'SIGKILL') process.stderr.write(stderr);
      resolve({ pid: child.pid, code, signal, output });
    });
  });
}
