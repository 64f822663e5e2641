// Temp SQLite files for the workflow tests (one folder per test file, removed at exit), and
// the sample runs the CLI and web-page tests read.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Engine } from '../../workflow/index.js';
import { approval, cancellable, flaky, order } from './programs/flows.js';

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

/** One run in each state: done-1 finished, wait-1 waiting, fail-1 failed, cancel-1 waiting. */
export async function startSampleRuns(engine: Engine): Promise<void> {
  await engine.start(order, ['lamp', 2], { id: 'done-1' });
  await engine.start(approval, [250], { id: 'wait-1' });
  await engine.start(flaky, [9], { id: 'fail-1' });
  await engine.start(cancellable, [], { id: 'cancel-1' });
  await engine.drain();
}
