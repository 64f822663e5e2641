/**
 * Real Rollup builds of the projects in fixtures/projects with `stackless/rollup`, run in Node.
 * The runtime stays external (`stackless`, `stackless/internal`) and is resolved from dist/
 * through the package's exports map, as in a user's library build.
 */
import { readFileSync } from 'node:fs';
import { rollup, type RollupError, type RollupLog } from 'rollup';
import { describe, expect, it } from 'vitest';
import stacklessDefault, { stackless } from '../../plugin-rollup/index.js';
import { transform } from '../../transformer/index.js';
import { fixture, join, lineOf, outDir, runNode } from './helpers/index.js';

const external = (id: string) => id === 'stackless' || id.startsWith('stackless/');

async function bundle(input: string, plugin = stackless(), sourcemap = false) {
  const build = await rollup({ input, external, plugins: [plugin], onLog: () => {} });
  const dir = outDir('rollup');
  const { output } = await build.write({ dir, format: 'es', sourcemap });
  const cache = build.cache;
  await build.close();
  return { dir, output, modules: cache?.modules ?? [] };
}

describe('stackless/rollup', () => {
  it('exports the plugin as default and named export', () => {
    expect(stacklessDefault).toBe(stackless);
    expect(stackless().name).toBe('stackless');
  });

  it('builds tasklets spread over three modules and the bundle runs in Node', async () => {
    const { dir } = await bundle(fixture('pingpong', 'main.js'));
    const run = runNode([join(dir, 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('pong received 1,11,21,31');
    expect(run.status).toBe(0);
  });

  it('transforms only modules with the directive and honours exclude', async () => {
    const takeFile = fixture('pingpong', 'take.js');
    const original = readFileSync(takeFile, 'utf8');

    const all = await bundle(fixture('pingpong', 'main.js'));
    const take = all.modules.find((m) => m.id === takeFile);
    const main = all.modules.find((m) => m.id === fixture('pingpong', 'main.js'));
    expect(take?.code).not.toBe(original);
    expect(take?.code).toContain('stackless/internal');
    // main.js has no tasklet function: left exactly as written
    expect(main?.code).toBe(readFileSync(fixture('pingpong', 'main.js'), 'utf8'));

    const some = await bundle(fixture('pingpong', 'main.js'), stackless({ exclude: ['**/take.js'] }));
    expect(some.modules.find((m) => m.id === takeFile)?.code).toBe(original);
    expect(some.modules.find((m) => m.id === fixture('pingpong', 'players.js'))?.code).toContain(
      'stackless/internal',
    );
  });

  it('honours include, and root for the tasklet function ids', async () => {
    const takeFile = fixture('pingpong', 'take.js');
    const playersFile = fixture('pingpong', 'players.js');
    const only = await bundle(fixture('pingpong', 'main.js'), stackless({ include: ['**/players.js'] }));
    expect(only.modules.find((m) => m.id === takeFile)?.code).toBe(readFileSync(takeFile, 'utf8'));
    expect(only.modules.find((m) => m.id === playersFile)?.code).toContain('stackless/internal');

    // ids are module paths relative to root: the working directory (the repository) by default
    const byCwd = await bundle(fixture('pingpong', 'main.js'));
    expect(byCwd.modules.find((m) => m.id === takeFile)?.code).toContain('"fixtures/projects/pingpong/take.js');
    const byRoot = await bundle(fixture('pingpong', 'main.js'), stackless({ root: fixture('pingpong') }));
    expect(byRoot.modules.find((m) => m.id === takeFile)?.code).toContain('"take.js');
    expect(byRoot.modules.find((m) => m.id === takeFile)?.code).not.toContain('fixtures/projects');
  });

  it('maps a throw inside a resumed tasklet back to its TypeScript line', async () => {
    const explode = fixture('throws', 'explode.ts');
    const { dir, output } = await bundle(fixture('throws', 'main.js'), stackless({ stripTypes: true }), true);
    const chunk = output.find((o) => o.type === 'chunk' && o.isEntry);
    expect(chunk?.type === 'chunk' && chunk.map?.sources.some((s) => s.endsWith('throws/explode.ts'))).toBe(true);

    const run = runNode(['--enable-source-maps', join(dir, 'main.js')]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Error: exploded: boom');
    const line = lineOf(explode, 'THROW-LINE');
    expect(run.stdout).toMatch(new RegExp(`throws/explode\\.ts:${line}:\\d+`));
  });

  it('reports compile errors through this.error with loc, frame and code', async () => {
    const file = fixture('bad', 'main.js');
    const source = readFileSync(file, 'utf8');
    const expected = transform(source, file).diagnostics.find((d) => d.severity === 'error');
    expect(expected?.code).toBe('SL1001');

    const error = (await rollup({ input: file, external, plugins: [stackless()], onLog: () => {} }).then(
      () => null,
      (e: unknown) => e,
    )) as RollupError | null;
    expect(error).not.toBeNull();
    expect(error?.plugin).toBe('stackless');
    expect(error?.pluginCode).toBe('SL1001');
    expect(error?.id).toBe(file);
    expect(error?.message).toContain('async function');
    // the position is where the core put it, on the offending function
    expect(error?.loc).toEqual({ file, line: expected?.start.line, column: expected?.start.column });
    const asyncLine = lineOf(file, 'export async function fetchAll');
    expect([asyncLine, asyncLine + 1]).toContain(error?.loc?.line);
    expect(error?.frame).toContain('fetchAll');
    expect(error?.frame).toMatch(new RegExp(`^\\s*${error?.loc?.line}:`, 'm'));
  });

  it('reports warnings through this.warn with loc, frame and code, and still builds', async () => {
    const file = fixture('warn', 'main.js');
    const expected = transform(readFileSync(file, 'utf8'), file).diagnostics.find((d) => d.code === 'SL1008');
    expect(expected?.severity).toBe('warning');

    const logs: RollupLog[] = [];
    const build = await rollup({ input: file, external, plugins: [stackless()], onLog: (_level, log) => void logs.push(log) });
    const dir = outDir('rollup-warn');
    await build.write({ dir, format: 'es' });
    await build.close();

    const warning = logs.find((log) => log.plugin === 'stackless');
    expect(warning?.code).toBe('PLUGIN_WARNING');
    expect(warning?.pluginCode).toBe('SL1008');
    expect(warning?.id).toBe(file);
    expect(warning?.loc).toEqual({ file, line: expected?.start.line, column: expected?.start.column });
    expect(warning?.frame).toContain("'use tasklet'");
    expect(runNode([join(dir, 'main.js')]).stdout.trim()).toBe('balance 5');
  });

  it('declares a hook filter and still filters by itself on hosts without filters', async () => {
    const plugin = stackless();
    const hook = plugin.transform as {
      filter: { id: RegExp; code: RegExp };
      handler: (this: unknown, code: string, id: string) => Promise<unknown>;
    };
    expect(hook.filter.code.test('"use tasklet"')).toBe(true);
    expect(hook.filter.id.test('/src/a.ts?v=123')).toBe(true);
    expect(hook.filter.id.test('/src/a.css')).toBe(false);

    const sink = {
      warn: () => {
        throw new Error('no warning expected');
      },
      error: (log: unknown) => {
        throw log;
      },
    };
    const code = readFileSync(fixture('pingpong', 'take.js'), 'utf8');
    // node_modules is excluded by default, other extensions and directive-free code are skipped
    await expect(hook.handler.call(sink, code, '/app/node_modules/lib/take.js')).resolves.toBeNull();
    await expect(hook.handler.call(sink, code, '/app/take.css')).resolves.toBeNull();
    await expect(hook.handler.call(sink, 'export const x = 1;', '/app/x.js')).resolves.toBeNull();
    const result = (await hook.handler.call(sink, code, '/app/take.js?v=1')) as { code: string; map: unknown };
    expect(result.code).toContain('stackless/internal');
    expect(result.map).toMatchObject({ version: 3 });

    const noMaps = stackless({ sourceMap: false }).transform as typeof hook;
    const bare = (await noMaps.handler.call(sink, code, '/app/take.js')) as { map: unknown };
    expect(bare.map).toEqual({ mappings: '' });
  });
});
