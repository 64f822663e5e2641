// The embedded store: one SQLite file through better-sqlite3 (synchronous, so a checkpoint
// is one call with no await between the snapshot and its commit). WAL journal with
// synchronous=NORMAL: a commit survives a killed process (not a power cut of the machine,
// which would need FULL); BEGIN IMMEDIATE for every write transaction.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { WorkflowError } from './errors.js';
import {
  childSignal, ENDED, STATUSES, type CancelState, type Checkpoint, type Claimed, type ClaimRequest, type EngineStore, type Ending,
  type Fence, type InboxRow, type JournalEntry, type ListFilter, type LoadState, type Lost, type NewRun, type RunRecord, type Store,
  type StoredJournalEntry, type Write,
} from './store.js';
import { parseOr, toRecord } from './rows.js';
import { MIGRATE_1_TO_2, SCHEMA, SCHEMA_VERSION } from './schema.js';

type Db = BetterSqlite3.Database;
type Row = Record<string, unknown>;

/** Default file of createEngine() without a store. */
export const DEFAULT_DB = '.stackless/workflows.db';

/** The embedded SQLite store at `path` (created with its folder if missing; ':memory:' for tests). */
export function sqliteStore(path: string = DEFAULT_DB): SqliteStore {
  return new SqliteStore(path);
}

function openDb(path: string): Db {
  // Loaded on first use, so importing stackless/workflow never needs the native module.
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new WorkflowError('CORRUPT', `${path}: schema version ${version} is newer than this stackless understands (${SCHEMA_VERSION})`);
  }
  if (version < SCHEMA_VERSION) {
    if (version === 1) db.exec(MIGRATE_1_TO_2);
    else db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }
  return db;
}

export class SqliteStore implements Store, EngineStore {
  readonly kind = 'sqlite';
  /** No leases: one draining process per file. */
  readonly leases = false;
  readonly db: Db;
  private readonly q: ReturnType<typeof prepare>;
  private readonly tx: {
    checkpoint: (c: Checkpoint) => CancelState;
    end: (e: Ending) => void;
    fail: (id: string, error: string, j: JournalEntry) => void;
    create: (r: NewRun, j: JournalEntry) => boolean;
    signal: (id: string, name: string, value: string) => number;
    cancel: (id: string) => void;
    retry: (id: string) => void;
    append: (id: string, js: JournalEntry[]) => void;
  };

