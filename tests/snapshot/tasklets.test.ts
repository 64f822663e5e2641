// Real "use tasklet" code (compiled by the project's Vite plugin), suspended, saved to
// JSON text, restored into fresh objects and finished: the result must equal an
// uninterrupted run. The originals are killed so that each test leaves main alone.
import { describe, it, expect, afterEach } from 'vitest';
import {
  Channel, Tasklet, spawn, run, runAsync, schedule, sleep, wait, select, getRunCount, getCurrent,
  snapshot, restore, registerClass, SnapshotError, type SnapshotData,
} from 'stackless';

afterEach(() => {
  expect(getRunCount()).toBe(1);
  expect(getCurrent().isMain).toBe(true);
});

const viaJson = (s: SnapshotData): SnapshotData => JSON.parse(JSON.stringify(s));

function work(log: string[], n: number): number {
  'use tasklet';
  let acc = 0;
  for (let i = 0; i < n; i++) {
    try {
      switch (i % 3) {
        case 0:
          log.push(`zero ${i}`);
          schedule();
          break;
        case 1:
          try {
            if (i % 2 === 1) throw new Error(`odd ${i}`);
            schedule();
          } catch (e) {
            log.push(`caught ${(e as Error).message}`);
            schedule();
          }
          break;
        default:
          acc += i;
          schedule();
      }
    } finally {
      log.push(`finally ${i} acc=${acc}`);
    }
  }
  return acc;
}

function depth(n: number, log: string[]): number {
  'use tasklet';
  if (n === 0) {
    log.push('bottom');
    schedule();
    return 0;
  }
  return 1 + depth(n - 1, log);
}

function receiver(name: string, ch: Channel<number>, out: string[]): void {
  'use tasklet';
  const v = ch.receive();
  out.push(`${name} got ${v}`);
}

function sender(ch: Channel<string>, v: string): void {
  'use tasklet';
  ch.send(v);
}

function sleeper(ms: number, out: number[]): void {
  'use tasklet';
  sleep(ms);
  out.push(Date.now());
}

let thunkCalls = 0;
function answer(): Promise<number> {
  thunkCalls++;
  return Promise.resolve(42);
}
function waiter(out: number[]): void {
  'use tasklet';
  const v = wait(answer);
  out.push(v);
}

function selector(a: Channel<number>, b: Channel<number>, out: unknown[]): void {
  'use tasklet';
  const r = select([a, b]);
  out.push(r.index, r.value);
}

function double(x: number): number {
  'use tasklet';
  schedule();
  return 2 * x;
}
function mapper(xs: number[], out: number[][]): void {
  'use tasklet';
  out.push(xs.map(double));
}

class Counter {
  n = 0;
  step(k: number): number {
    'use tasklet';
    for (let i = 0; i < k; i++) {
      schedule();
      this.n++;
    }
    return this.n;
  }
}
registerClass(Counter);
function count(c: Counter): number {
  'use tasklet';
  return c.step(3);
}

function holdsSocket(log: string[]): void {
  'use tasklet';
  const handle = new WeakMap<object, number>();
  schedule();
  log.push(String(handle.has(log)));
}

function holdsClosure(log: string[]): void {
  'use tasklet';
  const add = (x: number) => x + log.length;
  schedule();
  log.push(String(add(1)));
}

function ordinaryOuter(): (x: number) => number {
  const secret = 41; // a binding of an ordinary function
  function inner(): (x: number) => number {
    'use tasklet';
    return (x: number) => x + secret;
  }
  return inner();
}

function holdsOrdinaryCapture(log: string[]): void {
  'use tasklet';
  const add = ordinaryOuter();
  schedule();
  log.push(String(add(1)));
}

function deadTemp(log: string[]): void {
  'use tasklet';
  const seen = new WeakMap<object, number>().has(log); // the WeakMap only lives in a temporary
  schedule();
  log.push(`seen ${seen}`);
}

function selfSnap(out: unknown[]): void {
  'use tasklet';
  try {
    snapshot(getCurrent());
  } catch (e) {
    out.push(e);
  }
}

/** Runs main's share of the scheduler `steps` times (each tasklet runs to its next switch). */
function steps(k: number): void {
  for (let i = 0; i < k; i++) schedule();
}

