// Real "use tasklet" code: loop nests without calls stay native, and every loop in
// them counts ticks, so an endless inner loop is preempted too, and coming back
// into the nest after a tick evaluates nothing twice. Recursion without loops
// counts ticks at its stack spills.
import { describe, it, expect } from 'vitest';
import { spawn, run, getRunCount } from 'stackless';

describe('real code: preempting native loop nests', () => {
  it('an endless inner loop cannot freeze the scheduler', () => {
    const flag = { stop: false, spins: 0 };
    function spinner(f: { stop: boolean; spins: number }): void {
      'use tasklet';
      for (let i = 0; !f.stop; i++) {
        while (!f.stop) f.spins++;
      }
    }
    function stopper(f: { stop: boolean; spins: number }): void {
      'use tasklet';
      f.stop = true;
    }
    spawn(spinner, flag);
    spawn(stopper, flag);
    let rounds = 0;
    for (;;) {
      const t = run({ timeout: 1000 });
      if (!t) break;
      rounds++;
      t.insert();
    }
    expect(flag.stop).toBe(true);
    expect(flag.spins).toBeGreaterThanOrEqual(900);
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(getRunCount()).toBe(1);
  });

  it('tests, inits and statements before the way down run once per iteration across ticks', () => {
    const log: string[] = [];
    function nest(out: string[]): number {
      'use tasklet';
      let tests = 0;
      let inits = 0;
      let before = 0;
      let s = 0;
      outer: for (let i = 0; (tests++, i < 40); i++) {
        before++;
        if (i % 5 === 1) continue;
        let k = 0;
        do {
          k++;
          if (k > 3) break;
          for (let j = (inits++, 0); j < 6; j++) {
            if (j === 5 && i === 30) continue outer;
            s += i * j + k;
          }
        } while (k < 5);
        if (i === 38) break outer;
      }
      out.push(`tests=${tests} inits=${inits} before=${before} s=${s}`);
      return s;
    }
    // the same function uncompiled, for the expected counts
    function plain(out: string[]): number {
      let tests = 0;
      let inits = 0;
      let before = 0;
      let s = 0;
      outer: for (let i = 0; (tests++, i < 40); i++) {
        before++;
        if (i % 5 === 1) continue;
        let k = 0;
        do {
          k++;
          if (k > 3) break;
          for (let j = (inits++, 0); j < 6; j++) {
            if (j === 5 && i === 30) continue outer;
            s += i * j + k;
          }
        } while (k < 5);
        if (i === 38) break outer;
      }
      out.push(`tests=${tests} inits=${inits} before=${before} s=${s}`);
      return s;
    }
    const expected: string[] = [];
    plain(expected);
    const t = spawn(nest, log);
    let preemptions = 0;
    for (;;) {
      // a tiny time slice: the nest is left and re-entered many times
      const r = run({ timeout: 2 });
      if (!r) break;
      preemptions++;
      r.insert();
    }
    expect(log).toEqual(expected);
    expect(t.result).toBeTypeOf('number');
    expect(preemptions).toBeGreaterThan(50);
  });
});

describe('real code: preempting recursion without loops', () => {
  it('a deep recursion is preempted at its spills and completes with the right result', () => {
    function down(n: number): number {
      'use tasklet';
      return n === 0 ? 0 : down(n - 1) + 1;
    }
    const log: string[] = [];
    function other(out: string[]): void {
      'use tasklet';
      out.push('other ran');
    }
    const t = spawn(down, 300_000);
    spawn(other, log);
    let preemptions = 0;
    let firstPreemptionBeforeOther = false;
    for (;;) {
      const r = run({ timeout: 1000 });
      if (!r) break;
      if (preemptions === 0) firstPreemptionBeforeOther = log.length === 0;
      preemptions++;
      r.insert();
    }
    expect(t.result).toBe(300_000);
    expect(log).toEqual(['other ran']);
    // the recursion was interrupted before it finished, and the other tasklet got its turn
    expect(preemptions).toBeGreaterThan(0);
    expect(firstPreemptionBeforeOther).toBe(true);
  }, 60_000);

  it('an endless recursion cannot freeze the scheduler', () => {
    const box = { calls: 0 };
    function forever(b: { calls: number }): number {
      'use tasklet';
      b.calls++;
      return forever(b) + 1;
    }
    const t = spawn(forever, box);
    const r = run({ timeout: 1000 });
    expect(r).toBe(t);
    expect(box.calls).toBeGreaterThan(1000);
    expect([t.alive, t.paused]).toEqual([true, true]);
    t.kill();
  }, 60_000);
});
