// `stackless inspect snapshot.json` (the built CLI) on a snapshot taken here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Channel, spawn, run, sleep, snapshot, type Tasklet } from 'stackless';
import { cliPath, runNode } from '../plugins/helpers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'stackless-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function inner(ch: Channel<string>, label: string): string {
  'use tasklet';
  const greeting = `hello ${label}`;
  return greeting.toUpperCase() + ch.receive(); // INNER-LINE (a temporary holds the left operand)
}
function outerFn(ch: Channel<string>, count: number): string {
  'use tasklet';
  const tags = new Map([['a', 1]]);
  return inner(ch, `n${count}`) + tags.size; // OUTER-LINE
}
function looper(ch: Channel<string>, words: string[]): string {
  'use tasklet';
  let out = '';
  const add = (w: string) => (out += w); // a closure local
  for (const w of words) add(w + ch.receive());
  return out;
}
function napper(ms: number): void {
  'use tasklet';
  sleep(ms);
}

describe('stackless inspect', () => {
  it('prints tasklets with state, stack (names, source lines, locals) and channels', () => {
    const ch = new Channel<string>();
    const ts: Tasklet[] = [spawn(outerFn, ch, 7), spawn(outerFn, ch, 8)];
    run();
    const file = join(dir, 'snap.json');
    writeFileSync(file, JSON.stringify(snapshot(ch)));
    for (const t of ts) t.kill();
    const r = runNode([cliPath, 'inspect', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toContain('2 tasklets, 1 channel');
    expect(out).toMatch(/tasklet #\d+: blocked receiving on <channel #0>/);
    expect(out).toMatch(/ {4}inner at tests\/snapshot\/inspect\.test\.ts:15:\d+\n {6}ch = <channel #0>\n {6}label = "n7"\n {6}greeting = "hello n7"/);
    expect(out).toMatch(/ {4}outerFn at tests\/snapshot\/inspect\.test\.ts:20:\d+\n {6}ch = <channel #0>\n {6}count = 7\n {6}tags = Map\(1\) \{ "a" => 1 \}/);
    expect(out).toMatch(/channel #0: balance -2, preference -1\n {2}queue: <tasklet #\d+> receiving, <tasklet #\d+> receiving/);
    expect(out).toContain('tests/snapshot/inspect.test.ts#inner (fingerprint ');
    expect(out).not.toContain('$t0');
    expect(runNode([cliPath, 'inspect', '--all', file]).stdout).toContain('$t');
  });

  it('prints closures by name and for-of iterators with their source and position', () => {
    const ch = new Channel<string>();
    const t = spawn(looper, ch, ['a', 'b', 'c']);
    run();
    ch.send('!');
    const file = join(dir, 'loop.json');
    writeFileSync(file, JSON.stringify(snapshot(t)));
    t.kill();
    const out = runNode([cliPath, 'inspect', '--all', file]).stdout;
    expect(out).toMatch(/ {6}add = <closure add>\n/);
    expect(out).toContain('<array values iterator, ["a", "b", "c"] at 2>');
    expect(out).toMatch(/closure factories:\n {2}tests\/snapshot\/inspect\.test\.ts#looper\/add \(fingerprint [0-9a-f]{8}\)/);
  });

  it('prints packed tasklets (a snapshot of 40 of one shape) like plain ones', () => {
    const ch = new Channel<string>();
    const ts: Tasklet[] = Array.from({ length: 40 }, (_, i) => spawn(outerFn, ch, 100 + i));
    run();
    const data = snapshot(ch);
    expect(data.packs?.length).toBe(1); // the 40 tasklets are one pack
    const file = join(dir, 'packed.json');
    writeFileSync(file, JSON.stringify(data));
    for (const t of ts) t.kill();
    const r = runNode([cliPath, 'inspect', file]);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toContain('40 tasklets, 1 channel');
    expect(out).toMatch(/ {4}outerFn at tests\/snapshot\/inspect\.test\.ts:20:\d+\n {6}ch = <channel #0>\n {6}count = 139\n/);
    expect(out).toMatch(/channel #0: balance -40, preference -1\n {2}queue: <tasklet #1> receiving, <tasklet #2> receiving, .*\.\.\. \(40 in all\)/);
  });

  it('shows when a sleeper wakes', () => {
    const t = spawn(napper, 60_000);
    run();
    const file = join(dir, 'sleep.json');
    writeFileSync(file, JSON.stringify(snapshot(t)));
    t.kill();
    const out = runNode([cliPath, 'inspect', file]).stdout;
    expect(out).toMatch(/tasklet #0: sleeping until \S+Z \((59|60)\d{3} ms after the snapshot\)/);
  });

  it('refuses a file that is not a snapshot', () => {
    const file = join(dir, 'not.json');
    writeFileSync(file, '{"hello": 1}');
    const r = runNode([cliPath, 'inspect', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('is not a stackless snapshot');
  });
});
