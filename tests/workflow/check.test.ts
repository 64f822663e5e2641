// `stackless workflows check <old build> <new build>` before a real deploy: version 1 of a
// project parks runs in a SQLite store (a real process, started in the project's directory as
// a user would); version 2 changes some functions. check lists the changes and the runs they
// would strand, from sources and from built output alike; then version 2 really resumes the
// runs, and exactly the runs check named fail with CODE_CHANGED.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transform } from '../../transformer/index.js';
import { cliPath, registerUrl, repoRoot, runNode } from '../plugins/helpers/index.js';

const dir = join(repoRoot, 'tests', '.tmp', `wf-check-${process.pid}`);
const db = join(dir, 'runs.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flow = (v: 1 | 2) => `import { signal, step } from 'stackless/workflow';

export function waitGo(): string {
  'use tasklet';
  const v = signal<string>('go').receive();${v === 2 ? "\n  step('extra', () => 1);" : ''}
  return v;
}

export function viaHelper(): string {
  'use tasklet';
  return 'helper got ' + waitGo();
}

export function direct(): string {
  'use tasklet';${v === 2 ? "\n  step('audit', () => 0);" : ''}
  return 'direct got ' + signal<string>('go').receive();
}
${v === 1 ? `
export function legacy(): string {
  'use tasklet';
  return 'legacy got ' + signal<string>('go').receive();
}
` : `
export function fresh(): string {
  'use tasklet';
  return step('new', () => 'new');
}
`}`;

const steady = `import { signal } from 'stackless/workflow';
export function steady(): string {
  'use tasklet';
  // a comment here in version 2 does not change the layout: ${'same fingerprint'}
  return 'steady got ' + signal<string>('go').receive();
}
`;

const main = (v: 1 | 2) => `import { createEngine, sqliteStore } from 'stackless/workflow';
import * as flow from './flow.ts';
import { steady } from './steady.ts';

const [mode, db] = process.argv.slice(2);
const engine = createEngine({ store: sqliteStore(db) });
const ids = ['helper', 'direct', 'steady', 'legacy'];
if (mode === 'start') {
  await engine.start(flow.viaHelper, [], { id: 'helper' });
  await engine.start(flow.direct, [], { id: 'direct' });
  await engine.start(steady, [], { id: 'steady' });
  ${v === 1 ? "await engine.start(flow.legacy, [], { id: 'legacy' });" : ''}
  await engine.start(flow.direct, [], { id: 'direct-done' });
  await engine.drain();
  await engine.signal('direct-done', 'go', 'early');
  await engine.drain();
} else {
  for (const id of ids) await engine.signal(id, 'go', 'it');
  await engine.drain();
}
const out = {};
for (const id of [...ids, 'direct-done']) {
  const r = await engine.get(id);
  out[id] = { status: r.status, code: r.error?.code ?? null };
}
console.log(JSON.stringify(out));
await engine.close();
`;

function write(v: 1 | 2) {
  const d = join(dir, `v${v}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'flow.ts'), flow(v));
  writeFileSync(join(d, 'steady.ts'), v === 1 ? steady : steady.replace('// a comment', '// another comment'));
  writeFileSync(join(d, 'main.ts'), main(v));
  return d;
}

/** Runs main.ts of version `v` in its own directory (ids are relative to it, as for a user). */
function app(v: 1 | 2, mode: string) {
  const r = runNode(['--import', registerUrl, 'main.ts', mode, db], { cwd: join(dir, `v${v}`) });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, { status: string; code: string | null }>;
}

const check = (...args: string[]) => runNode([cliPath, 'workflows', 'check', ...args, '--db', db], { cwd: dir });

beforeAll(() => {
  mkdirSync(dir, { recursive: true });
  write(1);
  write(2);
  // version 1's built output: what a bundler or the Node hook made of its sources
  const out = join(dir, 'v1-dist');
  mkdirSync(out, { recursive: true });
  for (const f of ['flow', 'steady']) {
    const src = join(dir, 'v1', `${f}.ts`);
    writeFileSync(join(out, `${f}.js`), transform(readFileSync(src, 'utf8'), src, { root: join(dir, 'v1'), stripTypes: true }).code);
  }
  expect(app(1, 'start')).toEqual({
    helper: { status: 'waiting', code: null },
    direct: { status: 'waiting', code: null },
    steady: { status: 'waiting', code: null },
    legacy: { status: 'waiting', code: null },
    'direct-done': { status: 'finished', code: null },
  });
});

