// Bridges to the event loop: sleep, wait, runAsync, receive({ timeout }), select.
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { say, sched, call, recv, expectClean } from './support/util.js';
import {
  Channel, spawn, run, runAsync, sleep, wait, select, getRunCount, getMain, StacklessError,
} from '../../runtime/index.js';
import { rt } from '../../runtime/internal.js';

afterEach(() => {
  expect(rt.pending).toBe(0);
  expectClean();
});

describe('sleep and wait', () => {
  it('sleepers wake in deadline order; runAsync settles when all are done', async () => {
    const log: string[] = [];
    const sleeper = tf('sleeper', ['name', 'ms'], [call(sleep, (L) => [L.ms]), say(log, (L) => L.name)]);
    // far apart: a loaded machine may pause between the sleep() calls themselves
    spawn(sleeper, 'c', 300);
    spawn(sleeper, 'a', 1);
    spawn(sleeper, 'b', 150);
    const t0 = Date.now();
    await runAsync();
    expect(log).toEqual(['a', 'b', 'c']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(298);
  });

  it('wait(promise) returns the value or throws the reason; thunks are called', async () => {
    const got: unknown[] = [];
    spawn(tf('w', [], [
      call(wait, () => [Promise.resolve(7)], (_L, v) => got.push(v)),
      call(wait, () => [() => new Promise((r) => setTimeout(() => r('late'), 5))], (_L, v) => got.push(v)),
      call(wait, () => [42], (_L, v) => got.push(v)),
      S.try([call(wait, () => [Promise.reject(new Error('no'))])], { catch: [S.do((L) => got.push((L.$e as Error).message))] }),
    ]));
    await runAsync();
    expect(got).toEqual([7, 'late', 42, 'no']);
  });

  it('main cannot wait synchronously', () => {
    expect(() => sleep(1)).toThrow(StacklessError);
    expect(() => wait(Promise.resolve(1))).toThrow(/wait\(\) cannot block the main tasklet/);
    expect(wait(5)).toBe(5);
  });

  it('runAsync yields to the event loop between batches of a busy tasklet', async () => {
    // busy never blocks: it only stops once a 10 ms timer has fired, which can
    // happen only if runAsync gives the event loop a turn while busy runs
    const box = { fired: false, n: 0, t0: Date.now() };
    setTimeout(() => (box.fired = true), 10);
    spawn(tf('busy', [], [S.while(() => !box.fired && Date.now() - box.t0 < 5000, [S.do(() => box.n++), sched()])]));
    spawn(tf('other', [], [S.while(() => getRunCount() > 1, [sched()])]));
    await runAsync({ batchMs: 2 });
    expect(box.fired).toBe(true);
    expect(Date.now() - box.t0).toBeLessThan(2000);
  });

  it('killing a sleeper cancels its timer', async () => {
    const log: string[] = [];
    const t = spawn(tf('s', [], [S.try([call(sleep, () => [10_000])], { finally: [say(log, 'fin')] })]));
    run();
    expect(rt.pending).toBe(1);
    t.kill();
    expect(log).toEqual(['fin']);
    expect(rt.pending).toBe(0);
    await runAsync();
  });

  it('an error escaping a tasklet rejects runAsync', async () => {
    spawn(tf('bad', [], [call(sleep, () => [1]), S.do(() => { throw new Error('async boom'); })]));
    await expect(runAsync()).rejects.toThrow('async boom');
  });
});

describe('receive({ timeout })', () => {
  it('throws after the timeout and leaves the channel balanced', async () => {
    const ch = new Channel<number>();
    const got: unknown[] = [];
    spawn(tf('r', [], [
      S.try([S.call(() => [ch.receive, ch, { timeout: 5 }])], { catch: [S.do((L) => got.push((L.$e as Error).message, ch.balance))] }),
      S.call(() => [ch.receive, ch, { timeout: 1000 }], (_L, v) => got.push(v)),
    ]));
    spawn(tf('s', [], [call(sleep, () => [20]), S.call(() => [ch.send, ch, 9])]));
    await runAsync();
    expect(got).toEqual(['receive() timed out', 0, 9]);
    expect(() => ch.receive({ timeout: 0 })).toThrow(new StacklessError('receive() timed out'));
  });
});

describe('select', () => {
  it('takes the first ready case; blocks on all; unlinks the others', async () => {
    const a = new Channel<string>();
    const b = new Channel<string>();
    const got: unknown[] = [];
    spawn(tf('sel', [], [
      S.call(() => [select, undefined, [a, { receive: b }]], (_L, r) => got.push(r, a.balance, b.balance)),
      S.call(() => [select, undefined, [a, b], { timeout: 5 }], (_L, r) => got.push(r)),
    ]));
    run();
    expect([a.balance, b.balance]).toEqual([-1, -1]);
    b.send('from b');
    await runAsync();
    expect(got).toEqual([{ index: 1, value: 'from b', done: false }, 0, 0, { index: -1, value: undefined, done: false }]);
  });

  it('send cases, ready cases and closed channels', () => {
    const a = new Channel<number>();
    const b = new Channel<number>({ capacity: 1 });
    expect(select([{ send: b, value: 1 }, a])).toEqual({ index: 0, value: undefined, done: false });
    expect(select([a, b])).toEqual({ index: 1, value: 1, done: false });
    expect(select([a], { timeout: 0 })).toEqual({ index: -1, value: undefined, done: false });
    a.close();
    expect(select([a])).toEqual({ index: 0, value: undefined, done: true });
    const got: unknown[] = [];
    const c = new Channel<number>();
    spawn(tf('r', [], [recv(c, (_L, v) => got.push(v))]));
    run();
    expect(select([{ send: c, value: 5 }])).toEqual({ index: 0, value: undefined, done: false });
    expect(got).toEqual([5]);
    expect(() => select([{ send: a, value: 1 }])).toThrow(new StacklessError('Send/receive operation on a closed channel'));
  });

  it('a blocked select is woken by a sender in a tasklet, and can be killed', () => {
    const a = new Channel<number>();
    const got: unknown[] = [];
    const t = spawn(tf('sel', [], [S.call(() => [select, undefined, [a, { send: a, value: 0 }]])]));
    expect(() => run()).toThrow(/cannot both send and receive/);
    expect(t.alive).toBe(false);
    const u = spawn(tf('sel', [], [S.call(() => [select, undefined, [a]], (_L, r) => got.push(r))]));
    spawn(tf('s', [], [S.call(() => [a.send, a, 3])]));
    run();
    expect(got).toEqual([{ index: 0, value: 3, done: false }]);
    const v = spawn(tf('sel', [], [S.call(() => [select, undefined, [a, new Channel()]])]));
    run();
    expect(a.balance).toBe(-1);
    v.kill();
    expect(a.balance).toBe(0);
    expect(u.alive).toBe(false);
  });
});

describe('runAsync', () => {
  it('concurrent calls share one driver', async () => {
    const log: string[] = [];
    spawn(tf('s', [], [call(sleep, () => [5]), say(log, 'woke')]));
    const a = runAsync();
    const b = runAsync();
    expect(a).toBe(b);
    await Promise.all([a, b]);
    expect(log).toEqual(['woke']);
  });
});

describe('wait states do not leak into each other', () => {
  it('a select that timed out, then a sleep that is killed: no timer left pending', async () => {
    const a = new Channel();
    const t = spawn(tf('t', [], [
      S.call(() => [select, undefined, [a], { timeout: 1 }]),
      call(sleep, () => [10_000]),
    ]));
    const p = runAsync();
    await new Promise((r) => setTimeout(r, 20));
    expect([t.blocked, rt.pending]).toEqual([true, 1]);
    t.kill();
    expect(rt.pending).toBe(0);
    const t0 = Date.now();
    await p; // settles now, not when the cancelled 10 s timer would have fired
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('runAsync wakes up when ordinary code makes a tasklet runnable', async () => {
    const ch = new Channel<number>();
    ch.preference = 0; // the receiver is queued, not switched to
    const got: unknown[] = [];
    spawn(tf('r', [], [recv(ch, (_L, v) => got.push(v))]));
    // keeps runAsync alive: waits for a promise that never settles
    const t = spawn(tf('w', [], [call(wait, () => [new Promise(() => {})])]));
    const p = runAsync();
    await new Promise((r) => setTimeout(r, 5));
    ch.send(1); // from ordinary code, while runAsync waits (a promise is pending)
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([1]);
    expect([rt.pending, t.blocked]).toEqual([1, true]);
    t.kill();
    await p;
    expect(getMain().isCurrent).toBe(true);
  });
});
