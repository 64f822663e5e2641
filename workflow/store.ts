// What the engine needs from a store. The embedded SQLite store (sqlite.ts) is synchronous
// (better-sqlite3), and every write the engine makes at a blocking point is one call here,
// so a store makes each such call one transaction: a crash leaves either the old state or
// the new one, never half of each.

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
  /** Set (by listRuns only) when the stored row is unreadable: why. */
  corrupt?: string;
}

export type LoadState = Pick<RunRecord, 'id' | 'fn' | 'fp' | 'status' | 'snapshot' | 'cancel'>;

export interface NewRun {
  id: string;
  fn: string;
  fp: string;
  input: string;
}

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
}

export interface InboxRow {
  id: number;
  name: string;
  value: string;
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