interface Report {
  old: { functions: Record<string, string> };
  new: { functions: Record<string, string> };
  changes: Array<{ id: string; change: string; old: string | null; new: string | null; source: string; line: number }>;
  inFlight: number;
  stranded: Array<{ id: string; status: string; workflow: string; functions: Array<{ id: string; as: string; pinned: string; build: string | null }> }>;
  alreadyStranded: unknown[];
  rescued: string[];
}

describe('stackless workflows check', () => {
  let report: Report;

  it('--json: the changed, removed and added functions, and the runs each change strands', () => {
    const r = check('v1', 'v2', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    report = JSON.parse(r.stdout);
    const o = report.old.functions;
    const n = report.new.functions;
    expect(Object.keys(o).sort()).toEqual(['flow.ts#direct', 'flow.ts#legacy', 'flow.ts#viaHelper', 'flow.ts#waitGo', 'steady.ts#steady']);
    expect(Object.keys(n).sort()).toEqual(['flow.ts#direct', 'flow.ts#fresh', 'flow.ts#viaHelper', 'flow.ts#waitGo', 'steady.ts#steady']);
    expect(n['steady.ts#steady']).toBe(o['steady.ts#steady']); // a comment is not a layout change
    expect(n['flow.ts#viaHelper']).toBe(o['flow.ts#viaHelper']);
    expect(report.changes).toEqual([
      { id: 'flow.ts#direct', change: 'changed', old: o['flow.ts#direct'], new: n['flow.ts#direct'], source: 'flow.ts', line: 15 },
      { id: 'flow.ts#fresh', change: 'added', old: null, new: n['flow.ts#fresh'], source: 'flow.ts', line: 21 },
      { id: 'flow.ts#legacy', change: 'removed', old: o['flow.ts#legacy'], new: null, source: 'flow.ts', line: 19 },
      { id: 'flow.ts#waitGo', change: 'changed', old: o['flow.ts#waitGo'], new: n['flow.ts#waitGo'], source: 'flow.ts', line: 3 },
    ]);
    expect(report.inFlight).toBe(4);
    expect(report.stranded).toEqual([
      { id: 'helper', status: 'waiting', workflow: 'flow.ts#viaHelper', functions: [{ id: 'flow.ts#waitGo', as: 'stack', pinned: o['flow.ts#waitGo'], build: n['flow.ts#waitGo'] }] },
      { id: 'direct', status: 'waiting', workflow: 'flow.ts#direct', functions: [{ id: 'flow.ts#direct', as: 'workflow', pinned: o['flow.ts#direct'], build: n['flow.ts#direct'] }] },
      { id: 'legacy', status: 'waiting', workflow: 'flow.ts#legacy', functions: [{ id: 'flow.ts#legacy', as: 'workflow', pinned: o['flow.ts#legacy'], build: null }] },
    ]);
    expect([report.alreadyStranded, report.rescued]).toEqual([[], []]);
  });

  it('text: readable, exit code 1', () => {
    const r = check('v1', 'v2');
    expect(r.status).toBe(1);
    const o = report.old.functions;
    const n = report.new.functions;
    expect(r.stdout).toBe(
      'old build v1: 5 tasklet functions in 2 files\n' +
        'new build v2: 5 tasklet functions in 2 files\n' +
        '\nchanged (fingerprint old -> new):\n' +
        `  flow.ts#direct  ${o['flow.ts#direct']} -> ${n['flow.ts#direct']}  flow.ts:15\n` +
        `  flow.ts#waitGo  ${o['flow.ts#waitGo']} -> ${n['flow.ts#waitGo']}  flow.ts:3\n` +
        '\nremoved:\n' +
        `  flow.ts#legacy  ${o['flow.ts#legacy']}  flow.ts:19\n` +
        '\nadded:\n' +
        `  flow.ts#fresh  ${n['flow.ts#fresh']}  flow.ts:21\n` +
        '\n4 runs running or waiting in the store\n' +
        '3 would be stranded on the new build (changed code: the run fails with CODE_CHANGED unless a migration covers it; ' +
        'a removed workflow function: no worker can load the run):\n' +
        '  helper  waiting  flow.ts#viaHelper\n' +
        `    on its stack: flow.ts#waitGo (pinned ${o['flow.ts#waitGo']}, build has ${n['flow.ts#waitGo']})\n` +
        '  direct  waiting  flow.ts#direct\n' +
        `    workflow: flow.ts#direct (pinned ${o['flow.ts#direct']}, build has ${n['flow.ts#direct']})\n` +
        '  legacy  waiting  flow.ts#legacy\n' +
        `    workflow: flow.ts#legacy (pinned ${o['flow.ts#legacy']}, not in the build)\n`,
    );
  });

  it('built output reads like its sources: v1 vs its compiled output changes nothing, exit 0', () => {
    const same = check('v1', 'v1-dist');
    expect(same.status).toBe(0);
    expect(same.stdout).toBe(
      'old build v1: 5 tasklet functions in 2 files\nnew build v1-dist: 5 tasklet functions in 2 files\n\nno tasklet function changed\n' +
        '\n4 runs running or waiting in the store\nno run would be stranded by this change\n',
    );
    const fromDist = JSON.parse(check('v1-dist', 'v2', '--json').stdout) as Report;
    expect(fromDist.changes).toEqual(report.changes.map((c) => (c.change === 'removed' ? { ...c, source: 'flow.js' } : c)));
    expect(fromDist.stranded).toEqual(report.stranded);
  });

  it('the other way round: runs pinned to code the old build lacks', () => {
    const r = JSON.parse(check('v2', 'v1', '--json').stdout) as Report;
    expect(r.stranded).toEqual([]);
    expect(r.rescued).toEqual(['helper', 'direct', 'legacy']);
  });

  it('what check predicted is what happens when version 2 resumes the runs', () => {
    const after = app(2, 'resume');
    const failed = Object.entries(after).filter(([, v]) => v.status === 'failed').map(([id, v]) => `${id} ${v.code}`);
    expect(failed.sort()).toEqual(['direct CODE_CHANGED', 'helper CODE_CHANGED']);
    expect(after.legacy).toEqual({ status: 'waiting', code: null }); // skipped: its workflow function is gone
    expect(after.steady).toEqual({ status: 'finished', code: null });
    expect(after['direct-done']).toEqual({ status: 'finished', code: null });
  });

  it('bad builds: a missing folder, a file, a folder with two versions of a function (exit 2)', () => {
    const missing = check('v1', 'nowhere');
    expect([missing.status, missing.stderr]).toEqual([2, "stackless workflows check: cannot find the build 'nowhere' (give a directory: the project's sources or its built output)\n"]);
    const file = check('v1', 'v1/flow.ts');
    expect([file.status, file.stderr]).toEqual([2, "stackless workflows check: the build 'v1/flow.ts' is not a directory (give the project's directory or its built output folder)\n"]);
    const both = join(dir, 'both');
    mkdirSync(join(both, 'dist'), { recursive: true });
    writeFileSync(join(both, 'flow.ts'), flow(2));
    writeFileSync(join(both, 'dist', 'flow.js'), readFileSync(join(dir, 'v1-dist', 'flow.js')));
    const mixed = check('v1', 'both');
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(
      /^stackless workflows check: the build 'both' has two versions of tasklet function flow\.ts#\w+: fingerprint [0-9a-f]{8} in dist\/flow\.js, [0-9a-f]{8} in flow\.ts \(give either the sources or the built output, not a folder with both, or rebuild the output\)\n$/,
    );
    const usage = check('v1');
    expect([usage.status, usage.stderr.split('\n')[0]]).toEqual([2, "stackless workflows: 'workflows check' needs two builds: the deployed one and the new one"]);
  });
});
