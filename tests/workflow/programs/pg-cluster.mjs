// A throwaway Postgres cluster for the workflow tests and figures: Debian's postgresql
// binaries (/usr/lib/postgresql/<v>/bin, installed by .ci/run), initdb in a temp folder owned
// by the postgres user, a free TCP port on 127.0.0.1, trust authentication. stop() shuts it
// down (immediate mode) and removes the folder. Used by tests/workflow/postgres*.test.ts and
// bench/workflow.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The bin folder of the newest installed Postgres, or null. */
export function postgresBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? null : join(base, versions[0], 'bin');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster. Options: `fsync` (default false: a throwaway cluster for tests; the figures
 * pass true), `settings` (extra -c name=value). Returns { url, port, dir, stop() }. Throws an
 * Error that says what is missing when Postgres cannot be started.
 */
export async function startPostgres(options = {}) {
  const bin = postgresBin();
  if (bin === null) {
    throw new Error('cannot start Postgres for the workflow tests: no /usr/lib/postgresql/<version>/bin/initdb. Install Debian\'s postgresql package (.ci/run does: apt-get install -y postgresql)');
  }
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const run = (cmd, args) => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
    const r = spawnSync(full[0], full[1], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) {
      throw new Error(`cannot start Postgres for the workflow tests: ${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stderr || r.stdout || '').trim()}`);
    }
    return r.stdout;
  };
  const dir = mkdtempSync(join(tmpdir(), 'stackless-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  let started = false;
  const stop = () => {
    if (started) {
      started = false;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const port = await freePort();
    const settings = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: dir,
      fsync: options.fsync ? 'on' : 'off',
      max_connections: '200',
      ...(options.settings ?? {}),
    };
    const o = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
    try {
      run('pg_ctl', ['-D', data, '-l', log, '-o', o, '-w', '-t', '60', 'start']);
    } catch (e) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
      throw new Error(`${e.message}\n${tail}`);
    }
    started = true;
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, stop };
  } catch (e) {
    stop();
    throw e;
  }
}
