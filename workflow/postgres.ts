// The Postgres store (`pg`): runs, journal and inbox in three tables of one schema, shared by
// any number of workers on any number of machines.
//
// - Claiming: a worker takes runs that can make progress with one statement
//   (`SELECT ... FOR UPDATE SKIP LOCKED` + `UPDATE ... SET owner, lease = lease + 1, lease_until`),
//   so two workers never claim the same run, and a crashed worker's runs become claimable
//   when their lease expires (database clock).
// - Fencing: every write of a claimed run carries (worker, lease number) and changes nothing
//   unless the run is still leased to that worker under that number: a worker that stalled
//   past its lease, whose run another worker took over, cannot write a checkpoint any more.
// - Atomicity: each write the engine makes at a blocking point is one statement (data-modifying
//   CTEs: the run row, its journal entries, the consumed inbox rows, the parent's inbox row),
//   or one transaction for a settle pass: a crash leaves the old state or the new one.
// - Waking: starts, signals, cancels, retries, a child's end and released leases NOTIFY the
//   schema's channel; workers LISTEN on it (engine.work()).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as PG from 'pg';
import { WorkflowError } from './errors.js';
import {
  childSignal, ENDED, LOST, type CancelState, type Checkpoint, type Claimed, type ClaimRequest, type EngineStore, type Ending,
  type Fence, type InboxRow, type JournalEntry, type ListFilter, type Lost, type NewRun, type RunRecord, type StoredJournalEntry, type Write,
} from './store.js';
import { parseOr, toRecord } from './rows.js';

export interface PostgresStoreOptions {
  /** The Postgres schema that holds the tables (created if missing); default 'stackless'. */
  schema?: string;
  /** Connections of the pool this store creates from a connection string (default 10). */
  poolSize?: number;
}

export const PG_SCHEMA_VERSION = 1;

type Row = Record<string, unknown>;
type Queryable = Pick<PG.Pool, 'query'> | PG.PoolClient;

/**
 * A Postgres store from a connection string (the store creates and closes its pool) or a
 * `pg.Pool` (yours: close() leaves it open). The tables are created on first use.
 */
export function postgresStore(connection: string | PG.Pool, options: PostgresStoreOptions = {}): PostgresStore {
  return new PostgresStore(connection, options);
}

const NOW = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
const COLS = 'id, fn, fp, status, input, snapshot, wake_at, waiting_for, cancel, result, error, frames, steps, checkpoints, created_at, updated_at, parent, owner, lease_until';

function loadPg(): typeof PG {
  // loaded on first use: importing stackless/workflow never needs pg
  return createRequire(import.meta.url)('pg') as typeof PG;
}

export class PostgresStore implements EngineStore {
  readonly kind = 'postgres';
  readonly leases = true;
  readonly pool: PG.Pool;
  readonly schema: string;
  /** The NOTIFY channel of this schema. */
  readonly channel: string;
  private readonly ownsPool: boolean;
  private ready: Promise<void> | null = null;
  private readonly types: PG.CustomTypesConfig;
  private closed = false;
  private readonly where: string;

