// Across processes: snapshot in one `node` process, JSON to disk, restore and finish in a
// fresh process; the printed lines of both equal those of an uninterrupted run. Runs the
// built package through `node --import stackless/register` (dist/ is built by the global
// setup of tests/plugins).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { registerUrl, runNode } from '../plugins/helpers/index.js';

const program = 'tests/snapshot/programs/pipeline.ts';
const dir = mkdtempSync(join(tmpdir(), 'stackless-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function node(...args: string[]): string {
  const r = runNode(['--import', registerUrl, program, ...args]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('snapshot across processes', () => {
  const full = node('full');

  it('the uninterrupted run finishes', () => {
    expect(full).toContain('all done: left,napper,right');
    expect(full.trim().split('\n')).toHaveLength(23);
  });

  for (const k of [1, 7, 15]) {
    it(`saved after ${k} scheduler steps, resumed in a fresh process: same output`, () => {
      const file = join(dir, `snap-${k}.json`);
      const before = node('save', file, String(k));
      const data = JSON.parse(readFileSync(file, 'utf8'));
      expect(data.format).toBe('stackless-snapshot');
      const after = node('resume', file);
      expect(before.length).toBeGreaterThan(0);
      expect(after.length).toBeGreaterThan(0);
      expect(before + after).toBe(full);
    });
  }
});
