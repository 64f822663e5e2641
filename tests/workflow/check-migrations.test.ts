// Migrations across a real deploy: version 1 parks runs in a SQLite store (a real process in
// the project's directory); version 2 adds a step before the point where they wait. Without a
// migration those runs fail with CODE_CHANGED (as `workflows check` predicts); with one
// (fingerprints taken from `workflows check --json`) they resume in version 2 at the mapped
// call, with their variables, and no completed step runs again.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migration, migrateSnapshot } from '../../workflow/migrations.js';
import { cliPath, registerUrl, repoRoot, runNode } from '../plugins/helpers/index.js';

const dir = join(repoRoot, 'tests', '.tmp', `wf-migrate-${process.pid}`);
const db = join(dir, 'runs.db');
const log = join(dir, 'steps.log');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// line numbers matter here: the migrations below name them
const flow = (v: 1 | 2) => `import { appendFileSync } from 'node:fs';
import { signal, step } from 'stackless/workflow';
const note = (s: string) => appendFileSync(process.env.STEP_LOG!, s + '\\n');

export function order(item: string): string {
  'use tasklet';
  const price = step('price', () => (note('price ' + item), 10));${v === 2 ? "\n  const discount = step('discount', () => (note('discount ' + item), 3));" : ''}
  const ok = signal<boolean>('approve').receive();
  if (!ok) return 'rejected';
  step('ship', () => note('ship ' + item));
  signal<boolean>('delivered').receive();
  return item + ' shipped at ' + ${v === 2 ? '(price - discount)' : 'price'};
}

export function approval(who: string): boolean {
  'use tasklet';${v === 2 ? "\n  const asked = who.toUpperCase();" : ''}
  const answer = signal<boolean>('approve').receive();
  return ${v === 2 ? 'asked.length > 0 && answer' : 'answer'};
}

export function viaHelper(item: string): string {
  'use tasklet';
  const ok = approval('boss');
  return item + (ok ? ' approved' : ' refused');
}

export function unmigrated(): string {
  'use tasklet';${v === 2 ? "\n  step('new', () => 0);" : ''}
  return 'got ' + signal<string>('approve').receive();
}

export function badlyMigrated(): string {
  'use tasklet';${v === 2 ? "\n  step('new', () => 0);" : ''}
  return 'got ' + signal<string>('approve').receive();
}
`;

/** 1-based line of the first line of version v's flow.ts that contains `marker`. */
const lineOf = (v: 1 | 2, marker: string) => flow(v).split('\n').findIndex((l) => l.includes(marker)) + 1;

const main = `import { createEngine, sqliteStore } from 'stackless/workflow';
import * as flow from './flow.ts';

const [mode, db, migrationsFile] = process.argv.slice(2);
let store = sqliteStore(db);
if (migrationsFile) {
  const { withMigrations } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'workflow', 'migrations.js')).href)});
  store = withMigrations(store, (await import(migrationsFile)).default);
}
const engine = createEngine({ store });
const ids = ['lamp', 'desk', 'helper', 'plain', 'bad'];
if (mode === 'start') {
  await engine.start(flow.order, ['lamp'], { id: 'lamp' });
  await engine.start(flow.order, ['desk'], { id: 'desk' });
  await engine.start(flow.viaHelper, ['chair'], { id: 'helper' });
  await engine.start(flow.unmigrated, [], { id: 'plain' });
  await engine.start(flow.badlyMigrated, [], { id: 'bad' });
} else if (mode === 'approve') {
  await engine.signal('lamp', 'approve', true);
  await engine.signal('desk', 'approve', false);
  await engine.signal('plain', 'approve', 'x');
  await engine.signal('bad', 'approve', 'x');
} else if (mode === 'deliver') {
  await engine.signal('lamp', 'delivered', true);
}
await engine.drain();
const out = {};
for (const id of ids) {
  const r = await engine.get(id);
  out[id] = { status: r.status, result: r.result ?? null, code: r.error?.code ?? null, message: r.error?.message ?? null };
}
console.log(JSON.stringify(out));
await engine.close();
`;

type Runs = Record<string, { status: string; result: unknown; code: string | null; message: string | null }>;

