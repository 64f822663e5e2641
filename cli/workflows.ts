/**
 * `stackless workflows list | show <id> | cancel <id> | retry <id> | ui | check <old> <new>`:
 * runs in a workflow store (the embedded SQLite file, or Postgres), for people (tables, a web
 * page) or scripts (`--json`). It needs no workflow code: cancel and retry are requests that
 * the next drain of a worker carries out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { DEFAULT_DB, sqliteStore } from '../workflow/sqlite.js';
import { WorkflowError } from '../workflow/errors.js';
import { STATUSES, type ListFilter, type RunRecord, type RunStatus, type StoredJournalEntry } from '../workflow/store.js';
import type { FrameView } from '../workflow/view.js';
import { diffBuilds, mismatches, pinsOf, readBuild, type Build, type FunctionChange, type Mismatch } from '../workflow/builds.js';
import { migratedPin, migrateSnapshot, migration, type Applied, type Migration } from '../workflow/migrations.js';
import { pathToFileURL } from 'node:url';
import { restore } from '../runtime/index.js';

export const WORKFLOWS_USAGE = `Usage: stackless workflows <command> [--db file | --postgres url] [--json]

  list [--status s]   runs, oldest first (s: ${STATUSES.join(', ')})
  show <id>           one run: status, result or error, stack with source lines and
                      locals, journal
  cancel <id>         request a cancel: the next drain raises TaskletExit in the run
                      (its finally blocks run)
  retry <id>          a failed run again from its last checkpoint, a cancelled one
                      from its start (at the next drain)
  ui [--port n] [--host h] [--root dir]
                      serve a web page of the runs (default http://127.0.0.1:7077/;
                      --port 0 picks a free port); Ctrl-C stops it
  check <old build> <new build> [--migrations file.mjs]
                      before a deploy: the tasklet functions whose fingerprints differ
                      between two builds (directories: sources or built output) and the
                      running or waiting runs the change would strand; exit 1 if any.
                      With --migrations (a module whose default export is the list of
                      migrations), runs they would carry over are tried and listed apart

  --db file           the SQLite file (default: $STACKLESS_WORKFLOWS_DB or ${DEFAULT_DB})
  --postgres url      a Postgres store instead (default: $STACKLESS_WORKFLOWS_POSTGRES)
  --schema name       the Postgres schema of the store (default: stackless)
  --root dir          where the workflows' source files are, for source lines
                      (default: the current directory)
  --json              print JSON instead of text
`;

type Maybe<T> = T | Promise<T>;

/** What the CLI needs of a store: the Store interface's reads and requests, sync or async. */
export interface CliStore {
  getRun(id: string): Maybe<RunRecord | undefined>;
  listRuns(filter?: ListFilter): Maybe<RunRecord[]>;
  journal(id: string): Maybe<StoredJournalEntry[]>;
  requestCancel(id: string): Maybe<void>;
  retry(id: string): Maybe<void>;
  close(): Maybe<void>;
}

const COMMANDS = ['list', 'show', 'cancel', 'retry', 'ui', 'check'];

interface Args {
  command: string;
  positional: string[];
  db: string;
  postgres: string | undefined;
  json: boolean;
  status: RunStatus | undefined;
  port: number;
  host: string;
  root: string;
  migrations: string | undefined;
  schema: string | undefined;
}

type Out = (text: string) => void;

