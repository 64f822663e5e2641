/**
 * The README's commands and integration snippets, run as written: the intro example under
 * the register hook, the Rollup, Vite and Babel configurations on the fixture projects.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { transformAsync } from '@babel/core';
import { rollup, type OutputOptions, type RollupOptions } from 'rollup';
import { build, loadConfigFromFile } from 'vite';
import { describe, expect, it } from 'vitest';
import { fixture, join, outDir, repoRoot, runNode, runtimeAlias } from './helpers/index.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The code blocks of the README section with this heading, in order, with their info strings. */
function blocks(heading: string | null): { lang: string; code: string }[] {
  let text = readme;
  if (heading !== null) {
    const start = readme.indexOf(`\n## ${heading}\n`);
    if (start === -1) throw new Error(`README has no section "${heading}"`);
    const next = readme.indexOf('\n## ', start + 1);
    text = readme.slice(start, next === -1 ? undefined : next);
  }
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? '', code: m[2] ?? '' }));
}

describe('README', () => {
  it('starts with the demo and test commands', () => {
    const [first, second] = blocks(null);
    expect(first?.code.trim()).toBe('npm ci && npm run demo');
    expect(second?.code.trim()).toBe('npm test');
    expect(readme.indexOf('```')).toBeLessThan(readme.indexOf('\n## '));
  });

  it('has the integration sections and the headings other parts fill in', () => {
    for (const heading of [
      'Use with Rollup',
      'Use with Vite',
      'Run with Node',
      'Use with Babel',
      'The language inside tasklets',
      'Runtime API',
      'Architecture',
    ]) {
      expect(readme).toContain(`\n## ${heading}\n`);
    }
  });

  it('intro example prints what its comment says (under node --import stackless/register)', () => {
    const example = blocks(null).find((b) => b.lang === 'ts');
    const expected = /console\.log\(out\); \/\/ (.*)$/m.exec(example?.code ?? '')?.[1];
    expect(expected).toBeDefined();
    const dir = outDir('readme');
    writeFileSync(join(dir, 'example.ts'), example?.code ?? '');
    const run = runNode(['--import', 'stackless/register', join(dir, 'example.ts')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(expected);
  });

  it('Rollup configuration builds the pingpong project', async () => {
    const [config] = blocks('Use with Rollup').filter((b) => b.lang === 'js');
    const dir = outDir('readme-rollup');
    cpSync(fixture('pingpong'), join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'rollup.config.js'), config?.code ?? '');
    const options = ((await import(pathToFileURL(join(dir, 'rollup.config.js')).href)) as { default: RollupOptions })
      .default;
    const bundle = await rollup({ ...options, input: join(dir, 'src', 'main.js'), onLog: () => {} });
    await bundle.write({ ...(options.output as OutputOptions), dir: join(dir, 'dist') });
    await bundle.close();
    const run = runNode([join(dir, 'dist', 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('pong received 1,11,21,31');
  });

  it('Vite configuration builds the typed project', async () => {
    const [config] = blocks('Use with Vite').filter((b) => b.lang === 'ts');
    const dir = outDir('readme-vite');
    cpSync(fixture('typed'), dir, { recursive: true });
    writeFileSync(join(dir, 'vite.config.ts'), config?.code ?? '');
    const loaded = await loadConfigFromFile({ command: 'build', mode: 'production' }, join(dir, 'vite.config.ts'), dir, 'silent');
    expect(loaded?.config.plugins?.length).toBe(1);
    await build({
      ...loaded?.config,
      root: dir,
      configFile: false,
      logLevel: 'silent',
      resolve: { alias: runtimeAlias },
      build: { ssr: 'main.ts', outDir: join(dir, 'out'), minify: false },
    });
    const run = runNode([join(dir, 'out', 'main.js'), 'a', 'bb']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('consumed 2 words, 3 letters');
  });

  it('Babel configuration compiles the typed project', async () => {
    const [config] = blocks('Use with Babel').filter((b) => b.lang === 'json');
    const options = JSON.parse(config?.code ?? '{}') as { plugins: string[] };
    const dir = outDir('readme-babel');
    for (const name of ['main.ts', 'demo.ts', 'worker.ts']) {
      const file = fixture('typed', name);
      const result = await transformAsync(readFileSync(file, 'utf8'), {
        ...options,
        filename: file,
        cwd: repoRoot,
        babelrc: false,
        configFile: false,
      });
      writeFileSync(join(dir, name.replace(/\.ts$/, '.js')), result?.code ?? '');
    }
    const run = runNode([join(dir, 'main.js'), 'abc']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('consumed 1 words, 3 letters');
  });
});
