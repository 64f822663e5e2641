// Real "use tasklet" code, compiled by the project's Vite plugin, against the runtime.
import { describe, it, expect, afterEach } from 'vitest';
import {
  Channel, Tasklet, spawn, run, runAsync, schedule, sleep, getCurrent, getRunCount, StacklessError,
} from 'stackless';

afterEach(() => {
  expect(getRunCount()).toBe(1);
  expect(getCurrent().isMain).toBe(true);
});

function looper(log: string[], name: string): void {
  'use tasklet';
  for (let i = 0; i < 2; i++) {
    log.push(name + i);
    schedule();
  }
}

function receiver(log: string[], ch: Channel<string>): void {
  'use tasklet';
  log.push('R:before');
  const v = ch.receive();
  log.push(`R:got ${v}`);
}

function sender(log: string[], ch: Channel<string>): void {
  'use tasklet';
  log.push('S:before');
  ch.send('v');
  log.push('S:after');
}

function other(log: string[]): void {
  'use tasklet';
  log.push('O');
}

function depth(n: number): number {
  'use tasklet';
  if (n === 0) {
    schedule();
    return 0;
  }
  return 1 + depth(n - 1);
}

describe('real tasklet functions', () => {
  it('round robin', () => {
    const log: string[] = [];
    spawn(looper, log, 'A');
    spawn(looper, log, 'B');
    spawn(looper, log, 'C');
    run();
    expect(log).toEqual(['A0', 'B0', 'C0', 'A1', 'B1', 'C1']);
  });

  it('preference orderings', () => {
    const rows: Array<[number, boolean, string[]]> = [
      [-1, true, ['R:before', 'S:before', 'R:got v', 'O', 'S:after']],
      [0, true, ['R:before', 'S:before', 'S:after', 'O', 'R:got v']],
      [1, false, ['S:before', 'R:before', 'S:after', 'O', 'R:got v']],
    ];
    for (const [pref, recvFirst, expected] of rows) {
      const log: string[] = [];
      const ch = new Channel<string>();
      ch.preference = pref;
      if (recvFirst) { spawn(receiver, log, ch); spawn(sender, log, ch); }
      else { spawn(sender, log, ch); spawn(receiver, log, ch); }
      spawn(other, log);
      run();
      expect(log).toEqual(expected);
    }
  });

  it('kill runs finally blocks of a blocked tasklet', () => {
    const log: string[] = [];
    const ch = new Channel<number>();
    function worker(): void {
      'use tasklet';
      try {
        ch.receive();
        log.push('not reached');
      } finally {
        log.push('finally');
      }
    }
    const t = spawn(worker);
    run();
    expect(ch.balance).toBe(-1);
    t.kill();
    expect(log).toEqual(['finally']);
    expect(ch.balance).toBe(0);
  });

  it('a 100,000-deep recursion suspends and resumes', () => {
    const t = spawn(depth, 100_000);
    run();
    expect(t.result).toBe(100_000);
  }, 60_000);

  it('array callbacks may block', () => {
    const ch = new Channel<number>();
    const out: number[][] = [];
    function mapper(xs: number[]): void {
      'use tasklet';
      out.push(
        xs.map((x) => {
          'use tasklet';
          return x + ch.receive();
        }),
      );
    }
    function feeder(): void {
      'use tasklet';
      for (let i = 1; i <= 3; i++) ch.send(i * 100);
    }
    spawn(mapper, [1, 2, 3]);
    spawn(feeder);
    run();
    expect(out).toEqual([[101, 202, 303]]);
  });

  it('for-of over a channel ends when it is closed and drained', () => {
    const ch = new Channel<number>();
    const got: number[] = [];
    function consume(): void {
      'use tasklet';
      for (const v of ch) got.push(v);
      got.push(-1);
    }
    function produce(): void {
      'use tasklet';
      ch.sendSequence([1, 2, 3]);
      ch.close({ wake: true });
    }
    spawn(consume);
    spawn(produce);
    run();
    expect(got).toEqual([1, 2, 3, -1]);
  });

  it('blocking behind ordinary code throws StacklessError at the blocking call', () => {
    const ch = new Channel<number>();
    const seen: unknown[] = [];
    function inner(): string {
      'use tasklet';
      try {
        ch.receive();
        return 'received';
      } catch (e) {
        seen.push(e instanceof StacklessError);
        return 'recovered';
      }
    }
    const ordinary = () => inner();
    function outer(): void {
      'use tasklet';
      seen.push(ordinary());
    }
    spawn(outer);
    spawn(other, []);
    run();
    expect(seen).toEqual([true, 'recovered']);
    expect(ch.balance).toBe(0);
  });

  it('sleep under runAsync', async () => {
    const log: string[] = [];
    function napper(name: string, ms: number): void {
      'use tasklet';
      sleep(ms);
      log.push(name);
    }
    spawn(napper, 'late', 300); // far apart: a loaded machine may pause between the two sleep() calls
    spawn(napper, 'early', 2);
    await runAsync();
    expect(log).toEqual(['early', 'late']);
  });

  it('Tasklet subclass with a tasklet method', () => {
    class Counter extends Tasklet<number> {}
    const ch = new Channel<number>();
    function sum(n: number): number {
      'use tasklet';
      let s = 0;
      for (let i = 0; i < n; i++) s += ch.receive();
      return s;
    }
    const t = new Counter(sum).setup(3);
    run();
    for (let i = 1; i <= 3; i++) ch.send(i);
    expect(t.result).toBe(6);
  });
});
