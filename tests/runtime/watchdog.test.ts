// Preemption by tick counting: run({ timeout, soft, totalTimeout }) after Stackless's
// test_watchdog (research §3.6). Ticks are counted at loop back-edges.
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { sched, call, expectClean } from './support/util.js';
import { spawn, run, getRunCount, getCurrent, Tasklet } from '../../runtime/index.js';
import { rt } from '../../runtime/internal.js';

afterEach(() => {
  expect(rt.ticks).toBe(0x3fffffff); // no timeslice left armed
  expectClean();
});

describe('hard preemption', () => {
  it('returns the tasklet that overran its timeslice, removed from the ring', () => {
    const box = { n: 0 };
    const busy = tf('busy', [], [S.while(() => true, [S.do(() => box.n++)])]);
    const t = spawn(busy);
    const got = run({ timeout: 100 });
    expect(got).toBe(t);
    expect([t.alive, t.scheduled, t.paused, getRunCount()]).toEqual([true, false, true, 1]);
    expect(box.n).toBeGreaterThanOrEqual(100);
    expect(box.n).toBeLessThan(110);
    const before = box.n;
    t.insert();
    expect(run({ timeout: 50 })).toBe(t);
    expect(box.n - before).toBeGreaterThanOrEqual(50);
    expect(t.frames.length).toBe(1);
    t.kill();
  });

  it('cooperative tasklets finish and run() returns null', () => {
    const log: string[] = [];
    const coop = tf('coop', ['name'], [
      S.do((L) => (L.i = 0)),
      S.while((L) => L.i < 5, [S.do((L) => log.push(L.name + L.i++)), sched()]),
    ]);
    spawn(coop, 'a');
    spawn(coop, 'b');
    expect(run({ timeout: 100 })).toBe(null);
    expect(log.length).toBe(10);
  });

  it('the timeslice is per tasklet: it resets at every switch', () => {
    const counts = [0, 0];
    const worker = tf('w', ['k'], [
      S.do((L) => (L.i = 0)),
      S.while((L) => L.i < 400, [S.do((L) => { L.i++; counts[L.k]++; }), S.if((L) => L.i % 50 === 0, [sched()])]),
    ]);
    spawn(worker, 0);
    spawn(worker, 1);
    expect(run({ timeout: 60 })).toBe(null);
    expect(counts).toEqual([400, 400]);
  });

  it('with totalTimeout the budget covers the whole run(); pumping finishes the work', () => {
    const counts = [0, 0];
    const worker = tf('w', ['k'], [
      S.do((L) => (L.i = 0)),
      S.while((L) => L.i < 400, [S.do((L) => { L.i++; counts[L.k]++; }), S.if((L) => L.i % 50 === 0, [sched()])]),
    ]);
    spawn(worker, 0);
    spawn(worker, 1);
    let pumps = 0;
    for (;;) {
      const t = run({ timeout: 120, totalTimeout: true });
      if (t === null) break;
      pumps++;
      expect(t.paused).toBe(true);
      t.insert();
    }
    expect(counts).toEqual([400, 400]);
    expect(pumps).toBeGreaterThanOrEqual(5);
  });

  it('an atomic section defers the interrupt until it ends', () => {
    const box = { n: 0, atAtomicEnd: -1 };
    const busy = tf('busy', [], [
      S.do(() => getCurrent().setAtomic(true)),
      S.do((L) => (L.i = 0)),
      S.while((L) => L.i++ < 1000, [S.do(() => box.n++)]),
      S.do(() => { box.atAtomicEnd = box.n; getCurrent().setAtomic(false); }),
      S.while(() => true, [S.do(() => box.n++)]),
    ]);
    const t = spawn(busy);
    expect(run({ timeout: 100 })).toBe(t);
    expect(box.atAtomicEnd).toBe(1000);
    expect(box.n).toBeLessThanOrEqual(1001);
    t.kill();
  });
});

describe('soft preemption', () => {
  it('returns null at the next switch and leaves the tasklets scheduled', () => {
    const log: string[] = [];
    const slow = tf('slow', [], [
      S.do((L) => (L.i = 0)),
      S.while((L) => L.i++ < 500, []),
      S.do(() => log.push('slow yields')),
      sched(),
      S.do(() => log.push('slow again')),
    ]);
    const other = tf('other', [], [S.do(() => log.push('other'))]);
    const a = spawn(slow);
    const b = spawn(other);
    expect(run({ timeout: 100, soft: true })).toBe(null);
    expect(log).toEqual(['slow yields']);
    expect([a.scheduled, b.scheduled, getRunCount()]).toEqual([true, true, 3]);
    run();
    expect(log).toEqual(['slow yields', 'other', 'slow again']);
  });

  it('a tasklet that runs within its slice is not interrupted', () => {
    const t = spawn(tf('quick', [], [call(() => 1)]));
    expect(run({ timeout: 1000, soft: true })).toBe(null);
    expect(t.alive).toBe(false);
    void Tasklet;
  });
});
