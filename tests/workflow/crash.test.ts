// kill -9 in the middle of a workflow: a real worker process (the built package through
// `node --import stackless/register`) is SIGKILLed while a step runs; a new worker resumes
// the run from its last checkpoint. Nothing is lost, and no step whose completion was
// committed runs again (only the step in flight at the kill may run twice: at least once).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteStore } from '../../workflow/index.js';
import { registerUrl, repoRoot, runNode } from '../plugins/helpers/index.js';
import { tempDir } from './helpers.js';

const worker = join(repoRoot, 'tests', 'workflow', 'programs', 'worker.ts');
const STEPS = 8;

function count(lines: string[], line: string): number {
  return lines.filter((l) => l === line).length;
}

/** Starts a worker and SIGKILLs it as soon as the log shows `marker`. */
async function killWhen(db: string, log: string, marker: string, hangAt: string): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ['--import', registerUrl, worker, db, log, String(STEPS)], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', HANG_AT: hangAt },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if (existsSync(log) && readFileSync(log, 'utf8').includes(marker)) {
      child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // never leave it hanging
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`the worker was not killed (exit ${child.exitCode}): ${stderr}`);
  return signal;
}

describe('kill -9 a worker in the middle of a workflow', () => {
  it('a new worker completes the run; committed steps never run again; nothing is lost', async () => {
    const dir = tempDir();
    const db = join(dir, 'crash.db');
    const log = join(dir, 'crash.log');

    expect(await killWhen(db, log, 'start 4\n', '4')).toBe('SIGKILL');
    const before = readFileSync(log, 'utf8').trim().split('\n');
    expect(count(before, `done ${STEPS}`)).toBe(0); // killed mid-way

    // what the dead worker had committed: its last checkpoint
    const store = sqliteStore(db);
    const row = store.getRun('job')!;
    store.close();
    expect(row.status).toBe('running');
    const committed = row.steps;
    expect(committed).toBe(3); // steps 1-3 were checkpointed before step 4 began

    const r = runNode(['--import', registerUrl, worker, db, log, String(STEPS)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ status: 'finished', result: (STEPS * (STEPS + 1)) / 2, loaded: 1 });

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    for (let i = 1; i <= STEPS; i++) {
      const starts = count(lines, `start ${i}`);
      if (i <= committed) expect(starts, `step ${i} (committed before the kill)`).toBe(1);
      else if (i === committed + 1) expect(starts, `step ${i} (in flight at the kill)`).toBeGreaterThanOrEqual(1);
      else expect(starts, `step ${i} (after the kill)`).toBe(1);
      expect(starts).toBeLessThanOrEqual(2);
      expect(count(lines, `done ${i}`), `step ${i} completed`).toBeGreaterThanOrEqual(1);
    }
    // the resumed worker started exactly where the checkpoint was
    const resumedAt = lines.indexOf(`start ${committed + 1}`, before.length);
    expect(lines.slice(before.length)[0]).toBe(`start ${committed + 1}`);
    expect(resumedAt).toBe(before.length);
  });
});
