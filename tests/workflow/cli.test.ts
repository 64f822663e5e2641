// `stackless workflows ...` (the built CLI) against a SQLite file that an engine in this
// process filled: a finished, a waiting and a failed run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, sqliteStore, type Engine } from '../../workflow/index.js';
import { cliPath, runNode } from '../plugins/helpers/index.js';
import { approval, cancellable, flaky, order } from './programs/flows.js';
import { tempDb } from './helpers.js';

const db = tempDb();
let engine: Engine;
beforeAll(async () => {
  engine = createEngine({ store: sqliteStore(db) });
  await engine.start(order, ['lamp', 2], { id: 'done-1' });
  await engine.start(approval, [250], { id: 'wait-1' });
  await engine.start(flaky, [9], { id: 'fail-1' });
  await engine.start(cancellable, [], { id: 'cancel-1' });
  await engine.drain();
});
afterAll(() => engine.close());

function cli(...args: string[]) {
  return runNode([cliPath, 'workflows', ...args, '--db', db]);
}

describe('stackless workflows', () => {
  it('list: one line per run, readable', () => {
    const r = cli('list');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+WORKFLOW\s+STEPS\s+UPDATED\s+WAITING FOR$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ['done-1', 'finished', 'tests/workflow/programs/flows.ts#order', '3'],
      ['wait-1', 'waiting', 'tests/workflow/programs/flows.ts#approval', '0'],
      ['fail-1', 'failed', 'tests/workflow/programs/flows.ts#flaky', '0'],
      ['cancel-1', 'waiting', 'tests/workflow/programs/flows.ts#cancellable', '1'],
    ]);
    expect(lines[2]).toContain("signal 'decision'");
  });

  it('list --status and --json', () => {
    const r = cli('list', '--status', 'failed', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ id: 'fail-1', status: 'failed', steps: 0, cancelRequested: false })]);
  });

  it('show: status, what it waits for, the stack with source lines and locals, the journal', () => {
    const r = cli('show', 'wait-1');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  status     waiting\n');
    expect(r.stdout).toContain("  waiting    signal 'decision'\n");
    expect(r.stdout).toMatch(/ {4}approval {2}tests\/workflow\/programs\/flows\.ts:\d+:\d+\n {6}amount = 250\n/);
    expect(r.stdout).toMatch(/journal:\n.*started \{"args":\[250\]\}\n/);
    const failed = cli('show', 'fail-1');
    expect(failed.stdout).toContain('  error      Error: boom 4\n');
    expect(failed.stdout).toMatch(/retry 'flaky' \(attempt 3\) !! boom 3/);
    const done = JSON.parse(cli('show', 'done-1', '--json').stdout);
    expect(done).toMatchObject({ id: 'done-1', status: 'finished', result: 'lamp x2: 14', error: null, frames: [] });
    expect(done.journal.map((j: { kind: string; name: string | null }) => `${j.kind} ${j.name ?? ''}`.trim())).toEqual([
      'started', 'step price', 'step charge', 'step ship', 'finished',
    ]);
  });

  it('cancel and retry are requests that the next drain carries out', async () => {
    expect(cli('cancel', 'cancel-1').stdout).toContain("cancel requested for run 'cancel-1'");
    expect(JSON.parse(cli('retry', 'fail-1', '--json').stdout)).toEqual({ id: 'fail-1', retry: 'requested' });
    await engine.drain();
    expect((await engine.get('cancel-1')).status).toBe('cancelled');
    const retried = await engine.get('fail-1');
    expect(retried.status).toBe('failed'); // it fails again (9 failures > 3 retries), but it ran again:
    expect((await engine.journal('fail-1')).filter((j) => j.kind === 'retried')).toHaveLength(1);
    expect((await engine.journal('fail-1')).filter((j) => j.kind === 'retry')).toHaveLength(6);
  });

  it('errors: unknown id (exit 1), ended run, bad usage (exit 2), missing file', () => {
    const unknown = cli('show', 'ghost');
    expect([unknown.status, unknown.stderr]).toEqual([1, "stackless workflows: no workflow run with id 'ghost'\n"]);
    expect(cli('cancel', 'done-1').stderr).toBe("stackless workflows: cannot cancel run 'done-1': it has finished\n");
    const usage = cli('frobnicate');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("unknown subcommand 'frobnicate'");
    const missing = runNode([cliPath, 'workflows', 'list', '--db', `${db}.missing`]);
    expect([missing.status, missing.stderr]).toEqual([1, `stackless workflows: no workflow store at '${db}.missing' (give one with --db)\n`]);
  });
});
