// stackless/workflow: durable workflows on tasklets and snapshots (docs/workflows.md).
import { registerClass } from '../runtime/index.js';
import { NonRetryableError, WorkflowError } from './errors.js';

export { createEngine, Engine, type EngineOptions, type StartOptions, type RunInfo, type RunHandle, type WorkOptions } from './engine.js';
export { step, sleep, signal, child, type ChildOptions } from './primitives.js';
export { sqliteStore, SqliteStore, DEFAULT_DB } from './sqlite.js';
export { postgresStore, PostgresStore, type PostgresStoreOptions } from './postgres.js';
export { migration, withMigrations, type Migration, type OldFrame, type ResumeAt } from './migrations.js';
export { NonRetryableError, WorkflowError, type WorkflowErrorCode, type StoredError } from './errors.js';
export type { StepOptions, StepContext, StepFn } from './steps.js';
export type { DrainReport } from './runner.js';
export type { Store, EngineStore, RunRecord, RunStatus, StoredJournalEntry, JournalEntry, Fence } from './store.js';
export type { FrameView } from './view.js';
export { parseDuration } from './duration.js';

// A step's error is thrown into the workflow and saved with its checkpoint: these must be saveable.
registerClass(NonRetryableError, 'stackless/workflow#NonRetryableError');
registerClass(WorkflowError, 'stackless/workflow#WorkflowError');
