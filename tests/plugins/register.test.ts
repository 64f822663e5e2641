/**
 * `node --import stackless/register` on the fixture projects: TypeScript without a build
 * step, the transform applied, `.js` specifiers finding `.ts` files, original lines in
 * stack traces, and compile errors with code frames.
 */
import { describe, expect, it } from 'vitest';
import { fixture, lineOf, registerUrl, runNode } from './helpers/index.js';

describe('stackless/register', () => {
  it('runs a TypeScript project: types stripped, tasklets transformed, .js imports find .ts files', () => {
    const run = runNode(['--import', 'stackless/register', fixture('typed', 'main.ts'), 'one', 'two', 'three']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('consumed 3 words, 11 letters');
    expect(run.status).toBe(0);
  });

  it('transforms JavaScript ES modules with the directive', () => {
    const run = runNode(['--import', registerUrl, fixture('pingpong', 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('pong received 1,11,21,31');
  });

  it('names the original TypeScript line in stack traces without --enable-source-maps', () => {
    const run = runNode(['--import', registerUrl, fixture('throws', 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Error: exploded: boom');
    const line = lineOf(fixture('throws', 'explode.ts'), 'THROW-LINE');
    expect(run.stdout).toMatch(new RegExp(`throws/explode\\.ts:${line}:\\d+`));
  });

  it('fails with the diagnostic and its code frame on a compile error', () => {
    const file = fixture('bad', 'main.js');
    const run = runNode(['--import', registerUrl, file]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('SL1001');
    expect(run.stderr).toMatch(new RegExp(`bad/main\\.js:(${lineOf(file, 'async function')}|${lineOf(file, 'async function') + 1}):\\d+`));
    expect(run.stderr).toContain('export async function fetchAll(urls) {');
  });

  it('prints warnings with their code frame and runs the program', () => {
    const file = fixture('warn', 'main.js');
    const run = runNode(['--import', registerUrl, file]);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('balance 5');
    expect(run.stderr).toMatch(new RegExp(`warn/main\\.js:${lineOf(file, "'use tasklet'")}:\\d+ - warning SL1008: `));
    expect(run.stderr).toContain("'use tasklet';");
  });

  it('leaves modules inside node_modules alone', () => {
    // dep/index.js would be a compile error (SL1001) if the hook transformed it
    const run = runNode(['--import', registerUrl, fixture('check', 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('answer 42');
  });

  it('runs CommonJS TypeScript (.ts in a "type": "commonjs" package, required .cts)', () => {
    const run = runNode(['--import', registerUrl, fixture('cjs', 'main.ts')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('cjs twice 2 4');
  });

  it('refuses tasklet functions in a CommonJS module with a clear error', () => {
    const run = runNode(['--import', registerUrl, fixture('cjs', 'tasklet.cjs')]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('cjs/tasklet.cjs has tasklet functions but Node runs it as CommonJS');
  });

  it('finds .mts files behind .mjs specifiers', () => {
    const run = runNode(['--import', registerUrl, fixture('resolve', 'main.mts')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('twice 2 4 6');
  });

  it('runs TypeScript without tasklets too (plain type stripping)', () => {
    const run = runNode(['--import', registerUrl, fixture('cli', 'exit.ts'), '0']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('exiting with 0');
    expect(run.status).toBe(0);
  });
});
