/**
 * `stackless workflows list | show <id> | cancel <id> | retry <id>`: runs in a workflow store
 * (the embedded SQLite file), for people (tables) or scripts (`--json`). It needs no workflow
 * code: cancel and retry are requests that the next drain of a worker carries out.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_DB, sqliteStore, type SqliteStore } from '../workflow/sqlite.js';
import { WorkflowError } from '../workflow/errors.js';
import { STATUSES, type RunRecord, type RunStatus, type StoredJournalEntry } from '../workflow/store.js';
import type { FrameView } from '../workflow/view.js';
import { restore } from '../runtime/index.js';

export const WORKFLOWS_USAGE = `Usage: stackless workflows <list | show <id> | cancel <id> | retry <id>> [--db file] [--json]

  list [--status s]   runs, oldest first (s: ${STATUSES.join(', ')})
  show <id>           one run: status, result or error, stack with locals, journal
  cancel <id>         request a cancel: the next drain raises TaskletExit in the run
                      (its finally blocks run)
  retry <id>          a failed run again from its last checkpoint, a cancelled one
                      from its start (at the next drain)

  --db file           the SQLite file (default: $STACKLESS_WORKFLOWS_DB or ${DEFAULT_DB})
  --json              print JSON instead of text
`;

interface Args {
  command: string | undefined;
  id: string | undefined;
  db: string;
  json: boolean;
  status: RunStatus | undefined;
}

type Out = (text: string) => void;

function parse(argv: string[]): Args | string {
  const a: Args = { command: undefined, id: undefined, db: process.env.STACKLESS_WORKFLOWS_DB || DEFAULT_DB, json: false, status: undefined };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '--json') a.json = true;
    else if (x === '--db' || x === '--status') {
      const v = argv[++i];
      if (v === undefined) return `${x} needs a value`;
      if (x === '--db') a.db = v;
      else if ((STATUSES as readonly string[]).includes(v)) a.status = v as RunStatus;
      else return `unknown status '${v}' (one of ${STATUSES.join(', ')})`;
    } else if (x.startsWith('--')) return `unknown option '${x}'`;
    else rest.push(x);
  }
  [a.command, a.id] = rest;
  const needsId = a.command === 'show' || a.command === 'cancel' || a.command === 'retry';
  if (a.command === undefined) return 'a subcommand is needed';
  if (!['list', 'show', 'cancel', 'retry'].includes(a.command)) return `unknown subcommand '${a.command}'`;
  if (needsId && a.id === undefined) return `'workflows ${a.command}' needs a run id`;
  if (rest.length > (needsId ? 2 : 1)) return `too many arguments: ${rest.slice(needsId ? 2 : 1).join(' ')}`;
  return a;
}

export function workflows(argv: string[], out: Out, err: Out): number {
  if (argv.length === 1 && ['help', '--help', '-h'].includes(argv[0])) {
    out(WORKFLOWS_USAGE);
    return 0;
  }
  const a = parse(argv);
  if (typeof a === 'string') {
    err(`stackless workflows: ${a}\n\n${WORKFLOWS_USAGE}`);
    return 2;
  }
  if (!existsSync(a.db)) {
    err(`stackless workflows: no workflow store at '${a.db}' (give one with --db)\n`);
    return 1;
  }
  let store: SqliteStore | null = null;
  try {
    store = sqliteStore(a.db);
    const id = a.id as string;
    switch (a.command) {
      case 'list':
        return list(store, a, out);
      case 'show':
        return show(store, id, a.json, out);
      case 'cancel':
        store.requestCancel(id);
        out(a.json ? `${JSON.stringify({ id, cancel: 'requested' })}\n` : `cancel requested for run '${id}': the next drain raises TaskletExit in it (its finally blocks run)\n`);
        return 0;
      default:
        store.retry(id);
        out(a.json ? `${JSON.stringify({ id, retry: 'requested' })}\n` : `run '${id}' is running again: the next drain resumes it\n`);
        return 0;
    }
  } catch (e) {
    if (!(e instanceof WorkflowError)) throw e;
    err(`stackless workflows: ${e.message}\n`);
    return 1;
  } finally {
    store?.close();
  }
}

function list(store: SqliteStore, a: Args, out: Out): number {
  const rows = store.listRuns({ status: a.status });
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
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  for (const row of table) out(`${row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()}\n`);
  return 0;
}

function summary(r: RunRecord) {
  return {
    id: r.id, workflow: r.fn, status: r.status, steps: r.steps, checkpoints: r.checkpoints, wakeAt: iso(r.wakeAt),
    waitingFor: r.waitingFor, cancelRequested: r.cancel !== 0, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt),
    ...(r.corrupt !== undefined ? { corrupt: r.corrupt } : {}),
  };
}

function show(store: SqliteStore, id: string, json: boolean, out: Out): number {
  const r = store.getRun(id);
  if (r === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
  const journal = store.journal(id);
  const frames = tryJson<FrameView[]>(r.frames) ?? [];
  const error = tryJson<{ name: string; message: string; code?: string }>(r.error);
  const result = r.result === null ? undefined : value(r.result);
  if (json) {
    out(`${JSON.stringify({ ...summary(r), result: result?.value ?? null, error, frames, journal }, null, 2)}\n`);
    return 0;
  }
  out(`run ${r.id}\n`);
  const field = (k: string, v: string) => out(`  ${k.padEnd(10)} ${v}\n`);
  field('workflow', r.fn);
  field('status', `${r.status}${r.cancel === 1 ? ' (cancel requested)' : r.cancel === 2 ? ' (cancelling)' : ''}`);
  if (r.wakeAt !== null || r.waitingFor.length > 0) field('waiting', waits(r));
  field('steps', `${r.steps} completed, ${r.checkpoints} checkpoints`);
  field('created', time(r.createdAt));
  field('updated', time(r.updatedAt));
  if (result !== undefined) field('result', result.text);
  if (error !== null) field('error', `${error.name}${error.code ? ` [${error.code}]` : ''}: ${error.message}`);
  if (frames.length > 0) {
    out('  stack (innermost last):\n');
    for (const f of frames) {
      out(`    ${f.function}  ${f.file ?? '?'}:${f.line ?? '?'}:${f.column ?? '?'}\n`);
      for (const [k, v] of Object.entries(f.locals)) out(`      ${k} = ${JSON.stringify(v)}\n`);
    }
  }
  out('  journal:\n');
  for (const j of journal) out(`    ${time(j.at)}  ${entry(j)}\n`);
  return 0;
}

function entry(j: StoredJournalEntry): string {
  const name = j.name !== null ? ` '${j.name}'` : '';
  const attempt = j.attempt !== null ? ` (attempt ${j.attempt})` : '';
  const d = j.data as Record<string, unknown> | null;
  let detail = '';
  if (d !== null && typeof d === 'object') {
    if ('value' in d) detail = ` -> ${JSON.stringify(d.value)}`;
    else if ('error' in d) detail = ` !! ${typeof d.error === 'string' ? d.error : JSON.stringify((d.error as { message?: string }).message ?? d.error)}`;
    else if ('message' in d) detail = ` !! ${String(d.message)}`;
    else detail = ` ${JSON.stringify(d)}`;
  }
  return `${j.kind}${name}${attempt}${detail}`;
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
  const parts: string[] = [];
  if (r.wakeAt !== null) parts.push(`timer ${time(r.wakeAt)}`);
  for (const n of r.waitingFor) parts.push(`signal '${n}'`);
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
