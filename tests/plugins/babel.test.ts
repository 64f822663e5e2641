/** `stackless/babel` through @babel/core, on the fixture projects; the output runs in Node. */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { transformAsync, type TransformOptions } from '@babel/core';
import { describe, expect, it, vi } from 'vitest';
import stacklessBabel from '../../babel/index.js';
import { transform } from '../../transformer/index.js';
import { fixture, join, lineOf, outDir, runNode } from './helpers/index.js';

const TYPESCRIPT = '@babel/plugin-transform-typescript';

async function compile(file: string, options: TransformOptions = {}): Promise<string> {
  const result = await transformAsync(readFileSync(file, 'utf8'), {
    filename: file,
    babelrc: false,
    configFile: false,
    plugins: [stacklessBabel, TYPESCRIPT],
    ...options,
  });
  if (result?.code == null) throw new Error(`no code for ${file}`);
  return result.code;
}

/** Compiles the given files of a fixture project into a fresh directory, as .js files. */
async function compileProject(project: string, files: string[], options: TransformOptions = {}): Promise<string> {
  const dir = outDir('babel');
  for (const name of files) {
    const code = await compile(fixture(project, name), options);
    writeFileSync(join(dir, basename(name).replace(/\.ts$/, '.js')), code.replaceAll(/(\.\/\w+)\.ts'/g, "$1.js'"));
  }
  return dir;
}

describe('stackless/babel', () => {
  it('compiles JavaScript modules whose output runs in Node', async () => {
    const dir = await compileProject('pingpong', ['main.js', 'players.js', 'take.js']);
    expect(readFileSync(join(dir, 'take.js'), 'utf8')).toContain('stackless/internal');
    expect(readFileSync(join(dir, 'main.js'), 'utf8')).not.toContain('stackless/internal');
    const run = runNode([join(dir, 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('pong received 1,11,21,31');
  });

  it('composes with the TypeScript plugin', async () => {
    const dir = await compileProject('typed', ['main.ts', 'demo.ts', 'worker.ts']);
    expect(readFileSync(join(dir, 'worker.js'), 'utf8')).not.toContain('interface Totals');
    const run = runNode([join(dir, 'main.js'), 'one', 'two', 'three']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('consumed 3 words, 11 letters');
  });

  it("keeps Babel's source map pointing at the original lines", async () => {
    const explode = fixture('throws', 'explode.ts');
    const dir = outDir('babel-map');
    for (const file of [fixture('throws', 'main.js'), explode]) {
      const code = await compile(file, { sourceMaps: 'inline', sourceFileName: file });
      writeFileSync(join(dir, basename(file).replace(/\.ts$/, '.js')), code.replace("'./explode.ts'", "'./explode.js'"));
    }
    const run = runNode(['--enable-source-maps', join(dir, 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Error: exploded: boom');
    expect(run.stdout).toMatch(new RegExp(`throws/explode\\.ts:${lineOf(explode, 'THROW-LINE')}:\\d+`));
  });

  it('prints warnings on the console and compiles the file', async () => {
    const file = fixture('warn', 'main.js');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const code = await compile(file);
      expect(code).toContain('class Account');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(new RegExp(`^${file}:${lineOf(file, "'use tasklet'")}:\\d+ SL1008 `));
    } finally {
      warn.mockRestore();
    }
  });

  it('throws a code-frame error carrying the diagnostic code', async () => {
    const file = fixture('bad', 'main.js');
    const expected = transform(readFileSync(file, 'utf8'), file).diagnostics[0];
    const error = (await compile(file).then(
      () => null,
      (e: unknown) => e,
    )) as (Error & { code?: string }) | null;
    expect(error?.code).toBe('SL1001');
    // Babel colours the frame when the terminal (or CI) supports it
    const message = error?.message.replace(/\x1b\[[0-9;]*m/g, '');
    expect(message).toContain(file);
    expect(message).toContain('async function');
    expect(message).toMatch(new RegExp(`^>\\s*${expected?.start.line} \\| .*`, 'm'));
  });
});