function parse(argv: string[]): Args | string {
  const a: Args = {
    command: '', positional: [], db: process.env.STACKLESS_WORKFLOWS_DB || DEFAULT_DB, postgres: process.env.STACKLESS_WORKFLOWS_POSTGRES || undefined,
    json: false, status: undefined, port: 7077, host: '127.0.0.1', root: process.cwd(), migrations: undefined, schema: undefined,
  };
  const rest: string[] = [];
  let dbGiven = false;
  let pgGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '--json') a.json = true;
    else if (['--db', '--postgres', '--status', '--port', '--host', '--root', '--migrations', '--schema'].includes(x)) {
      const v = argv[++i];
      if (v === undefined) return `${x} needs a value`;
      if (x === '--db') (a.db = v), (dbGiven = true);
      else if (x === '--postgres') (a.postgres = v), (pgGiven = true);
      else if (x === '--host') a.host = v;
      else if (x === '--root') a.root = resolve(v);
      else if (x === '--migrations') a.migrations = v;
      else if (x === '--schema') a.schema = v;
      else if (x === '--port') {
        if (!/^\d+$/.test(v) || Number(v) > 65535) return `--port needs a port number (0-65535), got '${v}'`;
        a.port = Number(v);
      } else if ((STATUSES as readonly string[]).includes(v)) a.status = v as RunStatus;
      else return `unknown status '${v}' (one of ${STATUSES.join(', ')})`;
    } else if (x.startsWith('--')) return `unknown option '${x}'`;
    else rest.push(x);
  }
  if (dbGiven && pgGiven) return 'give either --db or --postgres, not both';
  if (dbGiven) a.postgres = undefined;
  if (a.schema !== undefined && a.postgres === undefined) return '--schema goes with --postgres';
  const [command, ...positional] = rest;
  if (command === undefined) return 'a subcommand is needed';
  if (!COMMANDS.includes(command)) return `unknown subcommand '${command}'`;
  a.command = command;
  a.positional = positional;
  const wanted = command === 'check' ? 2 : command === 'show' || command === 'cancel' || command === 'retry' ? 1 : 0;
  if (positional.length < wanted) {
    return command === 'check' ? "'workflows check' needs two builds: the deployed one and the new one" : `'workflows ${command}' needs a run id`;
  }
  if (positional.length > wanted) return `too many arguments: ${positional.slice(wanted).join(' ')}`;
  if (a.migrations !== undefined && command !== 'check') return '--migrations goes with check only';
  return a;
}

/** Opens the store the options name; a string is the reason it cannot be opened. */
async function openStore(a: Args): Promise<CliStore | string> {
  if (a.postgres !== undefined) {
    const mod = (await import('../workflow/index.js')) as Record<string, unknown>;
    const make = mod.postgresStore;
    if (typeof make !== 'function') return 'this build of stackless has no Postgres store (postgresStore); use --db';
    const options = a.schema !== undefined ? { schema: a.schema } : {};
    return (await (make as (url: string, o: object) => Maybe<CliStore>)(a.postgres, options)) as CliStore;
  }
  if (!existsSync(a.db)) return `no workflow store at '${a.db}' (give one with --db)`;
  return sqliteStore(a.db);
}

