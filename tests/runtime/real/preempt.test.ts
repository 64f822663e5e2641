// Real "use tasklet" code: tick counting at loop back-edges drives preemption;
// recursion a million calls deep spills to the heap and resumes.
import { describe, it, expect } from 'vitest';
import { spawn, run, schedule, getRunCount } from 'stackless';

describe('real code: ticks and deep recursion', () => {
  it('run({ timeout }) preempts a busy loop and returns it', () => {
    const box = { n: 0 };
    function busy(b: { n: number }): void {
      'use tasklet';
      for (;;) b.n++;
    }
    const t = spawn(busy, box);
    expect(run({ timeout: 1000 })).toBe(t);
    expect(box.n).toBeGreaterThanOrEqual(1000);
    expect([t.alive, t.paused]).toEqual([true, true]);
    const before = box.n;
    t.insert();
    expect(run({ timeout: 500 })).toBe(t);
    expect(box.n).toBeGreaterThan(before);
    t.kill();
    expect(getRunCount()).toBe(1);
  });

  it('recursion 1,000,000 deep, suspended at the bottom', () => {
    function down(n: number): number {
      'use tasklet';
      if (n === 0) {
        schedule();
        return 0;
      }
      return down(n - 1) + 1;
    }
    const t = spawn(down, 1_000_000);
    spawn(() => {});
    run();
    expect(t.result).toBe(1_000_000);
  }, 120_000);

  it('ordinary code may call a deep tasklet function: it spills through the boundary', () => {
    function sum(n: number): number {
      'use tasklet';
      return n === 0 ? 0 : n + sum(n - 1);
    }
    expect(sum(300_000)).toBe((300_000 * 300_001) / 2);
  }, 120_000);
});

describe('spills that cannot make progress (fixtures F18)', () => {
  it('recursion through ordinary frames deeper than the JS stack throws RangeError instead of hanging', () => {
    function f(n: number): number {
      'use tasklet';
      return n === 0 ? 0 : g(n - 1) + 1;
    }
    function g(n: number): number {
      return f(n); // ordinary frame between tasklet frames: it cannot be spilled
    }
    expect(f(1000)).toBe(1000);
    const t0 = Date.now();
    expect(() => f(1_000_000)).toThrow(RangeError);
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 60_000);
});