function app(v: 1 | 2, mode: string, migrations?: string): Runs {
  const r = runNode(['--import', registerUrl, 'main.ts', mode, db, ...(migrations ? [migrations] : [])], { cwd: join(dir, `v${v}`), env: { STEP_LOG: log } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Runs;
}

let fps: { old: Record<string, string>; new: Record<string, string> };

beforeAll(() => {
  for (const v of [1, 2] as const) {
    mkdirSync(join(dir, `v${v}`), { recursive: true });
    writeFileSync(join(dir, `v${v}`, 'flow.ts'), flow(v));
    writeFileSync(join(dir, `v${v}`, 'main.ts'), main);
  }
  const started = app(1, 'start');
  for (const id of ['lamp', 'desk', 'helper', 'plain', 'bad']) expect(started[id].status).toBe('waiting');
  const check = runNode([cliPath, 'workflows', 'check', 'v1', 'v2', '--db', db, '--json'], { cwd: dir });
  expect(check.status).toBe(1);
  const report = JSON.parse(check.stdout);
  fps = { old: report.old.functions, new: report.new.functions };
  expect(report.stranded.map((s: { id: string }) => s.id)).toEqual(['lamp', 'desk', 'helper', 'plain', 'bad']);
});

describe('migrations', () => {
  it('runs parked by version 1 resume in version 2 through migrations; the others fail with CODE_CHANGED', () => {
    const f = (id: string) => `'${id}'`;
    const approveAt = (v: 1 | 2) => lineOf(v, "const ok = signal<boolean>('approve')");
    const badAt = flow(1).split('\n').lastIndexOf("  return 'got ' + signal<string>('approve').receive();") + 1;
    expect(badAt).toBeGreaterThan(approveAt(1));
    writeFileSync(
      join(dir, 'v2', 'migrations.mjs'),
      `export default [
  // order: v2 waits one line further down, after the new 'discount' step (not run for old runs: discount 0)
  { fn: ${f('flow.ts#order')}, from: ${f(fps.old['flow.ts#order'])}, to: ${f(fps.new['flow.ts#order'])}, resume: { ${approveAt(1)}: ${approveAt(2)} },
    locals: (old) => ({ ...old.locals, discount: 0 }) },
  // a helper on the saved stack: its new variable 'asked' is computed from the old ones
  { fn: ${f('flow.ts#approval')}, from: ${f(fps.old['flow.ts#approval'])}, to: ${f(fps.new['flow.ts#approval'])},
    resume: (old) => old.line + ${lineOf(2, "const answer") - lineOf(1, "const answer")}, locals: (old) => ({ ...old.locals, asked: old.locals.who.toUpperCase() }) },
  // a wrong line: the run fails and says why
  { fn: ${f('flow.ts#badlyMigrated')}, from: ${f(fps.old['flow.ts#badlyMigrated'])}, to: ${f(fps.new['flow.ts#badlyMigrated'])}, resume: { ${badAt}: ${badAt + 2} } },
];
`,
    );
    // before the deploy: check tries the migrations against the new build and the stored runs
    const dry = runNode([cliPath, 'workflows', 'check', 'v1', 'v2', '--db', db, '--migrations', 'v2/migrations.mjs', '--json'], { cwd: dir });
    expect(dry.stderr).toBe('');
    expect(dry.status).toBe(1); // 'plain' and 'bad' would still be stranded
    const planned = JSON.parse(dry.stdout);
    const step = (fn: string, frames: number) => ({ fn, from: fps.old[fn], to: fps.new[fn], frames });
    expect(planned.migrated).toEqual([
      { id: 'lamp', status: 'waiting', workflow: 'flow.ts#order', migrations: [step('flow.ts#order', 1)] },
      { id: 'desk', status: 'waiting', workflow: 'flow.ts#order', migrations: [step('flow.ts#order', 1)] },
      { id: 'helper', status: 'waiting', workflow: 'flow.ts#viaHelper', migrations: [step('flow.ts#approval', 1)] },
    ]);
    expect(planned.stranded.map((x: { id: string; migration?: string }) => [x.id, x.migration ?? null])).toEqual([
      ['plain', null],
      ['bad', `run 'bad': migration of flow.ts#badlyMigrated from ${fps.old['flow.ts#badlyMigrated']} to ${fps.new['flow.ts#badlyMigrated']} cannot map a saved frame: ` +
        `line ${badAt + 2} of the new code (flow.ts) has no call a frame can resume at (lines with one: ${badAt + 3}, ${badAt + 4})`],
    ]);
    const text = runNode([cliPath, 'workflows', 'check', 'v1', 'v2', '--db', db, '--migrations', 'v2/migrations.mjs'], { cwd: dir }).stdout;
    expect(text).toContain(
      '3 resume on the new build through the migrations in v2/migrations.mjs:\n' +
        `  lamp  waiting  flow.ts#order: flow.ts#order ${fps.old['flow.ts#order']} -> ${fps.new['flow.ts#order']} (1 frame)\n`,
    );
    expect(text).toContain('2 would be stranded on the new build');

    const after = app(2, 'approve', './migrations.mjs');
    expect(after.lamp).toEqual({ status: 'waiting', result: null, code: null, message: null }); // shipped, waits for 'delivered'
    expect(after.desk).toEqual({ status: 'finished', result: 'rejected', code: null, message: null });
    expect(after.helper).toEqual({ status: 'waiting', result: null, code: null, message: null }); // no signal for it yet
    expect(after.plain.status).toBe('failed');
    expect(after.plain.code).toBe('CODE_CHANGED');
    expect(after.plain.message).toContain(`workflow function unmigrated (flow.ts#unmigrated) has changed since the run started: the run is pinned to fingerprint ${fps.old['flow.ts#unmigrated']}, the loaded code has ${fps.new['flow.ts#unmigrated']}`);
    expect(after.bad.status).toBe('failed');
    // (through withMigrations the engine sees a row it cannot use: CORRUPT, with the migration's message)
    expect(after.bad.code).toBe('CORRUPT');
    expect(after.bad.message).toBe(
      `run 'bad': migration of flow.ts#badlyMigrated from ${fps.old['flow.ts#badlyMigrated']} to ${fps.new['flow.ts#badlyMigrated']} cannot map a saved frame: ` +
        `line ${badAt + 2} of the new code (flow.ts) has no call a frame can resume at (lines with one: ${badAt + 3}, ${badAt + 4})`,
    );
    // the run's journal says which migration rewrote its checkpoint
    const journal = JSON.parse(runNode([cliPath, 'workflows', 'show', 'lamp', '--db', db, '--json']).stdout).journal as Array<{ kind: string; data: unknown }>;
    expect(journal.map((j) => j.kind)).toEqual(['started', 'step', 'migrated', 'signal', 'step']);
    expect(journal[2].data).toEqual({ migrations: [{ fn: 'flow.ts#order', from: fps.old['flow.ts#order'], to: fps.new['flow.ts#order'], frames: 1 }] });
    expect(runNode([cliPath, 'workflows', 'show', 'lamp', '--db', db]).stdout).toContain(
      ` migrated flow.ts#order ${fps.old['flow.ts#order']} -> ${fps.new['flow.ts#order']} (1 frame)\n`,
    );
    // completed steps never ran again; the new 'discount' step did not run for the old runs
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual(['price desk', 'price lamp', 'ship lamp']);
  });

  it('a migrated run keeps going in later processes: its checkpoint is in the new layout, its pin maps through the migration', () => {
    const after = app(2, 'deliver', './migrations.mjs');
    expect(after.lamp).toEqual({ status: 'finished', result: 'lamp shipped at 10', code: null, message: null });
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual(['price desk', 'price lamp', 'ship lamp']);
    // the helper run: migrated when its signal arrives, the changed helper's new variable computed by the migration
    const sig = runNode(['--input-type=module', '-e', `
      import { sqliteStore } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'workflow', 'index.js')).href)};
      const s = sqliteStore(${JSON.stringify(db)});
      s.addSignal('helper', 'approve', JSON.stringify({ format: 'stackless-snapshot', version: 1, time: 0, fns: [], classes: [], roots: [true], objs: [] }));
      s.close();`]);
    expect(sig.stderr).toBe('');
    expect(app(2, 'resume', './migrations.mjs').helper).toEqual({ status: 'finished', result: 'chair approved', code: null, message: null });
  });

  it('a run failed by a wrong migration kept its checkpoint: fix the migration, retry, it resumes', () => {
    const fixed = readFileSync(join(dir, 'v2', 'migrations.mjs'), 'utf8').replace(/resume: \{ (\d+): (\d+) \} \},\n\];/, (_, from, to) => `resume: { ${from}: ${Number(to) + 2} } },\n];`);
    writeFileSync(join(dir, 'v2', 'fixed.mjs'), fixed);
    expect(runNode([cliPath, 'workflows', 'retry', 'bad', '--db', db]).status).toBe(0);
    // the signal it was sent before it failed is still in its inbox
    expect(app(2, 'resume', './fixed.mjs').bad).toEqual({ status: 'finished', result: 'got x', code: null, message: null });
  });

  it('migration() checks what it is given; migrateSnapshot leaves other snapshots alone', () => {
    expect(() => migration({ fn: 'order', from: 'x', to: 'y' })).toThrow("migration('order'): fn must be a function's stable id, e.g. 'src/order.ts#order'");
    expect(() => migration({ fn: 'a.ts#f', from: '1234', to: '0a2cff61' })).toThrow(
      "migration('a.ts#f'): from must be a fingerprint (8 hex digits, as in the CODE_CHANGED error or 'stackless workflows check'), got \"1234\"",
    );
    expect(() => migration({ fn: 'a.ts#f', from: '0a2cff61', to: '0a2cff61' })).toThrow("migration('a.ts#f'): from and to are the same fingerprint");
    expect(() => migration({ fn: 'a.ts#f', from: '0a2cff61', to: '0a2cff62', resume: { x: 3 } as never })).toThrow("migration('a.ts#f'): resume: 'x' is not a line number");
    const snap = JSON.stringify({ format: 'stackless-snapshot', version: 1, time: 0, fns: [['nowhere.ts#f', '0a2cff61']], classes: [], roots: [], objs: [] });
    expect(migrateSnapshot(snap, [migration({ fn: 'nowhere.ts#f', from: '0a2cff61', to: '0a2cff62' })])).toBeNull();
  });
});
