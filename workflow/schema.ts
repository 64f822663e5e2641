// SQLite schema of the embedded store (PRAGMA user_version tells which one a file has).
export const SCHEMA_VERSION = 2;

/** From version 1: child workflows (the parent a child's end is posted to). */
export const MIGRATE_1_TO_2 = `ALTER TABLE runs ADD COLUMN parent TEXT;`;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  fn TEXT NOT NULL,
  fp TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  snapshot TEXT,
  wake_at INTEGER,
  waiting_for TEXT,
  cancel INTEGER NOT NULL DEFAULT 0,
  result TEXT,
  error TEXT,
  frames TEXT,
  steps INTEGER NOT NULL DEFAULT 0,
  checkpoints INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  parent TEXT
);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, wake_at);
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  name TEXT,
  attempt INTEGER,
  data TEXT
);
CREATE INDEX IF NOT EXISTS journal_run ON journal (run_id, seq);
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_run ON inbox (run_id, id);
`;
