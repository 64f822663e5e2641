// Temp SQLite files for the workflow tests (one folder per test file, removed at exit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

let dir: string | null = null;
let n = 0;

export function tempDir(): string {
  if (dir === null) {
    const d = (dir = mkdtempSync(join(tmpdir(), 'stackless-wf-')));
    afterAll(() => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

export function tempDb(): string {
  return join(tempDir(), `runs-${++n}.db`);
}
