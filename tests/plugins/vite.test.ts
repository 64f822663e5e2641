/**
 * Real Vite builds (SSR, run in Node) and a real Vite dev server with `stackless/vite`.
 * The runtime is aliased to its TypeScript sources and bundled, as Vite bundles a dependency.
 */
import { readFileSync } from 'node:fs';
import { build, createServer, type Rollup, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import stacklessDefault, { stackless } from '../../plugin-vite/index.js';
import { transform } from '../../transformer/index.js';
import { fixture, join, lineOf, outDir, runNode, runtimeAlias } from './helpers/index.js';

async function ssrBuild(project: string, entry: string, sourcemap = false) {
  const dir = outDir('vite');
  const result = await build({
    root: fixture(project),
    configFile: false,
    logLevel: 'silent',
    plugins: [stackless()],
    resolve: { alias: runtimeAlias },
    build: { ssr: entry, outDir: dir, emptyOutDir: true, sourcemap, minify: false },
  });
  return { dir, result: result as Rollup.RollupOutput };
}

describe('stackless/vite: build', () => {
  it('exports the plugin as default and named export, enforce pre', () => {
    expect(stacklessDefault).toBe(stackless);
    expect(stackless().enforce).toBe('pre');
  });

  it('builds a TypeScript project (SSR) whose output runs in Node', async () => {
    const { dir } = await ssrBuild('typed', 'main.ts');
    const run = runNode([join(dir, 'main.js'), 'one', 'two', 'three']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('consumed 3 words, 11 letters');
    expect(run.status).toBe(0);
  });

  it('builds a browser library bundle (runtime included) that runs', async () => {
    const dir = outDir('vite-lib');
    await build({
      root: fixture('typed'),
      configFile: false,
      logLevel: 'silent',
      plugins: [stackless()],
      resolve: { alias: runtimeAlias },
      build: { lib: { entry: 'demo.ts', formats: ['es'], fileName: 'demo' }, outDir: dir, minify: false },
    });
    const bundle = readFileSync(join(dir, 'demo.js'), 'utf8');
    expect(bundle).not.toMatch(/from ["']stackless/); // the runtime is bundled, not imported
    const run = runNode([
      '--input-type=module',
      '-e',
      `import { countLetters } from ${JSON.stringify(join(dir, 'demo.js'))}; console.log(countLetters(['abc', 'de']));`,
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('consumed 2 words, 5 letters');
  });

  it('maps a throw inside a resumed tasklet back to its TypeScript line', async () => {
    const { dir } = await ssrBuild('throws', 'main.js', true);
    const run = runNode(['--enable-source-maps', join(dir, 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Error: exploded: boom');
    const line = lineOf(fixture('throws', 'explode.ts'), 'THROW-LINE');
    expect(run.stdout).toMatch(new RegExp(`throws/explode\\.ts:${line}:\\d+`));
  });

  it('reports compile errors with loc, frame and code', async () => {
    const file = fixture('bad', 'main.js');
    const expected = transform(readFileSync(file, 'utf8'), file).diagnostics[0];
    const error = (await ssrBuild('bad', 'main.js').then(
      () => null,
      (e: unknown) => e,
    )) as Rollup.RollupError | null;
    expect(error).not.toBeNull();
    expect(error?.plugin).toBe('stackless');
    expect(error?.pluginCode).toBe('SL1001');
    expect(error?.loc).toEqual({ file, line: expected?.start.line, column: expected?.start.column });
    expect(error?.frame).toContain('fetchAll');
  });
});

describe('stackless/vite: dev server', () => {
  let server: ViteDevServer;
  beforeAll(async () => {
    server = await createServer({
      root: fixture('typed'),
      configFile: false,
      logLevel: 'silent',
      plugins: [stackless()],
      resolve: { alias: runtimeAlias },
      appType: 'custom',
      cacheDir: outDir('vite-cache'),
      server: { middlewareMode: true, hmr: false, ws: false, watch: null },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('adds the runtime entry points to optimizeDeps.include', () => {
    expect(server.config.optimizeDeps.include).toEqual(expect.arrayContaining(['stackless', 'stackless/internal']));
  });

  it('runs transformed modules under SSR', async () => {
    const demo = (await server.ssrLoadModule('/demo.ts')) as { countLetters(words: string[]): string };
    expect(demo.countLetters(['ab', 'cde'])).toBe('consumed 2 words, 5 letters');
  });

  it('transforms modules served to the browser, importing the pre-bundled runtime', async () => {
    const result = await server.transformRequest('/worker.ts');
    // the runtime import points at the dependency Vite pre-bundled because of optimizeDeps.include
    expect(result?.code).toMatch(/^import \{ rt as [$\w]+(, [$\w]+ as [$\w]+)* \} from "[^"]*\/deps\/stackless_internal\.js\?v=\w+";$/m);
    expect(result?.code).not.toContain('interface Totals');
    // tasklet function ids are relative to Vite's root (the project), not the working directory
    expect(result?.code).toContain('"worker.ts');
    expect(result?.code).not.toContain('"fixtures/projects/typed/worker.ts');
    const plain = await server.transformRequest('/main.ts');
    expect(plain?.code).not.toContain('stackless_internal');
  });

  it('SSR stack traces name the original TypeScript line (ssrFixStacktrace)', async () => {
    const { explode } = (await server.ssrLoadModule(fixture('throws', 'explode.ts'))) as { explode: unknown };
    const runtime = (await server.ssrLoadModule('stackless')) as {
      spawn(fn: unknown, ...args: unknown[]): unknown;
      run(): unknown;
    };
    runtime.spawn(explode, 'boom');
    const error = (() => {
      try {
        runtime.run();
        return null;
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toBe('exploded: boom');
    server.ssrFixStacktrace(error as Error);
    const line = lineOf(fixture('throws', 'explode.ts'), 'THROW-LINE');
    expect(error?.stack).toMatch(new RegExp(`throws/explode\\.ts:${line}:\\d+`));
  });

  it('reports compile errors in dev with loc and frame', async () => {
    const file = fixture('bad', 'main.js');
    const error = (await server.ssrLoadModule(file).then(
      () => null,
      (e: unknown) => e,
    )) as Rollup.RollupError | null;
    expect(error?.plugin).toBe('stackless');
    expect(error?.loc?.file).toBe(file);
    expect(error?.loc?.line).toBeGreaterThan(0);
    expect(error?.frame).toContain('fetchAll');
  });
});
