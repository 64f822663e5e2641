// What the engine needs from a store. Two shapes:
// - `Store`: the synchronous interface of the embedded SQLite store (sqlite.ts, better-sqlite3),
//   also what the CLI reads and writes through.
// - `EngineStore`: what the engine calls. Its methods may return promises (postgres.ts), and it
//   has the calls of many workers: claim runs with a lease, renew it, write fenced by it.
// Every write the engine makes at a blocking point is one call here, and a store makes each
// such call one transaction: a crash leaves either the old state or the new one, never half of each.

export type RunStatus = 'running' | 'waiting' | 'finished' | 'failed' | 'cancelled';
export const STATUSES: readonly RunStatus[] = ['running', 'waiting', 'finished', 'failed', 'cancelled'];
export const ENDED: ReadonlySet<string> = new Set(['finished', 'failed', 'cancelled']);

/** cancel column: 0 none, 1 requested (not yet delivered), 2 delivered (the run is running its finally blocks). */
export type CancelState = 0 | 1 | 2;

export interface RunRecord {
  id: string;
  /** Stable id of the workflow function (module path + name). */
  fn: string;
  /** Its fingerprint when the run started: the run is pinned to it. */
  fp: string;
  status: RunStatus;
  /** Snapshot JSON of the run as started (tasklet not yet run + context), for retry from the start. */
  input: string;
  /** Snapshot JSON of the last checkpoint; null once finished. */
  snapshot: string | null;
  wakeAt: number | null;
  /** Signal names the run is blocked receiving on. */
  waitingFor: string[];
  cancel: CancelState;
  /** Snapshot JSON of [result] once finished. */
  result: string | null;
  /** JSON of a StoredError once failed or cancelled. */
  error: string | null;
  /** JSON of FrameView[]: the stack at the last checkpoint. */
  frames: string | null;
  steps: number;
  checkpoints: number;
  createdAt: number;
  updatedAt: number;
  /** The run that started this one with child() (it waits for this run's end), or null. */
  parent?: string | null;
  /** Postgres store: the worker holding the run's lease, and until when (ms since the epoch, database clock). */
  owner?: string | null;
  leaseUntil?: number | null;
  /** Set (by listRuns only) when the stored row is unreadable: why. */
  corrupt?: string;
}

export type LoadState = Pick<RunRecord, 'id' | 'fn' | 'fp' | 'status' | 'snapshot' | 'cancel' | 'parent'>;

export interface NewRun {
  id: string;
  fn: string;
  fp: string;
  input: string;
  /** The parent run of a child workflow: its end is posted to the parent's inbox. */
  parent?: string | null;
}

/**
 * The right to write a claimed run: the worker and the lease number it got when it claimed the
 * run. A store with leases (Postgres) writes only if the run is still leased to that worker
 * under that number, so a worker that lost its lease (it stalled, another worker took the run
 * over) cannot overwrite the newer state: its write reports LOST. null: no leases (SQLite).
 */
export interface Fence {
  worker: string;
  lease: number;
}

/** What a write that was fenced out returns. */
export const LOST = 'lost' as const;
export type Lost = typeof LOST;

export interface JournalEntry {
  /** started | step | retry | signal | sleep | cancel | retried | finished | failed | cancelled | unloaded */
  kind: string;
  name?: string | null;
  attempt?: number | null;
  /** JSON-safe detail (a preview of a value, an error). */
  data?: unknown;
}

export interface StoredJournalEntry extends Required<Omit<JournalEntry, 'data'>> {
  seq: number;
  at: number;
  data: unknown;
}

export interface Checkpoint {
  id: string;
  status: 'running' | 'waiting';
  snapshot: string;
  frames: string;
  wakeAt: number | null;
  waitingFor: string[];
  /** Steps completed by this checkpoint (added to the row's count). */
  steps: number;
  /** A kill was delivered before this checkpoint: record that (cancel 1 -> 2). */
  cancelDelivered: boolean;
  /** Inbox rows consumed into the saved state: deleted in the same transaction. */
  consumed: number[];
  journal: JournalEntry[];
  fence?: Fence | null;
}

export interface Ending {
  id: string;
  status: 'finished' | 'failed' | 'cancelled';
  result: string | null;
  error: string | null;
  /** Keep the last checkpoint (a failed run can be retried from it) or drop it. */
  keepSnapshot: boolean;
  /** Inbox rows the run consumed (a store may drop all of the run's rows unless it failed). */
  consumed: number[];
  journal: JournalEntry[];
  fence?: Fence | null;
}

/** The inbox name a child's end is posted under in its parent's inbox (users cannot send it: \u0001). */
export function childSignal(childId: string): string {
  return `\u0001child:${childId}`;
}

/** The value posted to the parent: JSON of { status, result, error } (result and error as stored). */
export interface ChildEnd {
  status: 'finished' | 'failed' | 'cancelled';
  result: string | null;
  error: string | null;
}

export interface InboxRow {
  id: number;
  name: string;
  value: string;
}

export type Awaitable<T> = T | Promise<T>;

