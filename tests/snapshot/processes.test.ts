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
  return nodeOn(program, ...args);
}
function nodeOn(file: string, ...args: string[]): string {
  const r = runNode(['--import', registerUrl, file, ...args]);
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

describe('closures, closure frames, for-of positions, module values across processes', () => {
  const file = 'tests/snapshot/programs/closures.ts';
  const full = nodeOn(file, 'full');

  it('the uninterrupted run finishes', () => {
    expect(full.trim().split('\n')).toEqual([
      'ann picked apple for 10', 'bob picked cheese for 20', 'bob spent 20', 'bob items 1', 'ann picked bread for 30',
      'ann spent 40', 'ann items 2', 'cashier done', 'results: APPLE+BREAD, CHEESE',
    ]);
  });

  for (const k of [1, 3, 5]) {
    it(`saved after ${k} scheduler steps, resumed in a fresh process: same output`, () => {
      const snap = join(dir, `closures-${k}.json`);
      const before = nodeOn(file, 'save', snap, String(k));
      const text = readFileSync(snap, 'utf8');
      const data = JSON.parse(text);
      if (k === 1) {
        // what this test is about is in the snapshot: closures, the nested function's frame,
        // a for-of iterator, the class registered by the compiler, module values by reference
        expect(data.factories.map((f: unknown[]) => f[0]).sort()).toEqual([`${file}#shopper/pay`, `${file}#shopper/pick`]);
        expect(data.objs.some((e: unknown[]) => e[0] === 'I')).toBe(true);
        expect(data.classes).toEqual([`${file}#Basket`]);
        expect(text).toContain(`[4,"${file}#shout"]`);
        expect(data.objs.find((e: unknown[]) => e[0] === 'H')[5]).toBe(`${file}#feed`);
      }
      const after = nodeOn(file, 'resume', snap);
      expect(before + after).toBe(full);
    });
  }
});

describe('every kind of closure across processes', () => {
  const file = 'tests/snapshot/programs/kinds.ts';
  const full = nodeOn(file, 'full');

  it('the uninterrupted run finishes', () => {
    expect(full.trim().split('\n')).toEqual([
      'ann: ann:6 3 true 3 xyz rex makes woof, rex makes woof',
      'bob: bob:3 3 true 2 xyz rex makes woof, rex makes woof',
      'results: ann:6, bob:3',
    ]);
  });

  for (const k of [1, 2, 4, 6]) {
    it(`saved after ${k} scheduler steps, resumed in a fresh process: same output`, () => {
      const snap = join(dir, `kinds-${k}.json`);
      const before = nodeOn(file, 'save', snap, String(k));
      const data = JSON.parse(readFileSync(snap, 'utf8'));
      if (k === 1) {
        const tags = new Set(data.objs.map((e: unknown[]) => e[0]));
        for (const tag of ['F', 'L', 'G', 'I']) expect(tags.has(tag), tag).toBe(true);
        expect(JSON.stringify(data.objs)).toContain('["summary",1]');
      }
      const after = nodeOn(file, 'resume', snap);
      expect(before + after).toBe(full);
    });
  }
});

describe('tasklet packs across processes', () => {
  const file = 'tests/snapshot/programs/crowd.ts';
  const full = nodeOn(file, 'full');

  it('the uninterrupted run finishes', () => {
    expect(full.trim().split('\n')[0]).toBe('parked 250 + 50');
    expect(full).toContain('50 gifts, last gift 49');
  });

  it('300 tasklets saved as packs, resumed in a fresh process: same output', () => {
    const snap = join(dir, 'crowd.json');
    const before = nodeOn(file, 'save', snap);
    const data = JSON.parse(readFileSync(snap, 'utf8'));
    expect(data.version).toBe(3);
    expect(data.packs.length).toBeGreaterThanOrEqual(2);
    expect(before + nodeOn(file, 'resume', snap)).toBe(full);
  });
});
