// tasklet.frames from the metadata the transformer puts in every record.
import { describe, it, expect } from 'vitest';
import { Channel, spawn, run } from 'stackless';

function inner(ch: Channel<number>, k: number): number {
  'use tasklet';
  const got = ch.receive();
  return got + k;
}

function outer(ch: Channel<number>): number {
  'use tasklet';
  const base = 10;
  return inner(ch, base) * 2;
}

describe('tasklet.frames', () => {
  it('lists the saved frames innermost last, with source positions and locals', () => {
    const ch = new Channel<number>();
    const t = spawn(outer, ch);
    expect(t.frames).toEqual([]);
    run();
    const frames = t.frames;
    expect(frames.map((f) => f.function)).toEqual(['outer', 'inner']);
    expect(frames[0].file).toMatch(/frames\.test\.ts$/);
    expect(frames[1].line).toBe(7); // const got = ch.receive();
    expect(frames[0].line).toBe(14); // return inner(ch, base) * 2;
    // (channels are iterable with a blocking next(): compare them by identity only)
    expect(frames[0].locals.ch).toBe(ch);
    expect(frames[0].locals.base).toBe(10);
    expect(frames[1].locals.ch).toBe(ch);
    expect(frames[1].locals.k).toBe(10);
    expect(t.recursionDepth).toBe(2);
    ch.send(1);
    expect(t.result).toBe(22);
    expect(t.frames).toEqual([]);
  });
});

// ---- every kind of suspended tasklet, and the current one ----
import { Tasklet, schedule, scheduleRemove, getCurrent, select } from 'stackless';

function sendsIn(ch: Channel<string>): void {
  'use tasklet';
  const greeting = 'hi';
  ch.send(greeting);
}

function yields(log: string[]): void {
  'use tasklet';
  log.push('a');
  schedule();
  log.push('b');
}

function removes(): unknown {
  'use tasklet';
  const who = 'me';
  return scheduleRemove(who);
}

function joins(other: Tasklet): void {
  'use tasklet';
  other.join();
}

function selects(a: Channel<number>, b: Channel<number>): number {
  'use tasklet';
  const r = select([a, b]);
  return r.value as number;
}

function each(xs: number[], ch: Channel<number>, out: number[]): void {
  'use tasklet';
  xs.forEach((x) => {
    'use tasklet';
    out.push(x + ch.receive());
  });
}

function looksAtItself(seen: unknown[]): void {
  'use tasklet';
  seen.push(getCurrent().frames.map((f) => f.function));
  schedule();
  seen.push(getCurrent().frames.map((f) => `${f.function}:${f.line}`));
}

function outerLook(seen: unknown[]): void {
  'use tasklet';
  const mark = 7;
  looksAtItself(seen);
  seen.push(mark);
}

const pos = (t: Tasklet) => t.frames.map((f) => `${f.function}:${f.line}:${f.column}`);

describe('tasklet.frames in every state', () => {
  it('blocked sending', () => {
    const ch = new Channel<string>();
    const t = spawn(sendsIn, ch);
    run();
    expect(t.blocked).toBe(true);
    expect(pos(t)).toEqual(['sendsIn:46:2']);
    expect(t.frames[0].locals.ch).toBe(ch); // (identity only: toEqual would iterate the channel)
    expect(t.frames[0].locals.greeting).toBe('hi');
    expect(ch.receive()).toBe('hi');
  });

  it('runnable after schedule() (not current), and paused after scheduleRemove()', () => {
    const log: string[] = [];
    const a = spawn(yields, log);
    const b = spawn(removes);
    // main runs a at once; a yields to b, b removes itself, main is next: a.run() returns
    a.run();
    expect(log).toEqual(['a']);
    expect(a.scheduled && !a.blocked && !a.isCurrent).toBe(true);
    expect(pos(a)).toEqual(['yields:52:2']);
    expect(b.paused).toBe(true);
    expect(pos(b)).toEqual(['removes:59:9']);
    expect(b.frames[0].locals).toEqual({ who: 'me' });
    b.insert();
    run();
    expect(log).toEqual(['a', 'b']);
    expect(b.result).toBe('me');
  });

  it('a tasklet that yielded is described while another one runs', () => {
    const log: string[] = [];
    const a = spawn(yields, log);
    let seen: string[] = [];
    const watcher = new Tasklet(() => {
      seen = pos(a);
    });
    watcher.setup();
    run();
    // order: a (a, schedule) -> watcher looks at a -> a (b)
    expect(seen).toEqual(['yields:52:2']);
    expect(log).toEqual(['a', 'b']);
  });

  it('waiting in join() and in select()', () => {
    const x = new Channel<number>();
    const y = new Channel<number>();
    const s = spawn(selects, x, y);
    const j = spawn(joins, s);
    run();
    expect(pos(j)).toEqual(['joins:64:2']);
    expect(pos(s)).toEqual(['selects:69:12']);
    y.send(4); // s runs at once and ends; j is woken (runnable) but main runs first
    expect(s.result).toBe(4);
    expect(j.scheduled && !j.blocked).toBe(true);
    expect(pos(j)).toEqual(['joins:64:2']);
    run();
    expect(j.alive).toBe(false);
  });

  it('inside an array callback: the helper record is listed by name, without a position', () => {
    const ch = new Channel<number>();
    const out: number[] = [];
    const t = spawn(each, [1, 2], ch, out);
    run();
    const f = t.frames;
    expect(f.map((x) => x.function)).toEqual(['each', '$forEach', '<anonymous>']);
    expect(f[0].line).toBe(75);
    expect(f[1].line).toBeNull();
    expect(f[2].line).toBe(77);
    ch.send(10);
    ch.send(20);
    expect(out).toEqual([11, 22]);
  });

  it('for the current tasklet: only the callers that are still records', () => {
    const seen: unknown[] = [];
    spawn(outerLook, seen);
    spawn(() => {}); // so that schedule() switches
    run();
    // first look: nothing was ever suspended, every frame is on the JS stack;
    // after schedule() only looksAtItself was re-entered, outerLook is still a record
    expect(seen).toEqual([[], ['outerLook:91'], 7]);
  });
});
