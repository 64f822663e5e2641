/** The `stackless` bin (dist/cli/index.js) run as a child process. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliPath, fixture, join, lineOf, repoRoot, runNode } from './helpers/index.js';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('stackless CLI', () => {
  it('is the package bin and starts with a node shebang', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(join(repoRoot, pkg.bin.stackless)).toBe(cliPath);
    expect(readFileSync(cliPath, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('run: executes a TypeScript file with the transform and passes its arguments', () => {
    const run = runNode([cliPath, 'run', fixture('typed', 'main.ts'), 'x', 'yy']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('consumed 2 words, 3 letters');
    expect(run.status).toBe(0);
  });

  it("run: exits with the program's exit code", () => {
    const run = runNode([cliPath, 'run', fixture('cli', 'exit.ts'), '7']);
    expect(run.stdout.trim()).toBe('exiting with 7');
    expect(run.status).toBe(7);
  });

  it('check: prints each diagnostic with its frame and fails on errors', () => {
    const run = runNode([cliPath, 'check', 'fixtures/projects/bad', 'fixtures/projects/warn/main.js']);
    expect(run.status).toBe(1);
    const bad = lineOf(fixture('bad', 'main.js'), 'async function');
    const warn = lineOf(fixture('warn', 'main.js'), "'use tasklet'");
    expect(run.stdout).toMatch(new RegExp(`^fixtures/projects/bad/main\\.js:(${bad}|${bad + 1}):\\d+ - error SL1001: `, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^fixtures/projects/warn/main\\.js:${warn}:\\d+ - warning SL1008: `, 'm'));
    expect(run.stdout).toContain('export async function fetchAll(urls) {');
    expect(run.stdout.trim().split('\n').at(-1)).toBe('checked 2 files (1 with tasklet functions): 1 error, 1 warning');
  });

  it('check: passes a clean project', () => {
    const run = runNode([cliPath, 'check', 'fixtures/projects/typed']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('checked 3 files (1 with tasklet functions): 0 errors, 0 warnings');
    expect(run.status).toBe(0);
  });

  it('check: skips node_modules', () => {
    const run = runNode([cliPath, 'check', 'fixtures/projects/check']);
    expect(run.stdout.trim()).toBe('checked 1 file (0 with tasklet functions): 0 errors, 0 warnings');
    expect(run.status).toBe(0);
  });

  it('usage errors exit with 2 and say what is wrong', () => {
    const none = runNode([cliPath]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('Usage: stackless <command>');

    const noFile = runNode([cliPath, 'run']);
    expect(noFile.status).toBe(2);
    expect(noFile.stderr).toContain("'stackless run' needs a file to run");

    const missing = runNode([cliPath, 'run', 'does-not-exist.ts']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("cannot find 'does-not-exist.ts'");

    const nothing = runNode([cliPath, 'check']);
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain("'stackless check' needs files or directories");

    const inspect = runNode([cliPath, 'inspect', 'snapshot.json']);
    expect(inspect.status).toBe(2);
    expect(inspect.stderr).toContain("cannot find 'snapshot.json'");

    const unknown = runNode([cliPath, 'frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('help and version', () => {
    const help = runNode([cliPath, 'help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('run <file> [args...]');
    expect(runNode([cliPath, '--version']).stdout.trim()).toBe(version);
  });
});
