/** Discovery of the fixture cases under fixtures/ and their flags. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS_DIR, FIXTURES_DIR } from './paths.js';

export interface FixtureFlags {
  /** run only untransformed (no transformed modes) */
  nativeOnly?: boolean;
  /** cannot run natively (uses the runtime, or needs more stack than Node has) */
  transformedOnly?: boolean;
  /** imports from "stackless" */
  usesRuntime?: boolean;
  /** drive the scheduler with runAsync() instead of run() */
  async?: boolean;
  /**
   * false: skip the forced-switch mode. Only for fixtures whose output order
   * legitimately depends on the scheduling order of several tasklets of their own.
   */
  forceSwitch?: boolean;
  /** per-mode test timeout in ms (default 30000) */
  timeout?: number;
  /**
   * "F<n>": the transformed modes hang (a synchronous endless loop that no test timeout
   * can stop) because of open failure F<n> in fixtures/FAILURES.md; they are skipped,
   * and the runner fails while F<n> is not an open entry there. Remove once fixed.
   */
  hangs?: string;
  /**
   * "F<n>": the transformed modes give a wrong result because of open failure F<n> in
   * fixtures/FAILURES.md. They still run, as expected failures (`it.fails`): the test
   * turns red once the fixture passes, so the flag is removed together with the entry.
   */
  knownFailure?: string;
  description?: string;
}

export interface Fixture {
  name: string;
  dir: string;
  inputPath: string;
  source: string;
  expectedPath: string;
  /** null when expected.txt does not exist yet */
  expected: string | null;
  flags: FixtureFlags;
}

export interface ErrorFixture {
  name: string;
  dir: string;
  inputPath: string;
  source: string;
  expected: ExpectedDiagnostic;
}

export interface ExpectedDiagnostic {
  code: string;
  /** 1-based */
  line: number;
  /** 0-based */
  column: number;
  /** substring of the message */
  message: string;
  /** default "error" */
  severity?: 'error' | 'warning';
}

const KNOWN_FLAGS = new Set(['nativeOnly', 'transformedOnly', 'usesRuntime', 'async', 'forceSwitch', 'timeout', 'hangs', 'knownFailure', 'description']);

function isDir(p: string): boolean {
  return statSync(p).isDirectory();
}

export function loadFixtures(): Fixture[] {
  const out: Fixture[] = [];
  for (const name of readdirSync(FIXTURES_DIR).sort()) {
    const dir = join(FIXTURES_DIR, name);
    if (name === 'errors' || name === 'projects' || !isDir(dir)) continue;
    const inputPath = join(dir, 'input.ts');
    if (!existsSync(inputPath)) throw new Error(`fixture ${name}: no input.ts`);
    const flagsPath = join(dir, 'fixture.json');
    const flags: FixtureFlags = existsSync(flagsPath) ? JSON.parse(readFileSync(flagsPath, 'utf8')) : {};
    for (const k of Object.keys(flags)) {
      if (!KNOWN_FLAGS.has(k)) throw new Error(`fixture ${name}: unknown flag ${k} in fixture.json`);
    }
    if (flags.nativeOnly && flags.transformedOnly) throw new Error(`fixture ${name}: nativeOnly and transformedOnly both set`);
    if (flags.usesRuntime && !flags.transformedOnly) throw new Error(`fixture ${name}: usesRuntime needs transformedOnly`);
    const expectedPath = join(dir, 'expected.txt');
    out.push({
      name,
      dir,
      inputPath,
      source: readFileSync(inputPath, 'utf8'),
      expectedPath,
      expected: existsSync(expectedPath) ? readFileSync(expectedPath, 'utf8') : null,
      flags,
    });
  }
  return out;
}

export function loadErrorFixtures(): ErrorFixture[] {
  if (!existsSync(ERRORS_DIR)) return [];
  const out: ErrorFixture[] = [];
  for (const name of readdirSync(ERRORS_DIR).sort()) {
    const dir = join(ERRORS_DIR, name);
    if (!isDir(dir)) continue;
    const inputPath = join(dir, 'input.ts');
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as ExpectedDiagnostic;
    for (const k of ['code', 'line', 'column', 'message'] as const) {
      if (expected[k] === undefined) throw new Error(`error fixture ${name}: expected.json lacks ${k}`);
    }
    out.push({ name, dir, inputPath, source: readFileSync(inputPath, 'utf8'), expected });
  }
  return out;
}

/** expected.txt holds one printed line per line, with a final newline. */
export function linesToText(lines: string[]): string {
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
