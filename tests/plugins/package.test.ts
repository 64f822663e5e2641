/** The package as published: exports map targets, entry points by name, packed files. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { join, repoRoot, runNode } from './helpers/index.js';

interface PackageJson {
  name: string;
  type: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  files: string[];
}
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;

const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : [t.types, t.default]));

describe('package', () => {
  it('is an ES module package named stackless with the documented entry points', () => {
    expect(pkg.name).toBe('stackless');
    expect(pkg.type).toBe('module');
    expect(Object.keys(pkg.exports).sort()).toEqual(
      ['.', './babel', './internal', './package.json', './register', './rollup', './transform', './vite', './workflow'].sort(),
    );
  });

  it('every exports target and the bin exist after the build', () => {
    for (const target of [...targets, ...Object.values(pkg.bin)]) {
      expect(existsSync(join(repoRoot, target)), target).toBe(true);
    }
  });

  it('each entry point loads by its public name and exports what the README uses', () => {
    const script = `
      const names = {};
      for (const id of ['stackless', 'stackless/internal', 'stackless/transform', 'stackless/babel',
                        'stackless/rollup', 'stackless/vite', 'stackless/register', 'stackless/workflow']) {
        names[id] = Object.keys(await import(id)).sort();
      }
      console.log(JSON.stringify(names));`;
    const run = runNode(['--input-type=module', '-e', script]);
    expect(run.stderr).toBe('');
    const names = JSON.parse(run.stdout) as Record<string, string[]>;
    expect(names['stackless']).toEqual(expect.arrayContaining(['Channel', 'Tasklet', 'run', 'schedule', 'spawn']));
    expect(names['stackless/internal']).toContain('rt');
    expect(names['stackless/transform']).toContain('transform');
    expect(names['stackless/babel']).toEqual(['default']);
    expect(names['stackless/rollup']).toEqual(['default', 'stackless']);
    expect(names['stackless/vite']).toEqual(['default', 'stackless']);
    expect(names['stackless/register']).toEqual([]);
    expect(names['stackless/workflow']).toEqual(expect.arrayContaining(['createEngine', 'sqliteStore', 'step', 'sleep', 'signal', 'NonRetryableError']));
  });

  it('npm pack ships every exports target and no tests or sources', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const files = new Set((JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
    for (const target of [...targets, ...Object.values(pkg.bin)]) {
      expect(files.has(target.replace(/^\.\//, '')), target).toBe(true);
    }
    expect([...files].filter((f) => f.startsWith('tests/') || f.startsWith('fixtures/') || /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });
});