export async function workflows(argv: string[], out: Out, err: Out): Promise<number> {
  if (argv.length === 1 && ['help', '--help', '-h'].includes(argv[0])) {
    out(WORKFLOWS_USAGE);
    return 0;
  }
  const a = parse(argv);
  if (typeof a === 'string') {
    err(`stackless workflows: ${a}\n\n${WORKFLOWS_USAGE}`);
    return 2;
  }
  let builds: [Build, Build] | null = null;
  let migrations: Migration[] = [];
  if (a.command === 'check') {
    try {
      builds = [readBuild(a.positional[0]), readBuild(a.positional[1])];
      if (a.migrations !== undefined) migrations = await loadMigrations(a.migrations);
    } catch (e) {
      err(`stackless workflows check: ${(e as Error).message}\n`);
      return 2;
    }
  }
  let store: CliStore | string | null = null;
  try {
    store = await openStore(a);
    if (typeof store === 'string') {
      err(`stackless workflows: ${store}\n`);
      return 1;
    }
    const id = a.positional[0];
    switch (a.command) {
      case 'list':
        return await list(store, a, out);
      case 'show':
        return await show(store, id, a, out);
      case 'cancel':
        await store.requestCancel(id);
        out(a.json ? `${JSON.stringify({ id, cancel: 'requested' })}\n` : `cancel requested for run '${id}': the next drain raises TaskletExit in it (its finally blocks run)\n`);
        return 0;
      case 'retry':
        await store.retry(id);
        out(a.json ? `${JSON.stringify({ id, retry: 'requested' })}\n` : `run '${id}' is running again: the next drain resumes it\n`);
        return 0;
      case 'check':
        return await check(store, builds as [Build, Build], migrations, a, out);
      default: {
        const { serveUi } = await import('./ui/server.js');
        const ui = await serveUi({ store, port: a.port, host: a.host, root: a.root });
        out(`stackless workflows ui: ${ui.url} (${a.postgres !== undefined ? 'Postgres store' : `store ${a.db}`}); Ctrl-C stops it\n`);
        const kept = store;
        store = null; // the server owns it now
        await new Promise<void>((done) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void ui.close().then(() => kept.close()).then(done, done);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        return 0;
      }
    }
  } catch (e) {
    if (!(e instanceof WorkflowError)) throw e;
    err(`stackless workflows: ${e.message}\n`);
    return 1;
  } finally {
    if (store !== null && typeof store !== 'string') await store.close();
  }
}

async function list(store: CliStore, a: Args, out: Out): Promise<number> {
  const rows = await store.listRuns({ status: a.status });
  if (a.json) {
    out(`${JSON.stringify(rows.map(summary), null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    out(a.status === undefined ? 'no runs\n' : `no ${a.status} runs\n`);
    return 0;
  }
  const table = [['ID', 'STATUS', 'WORKFLOW', 'STEPS', 'UPDATED', 'WAITING FOR']];
  for (const r of rows) table.push([r.id, r.corrupt ? 'corrupt' : r.status, r.fn, String(r.steps), time(r.updatedAt), waits(r)]);
  printTable(table, out);
  return 0;
}

function printTable(table: string[][], out: Out, indent = ''): void {
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) out(`${indent}${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()}\n`);
}

export interface RunSummary {
  id: string;
  workflow: string;
  status: RunStatus;
  steps: number;
  checkpoints: number;
  wakeAt: string | null;
  waitingFor: string[];
  cancelRequested: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  corrupt?: string;
}

export function summary(r: RunRecord): RunSummary {
  return {
    id: r.id, workflow: r.fn, status: r.status, steps: r.steps, checkpoints: r.checkpoints, wakeAt: iso(r.wakeAt),
    waitingFor: r.waitingFor, cancelRequested: r.cancel !== 0, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt),
    ...(r.corrupt !== undefined ? { corrupt: r.corrupt } : {}),
  };
}

/** A frame as shown: the stored view plus the source lines around its line (when the file is under `root`). */
export interface FrameDetail extends FrameView {
  source: { first: number; lines: string[] } | null;
}

export interface RunDetail extends RunSummary {
  cancelState: 'none' | 'requested' | 'delivered';
  result: unknown;
  resultText: string | null;
  error: { name: string; message: string; code?: string; stack?: string } | null;
  frames: FrameDetail[];
  journal: StoredJournalEntry[];
}

/** Everything `show` and the web page tell about one run. Throws UNKNOWN_RUN. */
export async function detail(store: CliStore, id: string, root: string): Promise<RunDetail> {
  const r = await store.getRun(id);
  if (r === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
  const journal = await store.journal(id);
  const frames = tryJson<FrameView[]>(r.frames) ?? [];
  const result = r.result === null ? undefined : value(r.result);
  const sources = new Map<string, string[] | null>();
  return {
    ...summary(r),
    cancelState: r.cancel === 1 ? 'requested' : r.cancel === 2 ? 'delivered' : 'none',
    result: result?.value ?? null,
    resultText: result?.text ?? null,
    error: tryJson(r.error),
    frames: frames.map((f) => ({ ...f, source: sourceAround(root, f.file, f.line, sources) })),
    journal,
  };
}

/** Up to two lines either side of `line` of `file` (a path from the store: only read when it is under `root`). */
function sourceAround(root: string, file: string | null, line: number | null, cache: Map<string, string[] | null>): FrameDetail['source'] {
  if (file === null || line === null || line < 1) return null;
  let lines = cache.get(file);
  if (lines === undefined) {
    lines = null;
    const path = resolve(root, file);
    const rel = relative(root, path);
    if (!rel.startsWith('..') && !isAbsolute(rel)) {
      try {
        lines = readFileSync(path, 'utf8').split(/\r?\n/);
      } catch {
        lines = null;
      }
    }
    cache.set(file, lines);
  }
  if (lines === null || line > lines.length) return null;
  const first = Math.max(1, line - 2);
  return { first, lines: lines.slice(first - 1, Math.min(lines.length, line + 2)) };
}

async function show(store: CliStore, id: string, a: Args, out: Out): Promise<number> {
  const d = await detail(store, id, a.root);
  if (a.json) {
    const { cancelState: _c, resultText: _t, ...rest } = d;
    out(`${JSON.stringify({ ...rest, frames: d.frames.map(({ source: _s, ...f }) => f) }, null, 2)}\n`);
    return 0;
  }
  out(`run ${d.id}\n`);
  const field = (k: string, v: string) => out(`  ${k.padEnd(10)} ${v}\n`);
  field('workflow', d.workflow);
  field('status', `${d.status}${d.cancelState === 'requested' ? ' (cancel requested)' : d.cancelState === 'delivered' ? ' (cancelling)' : ''}`);
  const waiting = waitsText(d.wakeAt, d.waitingFor);
  if (waiting !== '') field('waiting', waiting);
  field('steps', `${d.steps} completed, ${d.checkpoints} checkpoints`);
  field('created', d.createdAt === null ? '?' : time(Date.parse(d.createdAt)));
  field('updated', d.updatedAt === null ? '?' : time(Date.parse(d.updatedAt)));
  if (d.resultText !== null) field('result', d.resultText);
  if (d.error !== null) field('error', `${d.error.name}${d.error.code ? ` [${d.error.code}]` : ''}: ${d.error.message}`);
  if (d.frames.length > 0) {
    out('  stack (innermost last):\n');
    for (const f of d.frames) {
      out(`    ${f.function}  ${f.file ?? '?'}:${f.line ?? '?'}:${f.column ?? '?'}\n`);
      for (const [k, v] of Object.entries(f.locals)) out(`      ${k} = ${JSON.stringify(v)}\n`);
      if (f.source !== null && f.line !== null) {
        const src = f.source;
        const width = String(src.first + src.lines.length - 1).length;
        src.lines.forEach((text, i) => {
          const n = src.first + i;
          out(`      ${n === f.line ? '>' : ' '} ${String(n).padStart(width)} | ${text}\n`);
        });
      }
    }
  }
  out('  journal:\n');
  for (const j of d.journal) out(`    ${time(j.at)}  ${entry(j)}\n`);
  return 0;
}

export function entry(j: StoredJournalEntry): string {
  const name = j.name !== null ? ` '${j.name}'` : '';
  const attempt = j.attempt !== null ? ` (attempt ${j.attempt})` : '';
  const d = j.data as Record<string, unknown> | null;
  let detail = '';
  if (d !== null && typeof d === 'object') {
    if ('value' in d) detail = ` -> ${JSON.stringify(d.value)}`;
    else if (Array.isArray(d.migrations)) detail = ` ${(d.migrations as Applied[]).map((m) => `${m.fn} ${m.from} -> ${m.to} (${m.frames} frame${m.frames === 1 ? '' : 's'})`).join('; ')}`;
    else if ('error' in d) detail = ` !! ${typeof d.error === 'string' ? d.error : JSON.stringify((d.error as { message?: string }).message ?? d.error)}`;
    else if ('message' in d) detail = ` !! ${String(d.message)}`;
    else detail = ` ${JSON.stringify(d)}`;
  }
  return `${j.kind}${name}${attempt}${detail}`;
}

// ---- check ----

interface Stranded {
  id: string;
  status: RunStatus;
  workflow: string;
  functions: Mismatch[];
  /** With --migrations: why the migrations do not carry it over (a migration's error), if one applied. */
  migration?: string;
}

interface Carried {
  id: string;
  status: RunStatus;
  workflow: string;
  migrations: Applied[];
}

/** The migrations module given to check: its default export (or `migrations`), an array. */
async function loadMigrations(file: string): Promise<Migration[]> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`cannot find the migrations module '${file}'`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`cannot load the migrations module '${file}': ${(e as Error).message.split('\n')[0]} (give a JavaScript module, .mjs or .js)`);
  }
  const list = mod.default ?? mod.migrations;
  if (!Array.isArray(list)) throw new Error(`the migrations module '${file}' must export an array of migrations (export default [...])`);
  return list.map((m) => migration(m as Migration));
}

async function check(store: CliStore, [oldBuild, newBuild]: [Build, Build], migrations: Migration[], a: Args, out: Out): Promise<number> {
  const changes = diffBuilds(oldBuild, newBuild);
  const inFlight = [...(await store.listRuns({ status: 'running' })), ...(await store.listRuns({ status: 'waiting' }))]
    .filter((r) => r.corrupt === undefined)
    .sort((x, y) => x.createdAt - y.createdAt);
  const stranded: Stranded[] = [];
  const carried: Carried[] = [];
  const already: Stranded[] = [];
  const rescued: string[] = [];
  const lookup = (id: string) => newBuild.functions.get(id)?.meta;
  for (const r of inFlight) {
    const pins = pinsOf(r);
    const before = mismatches(pins, oldBuild);
    const after = mismatches(pins, newBuild);
    const s = { id: r.id, status: r.status, workflow: r.fn };
    if (before.length > 0) {
      if (after.length > 0) already.push({ ...s, functions: before });
      else rescued.push(r.id);
      continue;
    }
    if (after.length === 0) continue;
    if (migrations.length === 0) {
      stranded.push({ ...s, functions: after });
      continue;
    }
    // a dry run of the migrations against the new build's metadata
    try {
      const fp = migratedPin(r.fn, r.fp, migrations, lookup);
      const m = r.snapshot === null ? null : migrateSnapshot(r.snapshot, migrations, `run '${r.id}'`, lookup);
      const left = mismatches(pinsOf({ fn: r.fn, fp, snapshot: m?.json ?? r.snapshot }), newBuild);
      if (left.length === 0) carried.push({ ...s, migrations: m?.applied ?? [] });
      else stranded.push({ ...s, functions: left });
    } catch (e) {
      if (!(e instanceof WorkflowError)) throw e;
      stranded.push({ ...s, functions: after, migration: e.message });
    }
  }
  if (a.json) {
    const fns = (b: Build) => Object.fromEntries([...b.functions.values()].map((f) => [f.id, f.fp]));
    out(`${JSON.stringify({
      old: { dir: oldBuild.dir, files: oldBuild.files, functions: fns(oldBuild) },
      new: { dir: newBuild.dir, files: newBuild.files, functions: fns(newBuild) },
      changes, inFlight: inFlight.length, stranded, ...(a.migrations !== undefined ? { migrated: carried } : {}), alreadyStranded: already, rescued,
    }, null, 2)}\n`);
    return stranded.length > 0 ? 1 : 0;
  }
  const count = (b: Build) => `${b.functions.size} tasklet function${b.functions.size === 1 ? '' : 's'} in ${b.files} file${b.files === 1 ? '' : 's'}`;
  out(`old build ${oldBuild.dir}: ${count(oldBuild)}\n`);
  out(`new build ${newBuild.dir}: ${count(newBuild)}\n`);
  const kinds: Array<[FunctionChange['change'], string]> = [['changed', 'changed (fingerprint old -> new)'], ['removed', 'removed'], ['added', 'added']];
  if (changes.length === 0) out('\nno tasklet function changed\n');
  for (const [kind, title] of kinds) {
    const cs = changes.filter((c) => c.change === kind);
    if (cs.length === 0) continue;
    out(`\n${title}:\n`);
    printTable(cs.map((c) => [c.id, kind === 'changed' ? `${c.old} -> ${c.new}` : (c.old ?? c.new ?? ''), `${c.source}:${c.line}`]), out, '  ');
  }
  const describe = (m: Mismatch) =>
    `${m.as === 'workflow' ? 'workflow' : 'on its stack'}: ${m.id} ${m.build === null ? `(pinned ${m.pinned}, not in the build)` : `(pinned ${m.pinned}, build has ${m.build})`}`;
  out(`\n${inFlight.length} run${inFlight.length === 1 ? '' : 's'} running or waiting in the store\n`);
  if (carried.length > 0) {
    out(`${carried.length} resume${carried.length === 1 ? 's' : ''} on the new build through the migrations in ${a.migrations}:\n`);
    for (const c of carried) {
      out(`  ${c.id}  ${c.status}  ${c.workflow}: ${c.migrations.map((m) => `${m.fn} ${m.from} -> ${m.to} (${m.frames} frame${m.frames === 1 ? '' : 's'})`).join('; ') || 'pin only'}\n`);
    }
  }
  if (stranded.length === 0) out('no run would be stranded by this change\n');
  else {
    out(
      `${stranded.length} would be stranded on the new build (changed code: the run fails with CODE_CHANGED unless a migration covers it; ` +
        'a removed workflow function: no worker can load the run):\n',
    );
    for (const s of stranded) {
      out(`  ${s.id}  ${s.status}  ${s.workflow}\n`);
      for (const m of s.functions) out(`    ${describe(m)}\n`);
      if (s.migration !== undefined) out(`    migration failed: ${s.migration}\n`);
    }
  }
  if (already.length > 0) {
    out(`${already.length} cannot resume on the old build either (started on other code):\n`);
    for (const s of already) out(`  ${s.id}  ${s.status}  ${s.workflow}: ${s.functions.map(describe).join('; ')}\n`);
  }
  if (rescued.length > 0) out(`${rescued.length} cannot resume on the old build but can on the new one: ${rescued.join(', ')}\n`);
  return stranded.length > 0 ? 1 : 0;
}

/** A stored value read back without the workflow's code: plain data always works. */
function value(json: string): { value: unknown; text: string } {
  try {
    const v = restore(json).roots[0];
    return { value: v, text: v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v) };
  } catch (e) {
    return { value: null, text: `(cannot be shown without the workflow's code: ${(e as Error).message})` };
  }
}

function waits(r: RunRecord): string {
  return waitsText(iso(r.wakeAt), r.waitingFor);
}

function waitsText(wakeAt: string | null, waitingFor: string[]): string {
  const parts: string[] = [];
  if (wakeAt !== null) parts.push(`timer ${time(Date.parse(wakeAt))}`);
  for (const n of waitingFor) parts.push(`signal '${n}'`);
  return parts.join(', ');
}

function tryJson<T>(s: string | null): T | null {
  if (s === null) return null;
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