describe('snapshot and restore of suspended tasklets', () => {
  it('inside loops, try/catch/finally and switch: same log and result as an uninterrupted run', () => {
    const ref: string[] = [];
    const r = spawn(work, ref, 9);
    run();
    for (let k = 1; ; k++) {
      const log: string[] = [];
      const t = spawn(work, log, 9);
      steps(k);
      if (!t.alive) {
        expect(k).toBeGreaterThan(9);
        break;
      }
      const data = viaJson(snapshot(t, log));
      t.kill();
      const { roots, tasklets } = restore(data);
      const [t2, log2] = roots as [Tasklet<number>, string[]];
      expect(tasklets).toEqual([t2]);
      expect(t2.paused).toBe(true);
      t2.insert();
      run();
      expect(log2, `snapshot after ${k} steps`).toEqual(ref);
      expect(t2.result).toBe(r.result);
    }
  });

  it('10,000 frames deep', () => {
    const log: string[] = [];
    const t = spawn(depth, 10_000, log);
    steps(1);
    expect(t.recursionDepth).toBe(10_001);
    const data = viaJson(snapshot(t));
    t.kill();
    expect(data.objs[0][3] as unknown[]).toHaveLength(10_001);
    const [t2] = restore(data).roots as Tasklet<number>[];
    t2.insert();
    run();
    expect(t2.result).toBe(10_000);
  });

  it('a channel with waiting receivers comes back with the same balance and queue order', () => {
    const ch = new Channel<number>();
    const out: string[] = [];
    const ts = ['a', 'b', 'c'].map((n) => spawn(receiver, n, ch, out));
    run();
    expect(ch.balance).toBe(-3);
    const { roots, tasklets, channels } = restore(viaJson(snapshot(ch, out)));
    for (const t of ts) t.kill();
    const [ch2, out2] = roots as [Channel<number>, string[]];
    expect(channels).toHaveLength(1);
    expect(ch2.balance).toBe(-3);
    expect(tasklets).toHaveLength(3);
    expect(tasklets.every((t) => t.blocked)).toBe(true);
    expect(ch2.queue === tasklets[0]).toBe(true);
    for (let i = 1; i <= 3; i++) ch2.send(i);
    run();
    expect(out).toEqual([]);
    expect(out2).toEqual(['a got 1', 'b got 2', 'c got 3']);
    expect(ch2.balance).toBe(0);
  });

  it('a blocked sender delivers its value from the restored channel', () => {
    const ch = new Channel<string>();
    const t = spawn(sender, ch, 'hello');
    run();
    expect(ch.balance).toBe(1);
    const [t2, ch2] = restore(viaJson(snapshot(t, ch))).roots as [Tasklet, Channel<string>];
    t.kill();
    expect(t2.blocked).toBe(true);
    expect(ch2.balance).toBe(1);
    expect(ch2.receive()).toBe('hello');
    run();
    expect(t2.alive).toBe(false);
  });

  it('the channel a tasklet is blocked on comes along even when not given', () => {
    const ch = new Channel<number>();
    const out: string[] = [];
    const t = spawn(receiver, 'r', ch, out);
    run();
    const { roots, channels } = restore(viaJson(snapshot(t, out)));
    t.kill();
    const [t2, out2] = roots as [Tasklet, string[]];
    expect(t2.blocked).toBe(true);
    expect(channels).toHaveLength(1);
    expect(channels[0].balance).toBe(-1);
    channels[0].send(5);
    run();
    expect(out2).toEqual(['r got 5']);
  });

  it('a sleeping tasklet wakes at its absolute deadline', async () => {
    const out: number[] = [];
    const start = Date.now();
    const t = spawn(sleeper, 120, out);
    run();
    const data = viaJson(snapshot(t, out));
    t.kill();
    await new Promise((r) => setTimeout(r, 60));
    const [t2, out2] = restore(data).roots as [Tasklet, number[]];
    expect(t2.blocked).toBe(true);
    await runAsync();
    expect(out2).toHaveLength(1);
    const woke = out2[0] - start;
    expect(woke).toBeGreaterThanOrEqual(115);
    expect(woke).toBeLessThan(170); // not 60 + 120
  });

  it('wait(thunk) calls the thunk again after a restore', async () => {
    const out: number[] = [];
    thunkCalls = 0;
    const t = spawn(waiter, out);
    run();
    expect(thunkCalls).toBe(1);
    const data = viaJson(snapshot(t, out));
    expect(data.objs[0][1]).toBe('wait');
    t.kill();
    const [t2, out2] = restore(data).roots as [Tasklet, number[]];
    expect(t2.paused).toBe(true);
    t2.insert();
    await runAsync();
    expect(thunkCalls).toBe(2);
    expect(out2).toEqual([42]);
  });

  it('select comes back waiting on the restored channels', () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const out: unknown[] = [];
    const t = spawn(selector, a, b, out);
    run();
    expect(a.balance).toBe(-1);
    const [t2, a2, b2, out2] = restore(viaJson(snapshot(t, a, b, out))).roots as [Tasklet, Channel<number>, Channel<number>, unknown[]];
    t.kill();
    expect(a2.balance).toBe(-1);
    expect(b2.balance).toBe(-1);
    expect(t2.blocked).toBe(true);
    b2.send(7);
    run();
    expect(out2).toEqual([1, 7]);
    expect(a2.balance).toBe(0);
  });

  it('array callbacks (the $map helper frame) and methods with this', () => {
    const out: number[][] = [];
    const t = spawn(mapper, [1, 2, 3], out);
    steps(2);
    const data = viaJson(snapshot(t, out));
    t.kill();
    const [t2, out2] = restore(data).roots as [Tasklet, number[][]];
    t2.insert();
    run();
    expect(out2).toEqual([[2, 4, 6]]);

    const c = new Counter();
    const u = spawn(count, c);
    steps(2);
    const [u2, c2] = restore(viaJson(snapshot(u, c))).roots as [Tasklet<number>, Counter];
    u.kill();
    expect(c2).toBeInstanceOf(Counter);
    expect(c2.n).toBe(1);
    u2.insert();
    run();
    expect(u2.result).toBe(3);
    expect(c2.n).toBe(3);
  });

  it('a not-started tasklet keeps its function and arguments', () => {
    const log: string[] = [];
    const t = new Tasklet(work).bind(work, [log, 2]);
    const [t2, log2] = restore(viaJson(snapshot(t, log))).roots as [Tasklet<number>, string[]];
    expect(t2.alive && t2.paused).toBe(true);
    t2.insert();
    run();
    expect(log2).toEqual(['zero 0', 'finally 0 acc=0', 'caught odd 1', 'finally 1 acc=0']);
  });

  it('refuses an unsaveable local, naming it, its function and the line', () => {
    const log: string[] = [];
    const t = spawn(holdsSocket, log);
    steps(1);
    let err: unknown;
    try {
      snapshot(t);
    } catch (e) {
      err = e;
    }
    t.kill();
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as SnapshotError).code).toBe('UNSUPPORTED_VALUE');
    expect((err as Error).message).toMatch(/local 'handle' of function holdsSocket \(.*tasklets\.test\.ts:\d+\).*WeakMap/);

    // a closure the compiler could not make through a factory (it captures a binding of an ordinary function)
    const u = spawn(holdsOrdinaryCapture, log);
    steps(1);
    expect(() => snapshot(u)).toThrow(SnapshotError);
    try {
      snapshot(u);
    } catch (e) {
      expect((e as SnapshotError).code).toBe('UNSUPPORTED_CLOSURE');
      expect((e as Error).message).toMatch(
        /^cannot save local 'add' of function holdsOrdinaryCapture \(.*tasklets\.test\.ts:\d+\): an anonymous function is a closure the compiler could not re-create: it captures 'secret' of function ordinaryOuter \(line \d+\), for which the compiler keeps no environment .*; written at tests\/snapshot\/tasklets\.test\.ts:\d+$/,
      );
    }
    u.kill();
    // one it can: saved by factory id + environment, and it still sees the same `log`
    const v = spawn(holdsClosure, log);
    steps(1);
    const data = viaJson(snapshot(v, log));
    v.kill();
    const [v2, log2] = restore(data).roots as [Tasklet, string[]];
    v2.insert();
    run();
    expect(log2).toEqual([...log, String(1 + log.length)]);
  });

  it('a dead temporary is not saved: the compiler lists the live ones per resume point (m.live)', async () => {
    const { functionRegistry } = await import('../../runtime/compiled.js');
    const meta = functionRegistry.get('tests/snapshot/tasklets.test.ts#deadTemp')!.meta as unknown as { pcs: number[]; live?: Record<number, number[]> };
    expect(Object.keys(meta.live ?? {}).map(Number)).toEqual(meta.pcs.filter((_, i) => i % 3 === 0));
    const log: string[] = [];
    const t = spawn(deadTemp, log);
    steps(1);
    try {
      // without the liveness lists, the temporary still holding the WeakMap refuses the snapshot
      const live = meta.live;
      delete meta.live;
      let refused: unknown;
      try {
        snapshot(t);
      } catch (e) {
        refused = e;
      } finally {
        meta.live = live;
      }
      expect((refused as Error)?.message).toMatch(/^cannot save local '\$t[\d$]+' of function deadTemp \(.*\): a WeakMap cannot be saved$/);
      // with them it is saved as undefined, and the copy finishes as the original would
      const data = viaJson(snapshot(t, log));
      const [t2, log2] = restore(data).roots as [Tasklet, string[]];
      t2.insert();
      run();
      expect(log2).toEqual(['seen false']);
    } finally {
      t.kill();
    }
  });

  it('the current tasklet cannot be saved (Stackless rule and message)', () => {
    const out: unknown[] = [];
    spawn(selfSnap, out);
    run();
    expect(out[0]).toBeInstanceOf(SnapshotError);
    expect((out[0] as SnapshotError).code).toBe('CURRENT_TASKLET');
    expect((out[0] as Error).message).toBe('You cannot __reduce__ the tasklet which is current.');
  });
});
