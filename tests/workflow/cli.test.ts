// `stackless workflows ...` (the built CLI) against a SQLite file that an engine in this
// process filled: a finished, a waiting and a failed run; then the same against Postgres.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, postgresStore, sqliteStore, type Engine } from '../../workflow/index.js';
import { cliPath, repoRoot, runNode } from '../plugins/helpers/index.js';
import { approval, flaky, order } from './programs/flows.js';
import { startSampleRuns, tempDb } from './helpers.js';

const db = tempDb();
let engine: Engine;
beforeAll(async () => {
  engine = createEngine({ store: sqliteStore(db) });
  await startSampleRuns(engine);
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

// ---- the same commands against a Postgres store (a throwaway cluster of Debian's postgresql) ----

const pgBin = (() => {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const v = readdirSync(base).filter((x) => existsSync(join(base, x, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))[0];
  return v === undefined ? null : join(base, v, 'bin');
})();
if (pgBin === null) console.warn('[tests/workflow/cli] Postgres part SKIPPED: no /usr/lib/postgresql/<v>/bin/initdb (apt-get install -y postgresql)');

/** initdb + pg_ctl start in a temp folder (as the postgres user when we are root), trust auth, a free port. */
async function startCluster(bin: string): Promise<{ url: string; stop: () => void }> {
  const root = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const r = root ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8' }) : spawnSync(join(bin, cmd), args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout || r.error?.message}`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'stackless-cli-pg-'));
  if (root) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim();
    const gr = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim();
    chownSync(dir, Number(pw), Number(gr));
  }
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  run('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-t', '60', '-o', `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off`, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

describe.skipIf(pgBin === null)('stackless workflows --postgres', () => {
  let cluster: { url: string; stop: () => void };
  let pgEngine: Engine;
  const pg = (...args: string[]) => runNode([cliPath, 'workflows', ...args, '--postgres', cluster.url]);

  beforeAll(async () => {
    cluster = await startCluster(pgBin as string);
    pgEngine = createEngine({ store: postgresStore(cluster.url) });
    await pgEngine.start(order, ['lamp', 2], { id: 'done-1' });
    await pgEngine.start(approval, [250], { id: 'wait-1' });
    await pgEngine.start(flaky, [9], { id: 'fail-1' });
    await pgEngine.drain();
  });
  afterAll(async () => {
    await pgEngine?.close();
    cluster?.stop();
  });

  it('list, show, cancel and retry read and change the Postgres store', async () => {
    const list = pg('list');
    expect(list.stderr).toBe('');
    expect(list.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['done-1', 'finished', 'tests/workflow/programs/flows.ts#order'],
      ['wait-1', 'waiting', 'tests/workflow/programs/flows.ts#approval'],
      ['fail-1', 'failed', 'tests/workflow/programs/flows.ts#flaky'],
    ]);
    const show = pg('show', 'wait-1');
    expect(show.stdout).toMatch(/ {4}approval {2}tests\/workflow\/programs\/flows\.ts:\d+:\d+\n {6}amount = 250\n/);
    expect(show.stdout).toMatch(/> +\d+ \| {3}const decision = signal<\{ ok: boolean; by: string \}>\('decision'\)\.receive\(\);\n/);
    expect(JSON.parse(pg('show', 'done-1', '--json').stdout)).toMatchObject({ id: 'done-1', status: 'finished', result: 'lamp x2: 14' });
    expect(pg('cancel', 'wait-1').stdout).toBe("cancel requested for run 'wait-1': the next drain raises TaskletExit in it (its finally blocks run)\n");
    expect(pg('retry', 'fail-1', '--json').stdout).toBe('{"id":"fail-1","retry":"requested"}\n');
    expect((await pgEngine.get('wait-1')).cancelRequested).toBe(true);
    expect((await pgEngine.get('fail-1')).status).toBe('running');
    // another schema of the same database is another store (created empty on first use)
    expect(pg('list', '--schema', 'elsewhere').stdout).toBe('no runs\n');
    expect(pg('list', '--schema', 'Bad-Name').stderr).toBe(
      'stackless workflows: postgresStore: schema must be a lower-case SQL identifier (letters, digits, _), got "Bad-Name"\n',
    );
    const unknown = pg('show', 'ghost');
    expect([unknown.status, unknown.stderr]).toEqual([1, "stackless workflows: no workflow run with id 'ghost'\n"]);
  });

  it('ui serves the Postgres store', async () => {
    const child = spawn(process.execPath, [cliPath, 'workflows', 'ui', '--postgres', cluster.url, '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /^stackless workflows ui: (http:\S+) \(Postgres store\); Ctrl-C stops it\n/.exec(out);
          if (m !== null) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`ui exited with ${code}`)));
      });
      const runs = (await (await fetch(`${url}api/runs`)).json()) as Array<{ id: string; status: string }>;
      expect(runs.map((r) => `${r.id} ${r.status}`)).toEqual(['done-1 finished', 'wait-1 waiting', 'fail-1 running']);
      const one = (await (await fetch(`${url}api/runs/done-1`)).json()) as { journal: Array<{ kind: string }> };
      expect(one.journal.map((j) => j.kind)).toEqual(['started', 'step', 'step', 'step', 'finished']);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a store that cannot be reached: exit 1 with the reason', () => {
    const r = runNode([cliPath, 'workflows', 'list', '--postgres', 'postgres://postgres@127.0.0.1:1/none']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^stackless workflows: postgres store: cannot set up schema 'stackless' at .*127\.0\.0\.1:1.*: .*ECONNREFUSED.*\n$/);
    const both = runNode([cliPath, 'workflows', 'list', '--db', 'x.db', '--postgres', 'postgres://x']);
    expect([both.status, both.stderr.split('\n')[0]]).toEqual([2, 'stackless workflows: give either --db or --postgres, not both']);
  });
});