/** A run a worker claimed: what load() needs, and the lease its writes carry (0 without leases). */
export type Claimed = (LoadState & { lease: number; corrupt?: undefined }) | { id: string; lease: number; corrupt: string };

export interface ClaimRequest {
  worker: string;
  now: number;
  /** At most this many runs. */
  limit: number;
  /** Lease length (stores with leases). */
  leaseMs: number;
  /** Runs not to claim (already loaded here, or skipped). */
  exclude: string[];
  /** Ids of the workflow functions this process has loaded (a store may claim only those). */
  fns: string[];
}

/** One write of a settle pass: the checkpoint of a parking run, or the end of a run. */
export type Write = { checkpoint: Checkpoint; end?: undefined } | { end: Ending; checkpoint?: undefined };

/**
 * The store the engine drives. SqliteStore implements it synchronously, PostgresStore with
 * promises; the engine awaits every call. Writes that carry a fence return LOST when the
 * run's lease is no longer theirs, and write nothing.
 */
export interface EngineStore {
  /** 'sqlite' | 'postgres': stores with leases let many workers drain at once. */
  readonly kind: string;
  /** Many workers may drain this store at the same time (it has leases). */
  readonly leases: boolean;
  createRun(run: NewRun, journal: JournalEntry): Awaitable<boolean>;
  getRun(id: string): Awaitable<RunRecord | undefined>;
  listRuns(filter?: ListFilter): Awaitable<RunRecord[]>;
  journal(id: string): Awaitable<StoredJournalEntry[]>;
  addSignal(id: string, name: string, value: string): Awaitable<number>;
  requestCancel(id: string): Awaitable<void>;
  retry(id: string): Awaitable<void>;
  /** Claims runs that can make progress now (see dueRuns), leasing them to `worker` where the store has leases. */
  claim(req: ClaimRequest): Awaitable<Claimed[]>;
  /** Pending inbox rows of each of `ids`. */
  inboxOf(ids: string[]): Awaitable<Map<string, InboxRow[]>>;
  /** The earliest moment something may become due: a sleep's deadline, another worker's lease expiring. */
  nextWakeFor(worker: string): Awaitable<number | null>;
  /** The checkpoint of a run whose step completed: the cancel column read back, or LOST. */
  checkpointRun(c: Checkpoint): Awaitable<CancelState | Lost>;
  /** The writes of one settle pass (each atomic on its own): per write the cancel column (0 for an end) or LOST. */
  commit(writes: Write[]): Awaitable<Array<CancelState | Lost>>;
  /** Marks a run failed, keeping its snapshot; false if fenced out. */
  failRun(id: string, error: string, journal: JournalEntry, fence: Fence | null): Awaitable<boolean>;
  /** Journal entries outside a checkpoint (a step's retry, a failed step); dropped if fenced out. */
  appendJournalFenced(id: string, entries: JournalEntry[], fence: Fence | null): Awaitable<void>;
  /** Extends the leases of `ids` held by `worker`; returns the ids it still holds. */
  renew(worker: string, ids: string[], leaseMs: number): Awaitable<string[]>;
  /** Gives up `worker`'s leases (of `ids`, or all of them): other workers may take the runs over at once. */
  release(worker: string, ids?: string[]): Awaitable<void>;
  /** Calls `onWake` when another process starts, signals, cancels or retries a run; returns the unsubscribe. */
  listen(onWake: () => void): Awaitable<() => Awaitable<void>>;
  close(): Awaitable<void>;
}

export interface ListFilter {
  status?: RunStatus;
  limit?: number;
}

export interface Store {
  /** Inserts a new run; false if the id exists (start is idempotent). */
  createRun(run: NewRun, journal: JournalEntry): boolean;
  getRun(id: string): RunRecord | undefined;
  /** The columns load() needs (no input, result or frames: resuming 10,000 runs reads less). */
  loadState(id: string): LoadState | undefined;
  listRuns(filter?: ListFilter): RunRecord[];
  /** Ids of runs a worker should load now: running, or waiting and woken (timer due, signal for a waited name, cancel). */
  dueRuns(now: number, limit: number): string[];
  /** The earliest deadline of a waiting run, or null. */
  nextWake(): number | null;
  /** The result of the cancel column read back (another process may have requested a cancel). */
  checkpoint(c: Checkpoint): CancelState;
  end(e: Ending): void;
  /** Marks a run failed (code changed, corrupt row) and keeps its snapshot for a retry. */
  fail(id: string, error: string, journal: JournalEntry): void;
  appendJournal(id: string, entries: JournalEntry[]): void;
  journal(id: string): StoredJournalEntry[];
  /** Queues a signal; throws WorkflowError for an unknown or ended run. Returns the inbox row id. */
  addSignal(id: string, name: string, value: string): number;
  pendingSignals(id: string): InboxRow[];
  /** Requests a cancel; throws WorkflowError for an unknown or ended run. */
  requestCancel(id: string): void;
  /** A failed run again from its last checkpoint, a cancelled one from its start. */
  retry(id: string): void;
  /** Runs `fn` in one transaction: the engine groups the writes of one pass over many runs (each stays atomic). */
  batch<T>(fn: () => T): T;
  close(): void;
}
