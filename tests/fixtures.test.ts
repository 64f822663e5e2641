/**
 * Differential fixture runner.
 *
 * Every fixtures/<case>/input.ts exports a main() marked as a tasklet function. Each case runs
 *  - natively: types stripped by Babel, main() called as ordinary code;
 *  - transformed: compiled by the stackless transform, main() run in one tasklet;
 *  - forced-switch: compiled with { forceSwitch: true }, three copies of main() run at once
 *    in three tasklets, each printed line attributed to the tasklet that printed it;
 * and every run's output must equal fixtures/<case>/expected.txt exactly.
 * fixtures/errors/<case>/ hold programs the transform must refuse (or warn about) with a given diagnostic.
 *
 * UPDATE_FIXTURES=1 rewrites expected.txt from the native run (never for transformedOnly cases).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { linesToText, loadErrorFixtures, loadFixtures, type Fixture } from './support/fixtures.js';
import { runNative } from './support/native.js';
import { FIXTURES_DIR } from './support/paths.js';
import { pruneOldTempModules } from './support/tmp.js';
import { haveRuntime, haveTransformer, loadTransform, runForced, runTransformed, type TransformFn } from './support/transformed.js';

const UPDATE = process.env.UPDATE_FIXTURES === '1';
const fixtures = loadFixtures();
const errorFixtures = loadErrorFixtures();
const canTransform = haveTransformer();
const canRun = canTransform && haveRuntime();

function expectedOf(fx: Fixture): string {
  if (fx.expected === null) throw new Error(`fixture ${fx.name}: no expected.txt (run with UPDATE_FIXTURES=1, or write it by hand for transformedOnly cases)`);
  return fx.expected;
}

let transform: TransformFn;
beforeAll(async () => {
  pruneOldTempModules();
  if (canTransform) transform = await loadTransform();
});

describe('fixtures: native', () => {
  for (const fx of fixtures.filter((f) => !f.flags.transformedOnly)) {
    it(fx.name, { timeout: fx.flags.timeout ?? 30_000 }, async () => {
      const text = linesToText(await runNative(fx));
      if (UPDATE) {
        writeFileSync(fx.expectedPath, text);
        fx.expected = text;
      }
      expect(text).toBe(expectedOf(fx));
    });
  }
});

/** Transformed modes of a fixture that would hang the worker are skipped (flag "hangs"). */
const runnable = (f: Fixture): boolean => !f.flags.nativeOnly && !f.flags.hangs;

describe.skipIf(!canRun)('fixtures: transformed', () => {
  for (const fx of fixtures.filter(runnable)) {
    (fx.flags.knownFailure ? it.fails : it)(fx.name, { timeout: fx.flags.timeout ?? 30_000 }, async () => {
      const expected = expectedOf(fx);
      const { lines, code } = await runTransformed(transform, fx);
      expect(linesToText(lines), `compiled module: ${code}`).toBe(expected);
    });
  }
});

describe.skipIf(!canRun)('fixtures: forced switch, 3 tasklets at once', () => {
  for (const fx of fixtures.filter((f) => runnable(f) && f.flags.forceSwitch !== false)) {
    (fx.flags.knownFailure ? it.fails : it)(fx.name, { timeout: (fx.flags.timeout ?? 30_000) * 3 }, async () => {
      const expected = expectedOf(fx);
      const r = await runForced(transform, fx, 3);
      expect(r.stray, 'lines printed outside the three main tasklets').toEqual([]);
      expect(r.unfinished).toEqual([]);
      r.copies.forEach((lines, k) => {
        expect(linesToText(lines), `copy ${k + 1}, compiled module: ${r.code}`).toBe(expected);
      });
      // Every console.log is a call site, hence a forced switch point: the copies must
      // interleave, not run one after another. Measured: at least one change of the
      // printing copy for every two lines a copy prints.
      const perCopy = Math.min(...r.copies.map((c) => c.length));
      if (perCopy >= 2) {
        let changes = 0;
        for (let i = 1; i < r.order.length; i++) if (r.order[i] !== r.order[i - 1]) changes++;
        expect(changes, `the three copies hardly interleaved (order: ${r.order.join('')})`).toBeGreaterThanOrEqual(Math.floor(perCopy / 2));
      }
    });
  }
});

describe.skipIf(!canTransform)('fixtures: compile errors', () => {
  for (const fx of errorFixtures) {
    it(fx.name, () => {
      const r = transform(fx.source, fx.inputPath, {});
      const e = fx.expected;
      const found = r.diagnostics.filter((d) => d.code === e.code);
      expect(found.map((d) => d.code), `diagnostics: ${JSON.stringify(r.diagnostics.map((d) => [d.code, d.start, d.message]))}`).toEqual([e.code]);
      const d = found[0];
      expect(d.severity).toBe(e.severity ?? 'error');
      expect({ line: d.start.line, column: d.start.column }).toEqual({ line: e.line, column: e.column });
      expect(d.message).toContain(e.message);
      expect(d.file).toBe(fx.inputPath);
      const offending = fx.source.split('\n')[e.line - 1];
      expect(d.frame).toContain(offending.trim());
      expect(d.frame).toMatch(new RegExp(`>\\s*${e.line} \\|`));
    });
  }
});

describe('fixture set', () => {
  it('has cases, each with an expected output', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    expect(fixtures.filter((f) => f.expected === null && !(UPDATE && !f.flags.transformedOnly)).map((f) => f.name)).toEqual([]);
  });

  it('skips or expects failures only for open entries in FAILURES.md', () => {
    const failures = readFileSync(join(FIXTURES_DIR, 'FAILURES.md'), 'utf8');
    const stale = fixtures
      .flatMap((f) => [f.flags.hangs, f.flags.knownFailure].filter((x): x is string => x !== undefined).map((flag) => [f.name, flag] as const))
      .filter(([, flag]) => !/^F\d+$/.test(flag) || !failures.includes(`\n## ${flag}. `))
      .map(([name, flag]) => `${name}: ${flag}`);
    expect(stale).toEqual([]);
  });
});