  constructor(connection: string | PG.Pool, options: PostgresStoreOptions = {}) {
    const schema = options.schema ?? 'stackless';
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(schema)) {
      throw new WorkflowError('BAD_ARGUMENT', `postgresStore: schema must be a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(schema)}`);
    }
    this.schema = schema;
    this.channel = `${schema}_workflows`;
    const pg = loadPg();
    if (typeof connection === 'string') {
      this.pool = new pg.Pool({ connectionString: connection, max: options.poolSize ?? 10 });
      this.ownsPool = true;
      this.where = describe(connection);
    } else if (connection !== null && typeof connection === 'object' && typeof (connection as PG.Pool).connect === 'function') {
      this.pool = connection;
      this.ownsPool = false;
      this.where = 'the given pg.Pool';
    } else {
      throw new WorkflowError('BAD_ARGUMENT', 'postgresStore() needs a connection string (postgres://user@host:port/db) or a pg.Pool');
    }
    // the pool must not crash the process when an idle connection dies (the server restarted)
    this.pool.on('error', () => {});
    // bigint columns (times in ms, inbox ids, lease numbers) as numbers, for these queries only
    const int8 = (v: string) => Number(v);
    this.types = {
      getTypeParser: ((oid: number, format?: string) => (oid === 20 ? int8 : pg.types.getTypeParser(oid, format as 'text'))) as PG.CustomTypesConfig['getTypeParser'],
    };
  }

  private t(name: string): string {
    return `${this.schema}.${name}`;
  }

  /** Creates the schema on first use (once per store; concurrent workers serialize on an advisory lock). */
  private setup(): Promise<void> {
    if (this.closed) return Promise.reject(new WorkflowError('CLOSED', 'the Postgres store is closed'));
    if (this.ready === null) {
      this.ready = this.createSchema().catch((e) => {
        this.ready = null;
        if (e instanceof WorkflowError) throw e;
        throw new WorkflowError('STORE', `postgres store: cannot set up schema '${this.schema}' at ${this.where}: ${(e as Error).message}. ` +
          `Check the connection string and that the server is running and accepts this user`, { cause: e });
      });
    }
    return this.ready;
  }

  private async createSchema(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`stackless-workflows:${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.t('meta')} (version integer NOT NULL)`);
      const v = await c.query(`SELECT version FROM ${this.t('meta')}`);
      const version = v.rows.length === 0 ? 0 : Number(v.rows[0].version);
      if (version > PG_SCHEMA_VERSION) {
        throw new WorkflowError('CORRUPT', `postgres schema '${this.schema}' has version ${version}, newer than this stackless understands (${PG_SCHEMA_VERSION})`);
      }
      if (version === 0) {
        await c.query(`
          CREATE TABLE ${this.t('runs')} (
            id text PRIMARY KEY, fn text NOT NULL, fp text NOT NULL, status text NOT NULL, input text NOT NULL, snapshot text,
            wake_at bigint, waiting_for text[], cancel smallint NOT NULL DEFAULT 0, result text, error text, frames text,
            steps integer NOT NULL DEFAULT 0, checkpoints integer NOT NULL DEFAULT 0,
            created_at bigint NOT NULL, updated_at bigint NOT NULL, seq bigserial, parent text,
            owner text, lease bigint NOT NULL DEFAULT 0, lease_until bigint) WITH (fillfactor = 70);
          -- no index on a column a step checkpoint changes (updated_at, snapshot, steps...): with room
          -- left on the page (fillfactor), the update of a checkpoint is a HOT update, no index written
          CREATE INDEX runs_live ON ${this.t('runs')} (seq) WHERE status IN ('running', 'waiting');
          CREATE INDEX runs_status ON ${this.t('runs')} (status, created_at, seq);
          CREATE INDEX runs_owner ON ${this.t('runs')} (owner) WHERE owner IS NOT NULL;
          CREATE TABLE ${this.t('journal')} (
            seq bigserial PRIMARY KEY, run_id text NOT NULL, at bigint NOT NULL, kind text NOT NULL, name text, attempt integer, data text);
          CREATE INDEX journal_run ON ${this.t('journal')} (run_id, seq);
          CREATE TABLE ${this.t('inbox')} (
            id bigserial PRIMARY KEY, run_id text NOT NULL, name text NOT NULL, value text NOT NULL, at bigint NOT NULL);
          CREATE INDEX inbox_run ON ${this.t('inbox')} (run_id, id);
          INSERT INTO ${this.t('meta')} (version) VALUES (${PG_SCHEMA_VERSION});`);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  private async q(text: string, values: unknown[] = [], on: Queryable = this.pool): Promise<Row[]> {
    if (this.ready === null || this.closed) await this.setup();
    else await this.ready;
    // the engine's statements are few and fixed: prepared once per connection, by name
    // named by a hash of the text: two stores on one pg.Pool give one statement one name
    let name = this.names.get(text);
    if (name === undefined) this.names.set(text, (name = `stackless_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`));
    return (await on.query({ name, text, values, types: this.types })).rows as Row[];
  }
  private readonly names = new Map<string, string>();

  /** Runs `fn` in one transaction on one connection. */
  private async tx<T>(fn: (c: PG.PoolClient) => Promise<T>): Promise<T> {
    await this.setup();
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  /** The statement part that inserts journal entries $j..$j+3 of run $id at $at, when CTE `u` has a row. */
  private journalSql(id: string, at: string, j: number, guard = 'EXISTS (SELECT 1 FROM u)'): string {
    return `INSERT INTO ${this.t('journal')} (run_id, at, kind, name, attempt, data)
      SELECT ${id}, ${at}, x.k, x.n, x.a, x.d FROM unnest($${j}::text[], $${j + 1}::text[], $${j + 2}::int[], $${j + 3}::text[])
      WITH ORDINALITY AS x(k, n, a, d, o) WHERE ${guard} ORDER BY x.o`;
  }

  async createRun(run: NewRun, j: JournalEntry): Promise<boolean> {
    const rows = await this.q(
      `WITH ins AS (INSERT INTO ${this.t('runs')} (id, fn, fp, status, input, snapshot, created_at, updated_at, parent)
          VALUES ($1, $2, $3, 'running', $4, $4, $5, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id),
        j AS (${this.journalSql('(SELECT id FROM ins)', '$5', 7, 'EXISTS (SELECT 1 FROM ins)')})
      SELECT pg_notify($11, id) FROM ins`,
      [run.id, run.fn, run.fp, run.input, Date.now(), run.parent ?? null, ...journalArrays([j]), this.channel],
    );
    return rows.length === 1;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const rows = await this.q(`SELECT ${COLS} FROM ${this.t('runs')} WHERE id = $1`, [id]);
    return rows.length === 0 ? undefined : record(rows[0]);
  }

  async listRuns(filter: ListFilter = {}): Promise<RunRecord[]> {
    const limit = filter.limit ?? null;
    const rows = filter.status !== undefined
      ? await this.q(`SELECT ${COLS} FROM ${this.t('runs')} WHERE status = $1 ORDER BY created_at, seq LIMIT $2`, [filter.status, limit])
      : await this.q(`SELECT ${COLS} FROM ${this.t('runs')} ORDER BY created_at, seq LIMIT $1`, [limit]);
    // one unreadable row must not hide the others: it is listed as failed, with why
    return rows.map((r) => {
      try {
        return record(r);
      } catch (e) {
        return { ...record({ ...r, status: 'failed', waiting_for: null }), corrupt: (e as Error).message };
      }
    });
  }

  async journal(id: string): Promise<StoredJournalEntry[]> {
    const rows = await this.q(`SELECT seq, at, kind, name, attempt, data FROM ${this.t('journal')} WHERE run_id = $1 ORDER BY seq`, [id]);
    return rows.map((r) => ({
      seq: r.seq as number,
      at: r.at as number,
      kind: r.kind as string,
      name: (r.name as string | null) ?? null,
      attempt: (r.attempt as number | null) ?? null,
      data: r.data === null ? null : parseOr(r.data as string),
    }));
  }

  /** The row of a run that must exist and not have ended, locked for the transaction. */
  private async live(c: PG.PoolClient, id: string, what: string): Promise<Row> {
    const rows = await this.q(`SELECT id, status, cancel, snapshot FROM ${this.t('runs')} WHERE id = $1 FOR UPDATE`, [id], c);
    if (rows.length === 0) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
    const r = rows[0];
    if (ENDED.has(r.status as string)) throw new WorkflowError('RUN_ENDED', `cannot ${what} run '${id}': it has ${r.status === 'finished' ? 'finished' : `ended (${String(r.status)})`}`);
    return r;
  }

  addSignal(id: string, name: string, value: string): Promise<number> {
    return this.tx(async (c) => {
      await this.live(c, id, 'signal');
      const rows = await this.q(`INSERT INTO ${this.t('inbox')} (run_id, name, value, at) VALUES ($1, $2, $3, $4) RETURNING id`, [id, name, value, Date.now()], c);
      await c.query(`SELECT pg_notify($1, $2)`, [this.channel, id]);
      return rows[0].id as number;
    });
  }

  requestCancel(id: string): Promise<void> {
    return this.tx(async (c) => {
      const r = await this.live(c, id, 'cancel');
      if (Number(r.cancel) !== 0) return;
      const at = Date.now();
      await c.query(`UPDATE ${this.t('runs')} SET cancel = 1, updated_at = $2 WHERE id = $1`, [id, at]);
      await c.query(`INSERT INTO ${this.t('journal')} (run_id, at, kind) VALUES ($1, $2, 'cancel')`, [id, at]);
      await c.query(`SELECT pg_notify($1, $2)`, [this.channel, id]);
    });
  }

  retry(id: string): Promise<void> {
    return this.tx(async (c) => {
      const rows = await this.q(`SELECT status, snapshot FROM ${this.t('runs')} WHERE id = $1 FOR UPDATE`, [id], c);
      if (rows.length === 0) throw new WorkflowError('UNKNOWN_RUN', `no workflow run with id '${id}'`);
      const r = rows[0];
      const at = Date.now();
      const fromCheckpoint = r.status === 'failed' && r.snapshot !== null;
      if (fromCheckpoint) {
        await c.query(`UPDATE ${this.t('runs')} SET status = 'running', error = NULL, result = NULL, owner = NULL, lease_until = NULL, updated_at = $2 WHERE id = $1`, [id, at]);
      } else if (r.status === 'cancelled' || r.status === 'failed') {
        await c.query(`UPDATE ${this.t('runs')} SET status = 'running', snapshot = input, error = NULL, result = NULL, cancel = 0, frames = NULL,
          steps = 0, owner = NULL, lease_until = NULL, updated_at = $2 WHERE id = $1`, [id, at]);
      } else {
        throw new WorkflowError('NOT_RETRYABLE', `cannot retry run '${id}': it is ${String(r.status)} (only failed or cancelled runs can be retried)`);
      }
      await c.query(`INSERT INTO ${this.t('journal')} (run_id, at, kind, data) VALUES ($1, $2, 'retried', $3)`,
        [id, at, JSON.stringify({ from: fromCheckpoint ? 'last checkpoint' : 'start' })]);
      await c.query(`SELECT pg_notify($1, $2)`, [this.channel, id]);
    });
  }

  async claim(req: ClaimRequest): Promise<Claimed[]> {
    const rows = await this.q(
      `WITH c AS (
         SELECT r.id FROM ${this.t('runs')} r
         WHERE r.status IN ('running', 'waiting') AND r.fn = ANY($1::text[]) AND NOT (r.id = ANY($2::text[]))
           AND (r.owner IS NULL OR r.lease_until < ${NOW})
           AND (r.status = 'running' OR r.wake_at <= $3 OR r.cancel = 1
                OR EXISTS (SELECT 1 FROM ${this.t('inbox')} i WHERE i.run_id = r.id AND i.name = ANY(r.waiting_for)))
         ORDER BY r.seq LIMIT $4
         FOR UPDATE SKIP LOCKED)
       UPDATE ${this.t('runs')} r SET owner = $5, lease = r.lease + 1, lease_until = ${NOW} + $6
       FROM c WHERE r.id = c.id
       RETURNING r.id, r.fn, r.fp, r.status, r.snapshot, r.cancel, r.lease, r.parent`,
      [req.fns, req.exclude, req.now, req.limit, req.worker, req.leaseMs],
    );
    return rows.map((r) => ({
      id: r.id as string, fn: r.fn as string, fp: r.fp as string, status: r.status as 'running' | 'waiting',
      snapshot: r.snapshot as string | null, cancel: Number(r.cancel) as CancelState, lease: r.lease as number, parent: (r.parent as string | null) ?? null,
    }));
  }

  async inboxOf(ids: string[]): Promise<Map<string, InboxRow[]>> {
    const m = new Map<string, InboxRow[]>();
    for (const id of ids) m.set(id, []);
    if (ids.length === 0) return m;
    const rows = await this.q(`SELECT id, run_id, name, value FROM ${this.t('inbox')} WHERE run_id = ANY($1::text[]) ORDER BY id`, [ids]);
    for (const r of rows) m.get(r.run_id as string)!.push({ id: r.id as number, name: r.name as string, value: r.value as string });
    return m;
  }

  async pendingSignals(id: string): Promise<InboxRow[]> {
    return (await this.inboxOf([id])).get(id)!;
  }

  async nextWakeFor(worker: string): Promise<number | null> {
    const rows = await this.q(
      `SELECT LEAST(
         (SELECT min(wake_at) FROM ${this.t('runs')} WHERE status = 'waiting' AND owner IS NULL),
         (SELECT min(lease_until) FROM ${this.t('runs')} WHERE owner IS NOT NULL AND owner <> $1)) AS at`,
      [worker],
    );
    return (rows[0].at as number | null) ?? null;
  }

  private checkpointSql(): string {
    // $1 id, $2 status, $3 snapshot, $4 frames, $5 wake_at, $6 waiting_for, $7 steps, $8 cancel delivered, $9 at,
    // $10 worker, $11 lease, $12 consumed inbox ids, $13-$16 journal, $17 channel
    // A parking run gives its lease back, unless a cancel requested meanwhile makes it run on here.
    const releases = `$2 = 'waiting' AND NOT (cancel = 1 AND NOT $8)`;
    return `WITH u AS (
        UPDATE ${this.t('runs')} SET status = $2, snapshot = $3, frames = $4, wake_at = $5, waiting_for = $6, steps = steps + $7,
          cancel = CASE WHEN $8 AND cancel = 1 THEN 2 ELSE cancel END, checkpoints = checkpoints + 1, updated_at = $9,
          owner = CASE WHEN ${releases} THEN NULL ELSE owner END,
          lease_until = CASE WHEN ${releases} THEN NULL ELSE lease_until END
        WHERE id = $1 AND ($10::text IS NULL OR (owner = $10 AND lease = $11)) RETURNING cancel, owner),
      d AS (DELETE FROM ${this.t('inbox')} WHERE id = ANY($12::bigint[]) AND EXISTS (SELECT 1 FROM u)),
      j AS (${this.journalSql('$1', '$9', 13)})
      SELECT cancel, CASE WHEN owner IS NULL AND EXISTS (SELECT 1 FROM ${this.t('inbox')} i
          WHERE i.run_id = $1 AND i.name = ANY($6::text[]) AND NOT (i.id = ANY($12::bigint[]))) THEN pg_notify($17, $1) END AS woke
      FROM u`;
  }

  private checkpointArgs(c: Checkpoint): unknown[] {
    return [
      c.id, c.status, c.snapshot, c.frames, c.wakeAt, c.waitingFor.length === 0 ? null : c.waitingFor, c.steps, c.cancelDelivered, Date.now(),
      c.fence?.worker ?? null, c.fence?.lease ?? 0, c.consumed, ...journalArrays(c.journal), this.channel,
    ];
  }

  private endSql(): string {
    // $1 id, $2 status, $3 result, $4 error, $5 keep snapshot, $6 at, $7 worker, $8 lease, $9 parent inbox name prefix,
    // $10 the value posted to the parent, $11-$14 journal, $15 channel
    return `WITH u AS (
        UPDATE ${this.t('runs')} SET status = $2, result = $3, error = $4, snapshot = CASE WHEN $5 THEN snapshot ELSE NULL END,
          frames = NULL, wake_at = NULL, waiting_for = NULL, owner = NULL, lease_until = NULL, updated_at = $6
        WHERE id = $1 AND ($7::text IS NULL OR (owner = $7 AND lease = $8)) RETURNING id, parent),
      di AS (DELETE FROM ${this.t('inbox')} WHERE run_id = $1 AND $2 <> 'failed' AND EXISTS (SELECT 1 FROM u)),
      p AS (INSERT INTO ${this.t('inbox')} (run_id, name, value, at) SELECT parent, $9 || id, $10, $6 FROM u WHERE parent IS NOT NULL RETURNING run_id),
      j AS (${this.journalSql('$1', '$6', 11)})
      SELECT 1 AS ok, (SELECT pg_notify($15, run_id) FROM p) AS woke FROM u`;
  }

  private endArgs(e: Ending): unknown[] {
    return [
      e.id, e.status, e.result, e.error, e.keepSnapshot, Date.now(), e.fence?.worker ?? null, e.fence?.lease ?? 0, childSignal(''),
      JSON.stringify({ status: e.status, result: e.result, error: e.error }), ...journalArrays(e.journal), this.channel,
    ];
  }

  /**
   * The checkpoint of a completed step. Checkpoints that arrive while earlier ones are being
   * written are queued and written together by one statement (group commit): one round trip and
   * one commit for many runs, each row still fenced by its own lease.
   */
  checkpointRun(c: Checkpoint): Promise<CancelState | Lost> {
    if (c.status !== 'running' || c.waitingFor.length > 0 || c.wakeAt !== null || c.fence == null) {
      return this.q(this.checkpointSql(), this.checkpointArgs(c)).then((rows) => (rows.length === 0 ? LOST : (Number(rows[0].cancel) as CancelState)));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ c, resolve, reject });
      this.flush();
    });
  }

  private readonly queue: Array<{ c: Checkpoint; resolve: (r: CancelState | Lost) => void; reject: (e: unknown) => void }> = [];
  private flushing = 0;

  private flush(): void {
    // one batch in flight per store: what completes meanwhile waits and goes in the next one
    // (measured: fewer, bigger batches cost the server less than 2 or 4 in flight)
    while (this.queue.length > 0 && this.flushing < 1) {
      const batch = this.queue.splice(0, 200);
      this.flushing++;
      this.writeSteps(batch.map((b) => b.c)).then(
        (results) => batch.forEach((b, i) => b.resolve(results[i])),
        (e) => batch.forEach((b) => b.reject(e)),
      ).finally(() => {
        this.flushing--;
        this.flush();
      });
    }
  }

  /**
   * Step checkpoints of many runs (status running, no wait) in one statement. The batch goes as
   * one JSON parameter (JSON.stringify is native; pg's escaping of text arrays is not).
   */
  private async writeSteps(cs: Checkpoint[]): Promise<Array<CancelState | Lost>> {
    const at = Date.now();
    const runs = cs.map((c) => ({ id: c.id, s: c.snapshot, f: c.frames, n: c.steps, k: c.cancelDelivered, w: c.fence!.worker, l: c.fence!.lease }));
    const journal: Array<{ r: string; k: string; n: string | null; a: number | null; d: string | null }> = [];
    for (const c of cs) {
      for (const e of c.journal) journal.push({ r: c.id, k: e.kind, n: e.name ?? null, a: e.attempt ?? null, d: e.data === undefined ? null : JSON.stringify(e.data) });
    }
    const rows = await this.retrying(() => this.q(
      `WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(id text, s text, f text, n int, k boolean, w text, l bigint)),
        u AS (
          UPDATE ${this.t('runs')} r SET status = 'running', snapshot = x.s, frames = x.f, wake_at = NULL, waiting_for = NULL,
            steps = r.steps + x.n, cancel = CASE WHEN x.k AND r.cancel = 1 THEN 2 ELSE r.cancel END,
            checkpoints = r.checkpoints + 1, updated_at = $2
          FROM x WHERE r.id = x.id AND r.owner = x.w AND r.lease = x.l RETURNING r.id, r.cancel),
        d AS (DELETE FROM ${this.t('inbox')} WHERE id = ANY($3::bigint[]) AND run_id IN (SELECT id FROM u)),
        j AS (INSERT INTO ${this.t('journal')} (run_id, at, kind, name, attempt, data)
          SELECT y.r, $2, y.k, y.n, y.a, y.d
          FROM ROWS FROM (json_to_recordset($4::json) AS (r text, k text, n text, a int, d text)) WITH ORDINALITY AS y(r, k, n, a, d, o)
          WHERE y.r IN (SELECT id FROM u) ORDER BY y.o)
      SELECT id, cancel FROM u`,
      [JSON.stringify(runs), at, cs.flatMap((c) => c.consumed), JSON.stringify(journal)],
    ));
    const got = new Map(rows.map((r) => [r.id as string, Number(r.cancel) as CancelState]));
    return cs.map((c) => got.get(c.id) ?? LOST);
  }

  async commit(writes: Write[]): Promise<Array<CancelState | Lost>> {
    const one = async (w: Write, on: Queryable): Promise<CancelState | Lost> => {
      if (w.checkpoint !== undefined) {
        const rows = await this.q(this.checkpointSql(), this.checkpointArgs(w.checkpoint), on);
        return rows.length === 0 ? LOST : (Number(rows[0].cancel) as CancelState);
      }
      const rows = await this.q(this.endSql(), this.endArgs(w.end), on);
      return rows.length === 0 ? LOST : 0;
    };
    if (writes.length === 1) return [await one(writes[0], this.pool)];
    // One commit for the pass; each write is fenced on its own (a lost one changes nothing).
    // Rows are written in id order, as renew() locks them, so two transactions never wait on each other in a cycle.
    const idOf = (w: Write) => (w.checkpoint !== undefined ? w.checkpoint.id : w.end.id);
    const order = writes.map((_, i) => i).sort((a, b) => (idOf(writes[a]) < idOf(writes[b]) ? -1 : idOf(writes[a]) > idOf(writes[b]) ? 1 : 0));
    return this.retrying(() => this.tx(async (c) => {
      const out: Array<CancelState | Lost> = new Array(writes.length);
      for (const i of order) out[i] = await one(writes[i], c);
      return out;
    }));
  }

  async failRun(id: string, error: string, j: JournalEntry, fence: Fence | null): Promise<boolean> {
    const rows = await this.q(
      `WITH u AS (
          UPDATE ${this.t('runs')} SET status = 'failed', error = $2, wake_at = NULL, waiting_for = NULL, owner = NULL, lease_until = NULL, updated_at = $3
          WHERE id = $1 AND ($4::text IS NULL OR (owner = $4 AND lease = $5)) RETURNING id, parent),
        p AS (INSERT INTO ${this.t('inbox')} (run_id, name, value, at) SELECT parent, $6 || id, $7, $3 FROM u WHERE parent IS NOT NULL RETURNING run_id),
        j AS (${this.journalSql('$1', '$3', 8)})
       SELECT 1 AS ok, (SELECT pg_notify($12, run_id) FROM p) AS woke FROM u`,
      [id, error, Date.now(), fence?.worker ?? null, fence?.lease ?? 0, childSignal(''), JSON.stringify({ status: 'failed', result: null, error }),
        ...journalArrays([j]), this.channel],
    );
    return rows.length === 1;
  }

  async appendJournalFenced(id: string, entries: JournalEntry[], fence: Fence | null): Promise<void> {
    await this.q(
      `WITH u AS (SELECT 1 FROM ${this.t('runs')} WHERE id = $1 AND ($3::text IS NULL OR (owner = $3 AND lease = $4)))
       ${this.journalSql('$1', '$2', 5)}`,
      [id, Date.now(), fence?.worker ?? null, fence?.lease ?? 0, ...journalArrays(entries)],
    );
  }

  /** A transaction the server rolled back for a deadlock or a serialization failure is run again (a few times). */
  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt >= 5 || (code !== '40P01' && code !== '40001')) throw e;
        await new Promise((r) => setTimeout(r, attempt * 5 * Math.random()));
      }
    }
  }

  async renew(worker: string, ids: string[], leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    // locks the rows in id order, like commit()
    const rows = await this.retrying(() => this.q(
      `UPDATE ${this.t('runs')} SET lease_until = ${NOW} + $3
       WHERE id IN (SELECT id FROM ${this.t('runs')} WHERE owner = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE)
       RETURNING id`,
      [worker, ids, leaseMs],
    ));
    return rows.map((r) => r.id as string);
  }

  async release(worker: string, ids?: string[]): Promise<void> {
    await this.q(
      `WITH u AS (UPDATE ${this.t('runs')} SET owner = NULL, lease_until = NULL WHERE owner = $1 AND ($2::text[] IS NULL OR id = ANY($2::text[])) RETURNING id)
       SELECT pg_notify($3, id) FROM u`,
      [worker, ids ?? null, this.channel],
    );
  }

  async listen(onWake: () => void): Promise<() => Promise<void>> {
    await this.setup();
    const c = await this.pool.connect();
    const handler = (m: PG.Notification) => {
      if (m.channel === this.channel) onWake();
    };
    let broken = false;
    const onError = () => {
      broken = true; // the worker falls back on polling
    };
    c.on('notification', handler);
    c.on('error', onError);
    await c.query(`LISTEN ${this.channel}`);
    return async () => {
      c.off('notification', handler);
      if (!broken) await c.query(`UNLISTEN ${this.channel}`).catch(() => {});
      c.off('error', onError);
      c.release(broken);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }
}

function journalArrays(js: JournalEntry[]): [string[], Array<string | null>, Array<number | null>, Array<string | null>] {
  return [
    js.map((j) => j.kind),
    js.map((j) => j.name ?? null),
    js.map((j) => j.attempt ?? null),
    js.map((j) => (j.data === undefined ? null : JSON.stringify(j.data))),
  ];
}

/** A runs row: waiting_for is a text[] column. */
function record(r: Row): RunRecord {
  return toRecord(r, (r.waiting_for as string[] | null) ?? []);
}

/** host:port/db of a connection string, without the password, for messages. */
function describe(connection: string): string {
  try {
    const u = new URL(connection);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the given connection string';
  }
}