  constructor(readonly path: string) {
    this.db = openDb(path);
    const q = (this.q = prepare(this.db));
    const now = () => Date.now();
    const journal = (id: string, js: JournalEntry[], at: number) => {
      for (const j of js) q.journal.run(id, at, j.kind, j.name ?? null, j.attempt ?? null, j.data === undefined ? null : JSON.stringify(j.data));
    };
    // a child's end goes to its parent's inbox, in the transaction that ends the child
    const notifyParent = (id: string, status: string, result: string | null, error: string | null, at: number) => {
      const r = q.parentOf.get(id) as Row | undefined;
      if (r !== undefined && r.parent !== null) q.addSignal.run(r.parent, childSignal(id), JSON.stringify({ status, result, error }), at);
    };
    const consume = (ids: number[]) => {
      for (const i of ids) q.consume.run(i);
    };
    const live = (id: string, what: string): Row => {
      const r = q.get.get(id) as Row | undefined;
      if (r === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
      if (ENDED.has(r.status as string)) throw new WorkflowError('RUN_ENDED', `cannot ${what} run '${id}': it has ${r.status === 'finished' ? 'finished' : `ended (${r.status})`}`);
      return r;
    };
    const t = <A extends unknown[], R>(fn: (...a: A) => R) => {
      const f = this.db.transaction(fn);
      return (...a: A): R => f.immediate(...a);
    };
    this.tx = {
      checkpoint: t((c: Checkpoint): CancelState => {
        const at = now();
        const r = q.checkpoint.get(c.status, c.snapshot, c.frames, c.wakeAt, names(c.waitingFor), c.steps, c.cancelDelivered ? 1 : 0, at, c.id) as Row | undefined;
        if (r === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${c.id}' (deleted while it ran?)`);
        consume(c.consumed);
        journal(c.id, c.journal, at);
        return r.cancel as CancelState;
      }),
      end: t((e: Ending) => {
        const at = now();
        q.end.run(e.status, e.result, e.error, e.keepSnapshot ? 1 : 0, at, e.id);
        notifyParent(e.id, e.status, e.result, e.error, at);
        // A failed run keeps its inbox: retry() resumes its last checkpoint, which has not
        // consumed the signals delivered since. Otherwise nobody can receive them any more.
        if (e.status !== 'failed') q.dropInbox.run(e.id);
        journal(e.id, e.journal, at);
      }),
      fail: t((id: string, error: string, j: JournalEntry) => {
        const at = now();
        q.fail.run(error, at, id);
        notifyParent(id, 'failed', null, error, at);
        journal(id, [j], at);
      }),
      create: t((r: NewRun, j: JournalEntry): boolean => {
        const at = now();
        if (q.create.run(r.id, r.fn, r.fp, r.input, r.input, at, at, r.parent ?? null).changes === 0) return false;
        journal(r.id, [j], at);
        return true;
      }),
      signal: t((id: string, name: string, value: string): number => {
        live(id, 'signal');
        return Number(q.addSignal.run(id, name, value, now()).lastInsertRowid);
      }),
      cancel: t((id: string) => {
        const r = live(id, 'cancel');
        if (r.cancel !== 0) return;
        const at = now();
        q.requestCancel.run(at, id);
        journal(id, [{ kind: 'cancel' }], at);
      }),
      retry: t((id: string) => {
        const r = q.get.get(id) as Row | undefined;
        if (r === undefined) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
        const at = now();
        if (r.status === 'failed' && r.snapshot !== null) q.retryFailed.run(at, id);
        else if (r.status === 'cancelled' || r.status === 'failed') q.retryFromStart.run(at, id);
        else throw new WorkflowError('NOT_RETRYABLE', `cannot retry run '${id}': it is ${r.status} (only failed or cancelled runs can be retried)`);
        journal(id, [{ kind: 'retried', data: { from: r.status === 'failed' && r.snapshot !== null ? 'last checkpoint' : 'start' } }], at);
      }),
      append: t((id: string, js: JournalEntry[]) => journal(id, js, now())),
    };
  }

  createRun(run: NewRun, j: JournalEntry): boolean {
    return this.tx.create(run, j);
  }
  getRun(id: string): RunRecord | undefined {
    const r = this.q.get.get(id) as Row | undefined;
    return r === undefined ? undefined : record(r);
  }
  loadState(id: string): LoadState | undefined {
    const r = this.q.loadState.get(id) as Row | undefined;
    if (r === undefined) return undefined;
    if (!(STATUSES as readonly string[]).includes(r.status as string)) record(r); // throws CORRUPT
    return r as unknown as LoadState;
  }
  listRuns(filter: ListFilter = {}): RunRecord[] {
    const limit = filter.limit ?? -1;
    const rows = (filter.status !== undefined ? this.q.listStatus.all(filter.status, limit) : this.q.list.all(limit)) as Row[];
    // one unreadable row must not hide the others: it is listed as failed, with why
    return rows.map((r) => {
      try {
        return record(r);
      } catch (e) {
        return { ...record({ ...r, status: 'failed', waiting_for: null }), corrupt: (e as Error).message };
      }
    });
  }
  dueRuns(now: number, limit: number): string[] {
    return (this.q.due.all({ now, limit }) as Row[]).map((r) => r.id as string);
  }
  nextWake(): number | null {
    return ((this.q.nextWake.get() as Row).at as number | null) ?? null;
  }
  checkpoint(c: Checkpoint): CancelState {
    return this.tx.checkpoint(c);
  }
  end(e: Ending): void {
    this.tx.end(e);
  }
  fail(id: string, error: string, j: JournalEntry): void {
    this.tx.fail(id, error, j);
  }
  appendJournal(id: string, entries: JournalEntry[]): void {
    this.tx.append(id, entries);
  }
  journal(id: string): StoredJournalEntry[] {
    return (this.q.journalOf.all(id) as Row[]).map((r) => ({
      seq: r.seq as number,
      at: r.at as number,
      kind: r.kind as string,
      name: (r.name as string | null) ?? null,
      attempt: (r.attempt as number | null) ?? null,
      data: r.data === null ? null : parseOr(r.data as string),
    }));
  }
  addSignal(id: string, name: string, value: string): number {
    return this.tx.signal(id, name, value);
  }
  pendingSignals(id: string): InboxRow[] {
    return this.q.inbox.all(id) as InboxRow[];
  }
  requestCancel(id: string): void {
    this.tx.cancel(id);
  }
  retry(id: string): void {
    this.tx.retry(id);
  }

  // EngineStore: the engine's calls. No leases here (one draining process per file): fences
  // are ignored, claim() is dueRuns() + loadState(), renew() keeps everything.
  claim(req: ClaimRequest): Claimed[] {
    const exclude = new Set(req.exclude);
    const out: Claimed[] = [];
    for (const id of this.dueRuns(req.now, req.limit + exclude.size)) {
      if (exclude.has(id)) continue;
      if (out.length >= req.limit) break;
      try {
        const s = this.loadState(id);
        if (s !== undefined) out.push({ ...s, lease: 0 });
      } catch (e) {
        out.push({ id, lease: 0, corrupt: (e as Error).message });
      }
    }
    return out;
  }
  inboxOf(ids: string[]): Map<string, InboxRow[]> {
    const m = new Map<string, InboxRow[]>();
    for (const id of ids) m.set(id, this.pendingSignals(id));
    return m;
  }
  nextWakeFor(_worker: string): number | null {
    return this.nextWake();
  }
  checkpointRun(c: Checkpoint): CancelState {
    return this.tx.checkpoint(c);
  }
  commit(writes: Write[]): Array<CancelState | Lost> {
    return this.batch(() => writes.map((w) => (w.checkpoint !== undefined ? this.tx.checkpoint(w.checkpoint) : (this.tx.end(w.end), 0 as const))));
  }
  failRun(id: string, error: string, j: JournalEntry, _fence: Fence | null): boolean {
    this.tx.fail(id, error, j);
    return true;
  }
  appendJournalFenced(id: string, entries: JournalEntry[], _fence: Fence | null): void {
    this.tx.append(id, entries);
  }
  renew(_worker: string, ids: string[]): string[] {
    return ids;
  }
  release(): void {}
  listen(): () => void {
    return () => {};
  }

  batch<T>(fn: () => T): T {
    // nested transactions of better-sqlite3 become savepoints: each run's write stays atomic
    return this.db.inTransaction ? fn() : this.db.transaction(fn).immediate();
  }
  close(): void {
    if (this.db.open) this.db.close();
  }
}

function prepare(db: Db) {
  const cols = 'id, fn, fp, status, input, snapshot, wake_at, waiting_for, cancel, result, error, frames, steps, checkpoints, created_at, updated_at, parent';
  return {
    get: db.prepare(`SELECT ${cols} FROM runs WHERE id = ?`),
    nextWake: db.prepare(`SELECT MIN(wake_at) AS at FROM runs WHERE status = 'waiting'`),
    loadState: db.prepare(`SELECT id, fn, fp, status, snapshot, cancel, parent FROM runs WHERE id = ?`),
    list: db.prepare(`SELECT ${cols} FROM runs ORDER BY created_at, rowid LIMIT ?`),
    listStatus: db.prepare(`SELECT ${cols} FROM runs WHERE status = ? ORDER BY created_at, rowid LIMIT ?`),
    create: db.prepare(`INSERT OR IGNORE INTO runs (id, fn, fp, status, input, snapshot, created_at, updated_at, parent) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)`),
    parentOf: db.prepare(`SELECT parent FROM runs WHERE id = ?`),
    // a run is due when running (new, retried, or left by a crashed worker), or waiting and woken
    due: db.prepare(`SELECT id FROM runs r WHERE r.status = 'running'
      OR (r.status = 'waiting' AND (r.wake_at <= @now OR r.cancel = 1 OR (r.waiting_for IS NOT NULL AND EXISTS
        (SELECT 1 FROM inbox i WHERE i.run_id = r.id AND instr(r.waiting_for, char(10) || i.name || char(10)) > 0))))
      ORDER BY r.updated_at LIMIT @limit`),
    checkpoint: db.prepare(`UPDATE runs SET status = ?, snapshot = ?, frames = ?, wake_at = ?, waiting_for = ?,
      steps = steps + ?, cancel = CASE WHEN ? = 1 AND cancel = 1 THEN 2 ELSE cancel END, checkpoints = checkpoints + 1,
      updated_at = ? WHERE id = ? RETURNING cancel`),
    end: db.prepare(`UPDATE runs SET status = ?, result = ?, error = ?, snapshot = CASE WHEN ? = 1 THEN snapshot ELSE NULL END,
      frames = NULL, wake_at = NULL, waiting_for = NULL, updated_at = ? WHERE id = ?`),
    fail: db.prepare(`UPDATE runs SET status = 'failed', error = ?, wake_at = NULL, waiting_for = NULL, updated_at = ? WHERE id = ?`),
    retryFailed: db.prepare(`UPDATE runs SET status = 'running', error = NULL, result = NULL, updated_at = ? WHERE id = ?`),
    retryFromStart: db.prepare(`UPDATE runs SET status = 'running', snapshot = input, error = NULL, result = NULL, cancel = 0,
      frames = NULL, steps = 0, updated_at = ? WHERE id = ?`),
    requestCancel: db.prepare(`UPDATE runs SET cancel = 1, updated_at = ? WHERE id = ?`),
    journal: db.prepare(`INSERT INTO journal (run_id, at, kind, name, attempt, data) VALUES (?, ?, ?, ?, ?, ?)`),
    journalOf: db.prepare(`SELECT seq, at, kind, name, attempt, data FROM journal WHERE run_id = ? ORDER BY seq`),
    addSignal: db.prepare(`INSERT INTO inbox (run_id, name, value, at) VALUES (?, ?, ?, ?)`),
    inbox: db.prepare(`SELECT id, name, value FROM inbox WHERE run_id = ? ORDER BY id`),
    consume: db.prepare(`DELETE FROM inbox WHERE id = ?`),
    dropInbox: db.prepare(`DELETE FROM inbox WHERE run_id = ?`),
  };
}

function names(ns: string[]): string | null {
  return ns.length === 0 ? null : `\n${ns.join('\n')}\n`;
}

/** A runs row: waiting_for is one text of newline-separated names. */
function record(r: Row): RunRecord {
  const w = r.waiting_for as string | null;
  return toRecord(r, w === null ? [] : w.split('\n').filter((n) => n !== ''));
}
