// Code changes between two processes: runs park in one process; the module of their workflow
// changes on disk; a second process resumes. Runs whose functions changed fail with
// CODE_CHANGED (the workflow function's pinned fingerprint, or a changed helper on the saved
// stack); a run of unchanged code finishes.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerUrl, repoRoot, runNode } from '../plugins/helpers/index.js';

const dir = join(repoRoot, 'tests', '.tmp', `wf-versions-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flow = (version: 1 | 2) => `
import { signal, step } from 'stackless/workflow';

export function waitGo(): string {
  'use tasklet';
  const v = signal<string>('go').receive();
  ${version === 2 ? "step('extra', () => 1);" : ''}
  return v;
}

export function viaHelper(): string {
  'use tasklet';
  return 'helper got ' + waitGo();
}

export function direct(): string {
  'use tasklet';
  ${version === 2 ? "step('audit', () => 0);" : ''}
  return 'direct got ' + signal<string>('go').receive();
}
`;

const steady = `
import { signal } from 'stackless/workflow';
export function steady(): string {
  'use tasklet';
  return 'steady got ' + signal<string>('go').receive();
}
`;

const main = `
import { createEngine, sqliteStore } from 'stackless/workflow';
import { viaHelper, direct } from './flow.ts';
import { steady } from './steady.ts';

const [mode, db] = process.argv.slice(2);
const engine = createEngine({ store: sqliteStore(db) });
const ids = ['helper', 'direct', 'steady'];
if (mode === 'start') {
  await engine.start(viaHelper, [], { id: 'helper' });
  await engine.start(direct, [], { id: 'direct' });
  await engine.start(steady, [], { id: 'steady' });
  await engine.drain();
} else {
  for (const id of ids) await engine.signal(id, 'go', 'it');
  await engine.drain();
}
const out = {};
for (const id of ids) {
  const r = await engine.get(id);
  out[id] = { status: r.status, result: r.result ?? null, code: r.error?.code ?? null, message: r.error?.message ?? null };
}
console.log(JSON.stringify(out));
await engine.close();
`;

function node(mode: string, db: string) {
  const r = runNode(['--import', registerUrl, join(dir, 'main.ts'), mode, db]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, { status: string; result: string | null; code: string | null; message: string | null }>;
}

describe('a deploy between two processes', () => {
  it('changed code fails its runs with CODE_CHANGED; unchanged code resumes', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'flow.ts'), flow(1));
    writeFileSync(join(dir, 'steady.ts'), steady);
    writeFileSync(join(dir, 'main.ts'), main);
    const db = join(dir, 'runs.db');

    const parked = node('start', db);
    expect(Object.values(parked).map((r) => r.status)).toEqual(['waiting', 'waiting', 'waiting']);

    writeFileSync(join(dir, 'flow.ts'), flow(2)); // the deploy
    const after = node('resume', db);
    expect(after.steady).toEqual({ status: 'finished', result: 'steady got it', code: null, message: null });
    expect(after.direct).toMatchObject({ status: 'failed', code: 'CODE_CHANGED' });
    expect(after.direct.message).toMatch(/^run 'direct' cannot resume: workflow function direct \(tests\/\.tmp\/wf-versions-\d+\/flow\.ts#direct\) has changed since the run started: the run is pinned to fingerprint \w+, the loaded code has \w+/);
    expect(after.helper).toMatchObject({ status: 'failed', code: 'CODE_CHANGED' });
    expect(after.helper.message).toMatch(/function waitGo \(.*flow\.ts#waitGo\) has changed: the snapshot has fingerprint \w+, the loaded code has \w+/);
  });
});
