// The compiled-code protocol (docs/protocol.md): heap frame chains, stack spills,
// boundaries, the exact compiled shape, primitives called from ordinary code.
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { say, sched, recv, call, expectClean } from './support/util.js';
import { Channel, spawn, run, schedule, getRunCount, getCurrent, StacklessError } from '../../runtime/index.js';
import { rt, type Frame } from '../../runtime/internal.js';

afterEach(expectClean);

/** rec(n): at depth 0 it yields (schedule) and returns 0; otherwise 1 + rec(n - 1). */
const rec: (n: number) => number = tf('rec', ['n'], [
  S.if((L) => L.n === 0, [sched(), S.ret(() => 0)]),
  S.call((L) => [rec, undefined, L.n - 1], (L, v) => (L.r = v)),
  S.ret((L) => L.r + 1),
]);

/** Depth of the JS stack right now (frames above this one). */
function jsDepth(): number {
  let d = 0;
  const probe = (): void => {
    d++;
    probe();
  };
  try {
    probe();
  } catch {
    /* the remaining room */
  }
  return d;
}

describe('deep heap frame chains', () => {
  it('a tasklet 1,000,000 calls deep suspends and resumes without a deep JS stack', () => {
    const out: unknown[] = [];
    let room = 0;
    spawn(tf('outer', [], [call(rec, () => [1_000_000], (_L, v) => out.push(v))]));
    const t2 = spawn(tf('other', [], [S.do(() => {
      // runs while the deep tasklet is suspended 1,000,000 frames deep
      out.push('other');
    })]));
    const deep = rt.head.next; // unused guard against accidental reuse
    void deep;
    // check the depth of the suspended chain from inside the other tasklet
    const probe = spawn(tf('probe', [], [S.do(() => (room = jsDepth()))]));
    run();
    expect(out).toEqual(['other', 1_000_000]);
    expect(t2.alive || probe.alive).toBe(false);
    expect(room).toBeGreaterThan(5000); // the probe ran on a shallow stack
  }, 60_000);

  it('recursionDepth counts the saved chain of a suspended tasklet', () => {
    const t = spawn(rec, 500);
    spawn(tf('x', [], [S.do(() => {})]));
    expect(t.recursionDepth).toBe(0);
    schedule(); // runs t until it yields at depth 0, then x
    expect(t.recursionDepth).toBe(501);
    expect(t.frames.length).toBe(501);
    expect(t.frames[500]).toMatchObject({ function: 'rec', locals: { L: { n: 0 } } });
    run();
    expect(t.result).toBe(500);
    expect(t.recursionDepth).toBe(0);
  });

  it('ordinary code calling a deep tasklet function spills through rt.boundary (u = 2)', () => {
    expect(rec(200_000)).toBe(200_000);
  }, 60_000);
});

describe('boundaries', () => {
  it('a primitive reached from ordinary code in a tasklet throws, leaving everything intact', () => {
    const ch = new Channel();
    const seen: unknown[] = [];
    const helper = () => ch.receive(); // ordinary (untransformed) code
    spawn(tf('f', [], [
      S.try([call(helper)], { catch: [S.do((L) => seen.push((L.$e as Error).message, ch.balance, getCurrent().scheduled))] }),
      say(seen, 'continued'),
    ]));
    run();
    expect(seen[0]).toMatch(/^receive\(\) cannot block here: it was called from ordinary \(untransformed\) code/);
    expect(seen.slice(1)).toEqual([0, true, 'continued']);
  });

  it('a tasklet function entered from ordinary code: the blocking call throws, naming it', () => {
    const ch = new Channel();
    const seen: unknown[] = [];
    const g = tf('g', [], [
      S.try([recv(ch)], { catch: [S.do((L) => seen.push((L.$e as Error).message, ch.balance))] }),
      S.ret(() => 'recovered'),
    ]);
    const h = () => 'h:' + g(); // ordinary code between two tasklet frames
    const order: string[] = [];
    spawn(tf('f', [], [call(h, () => [], (_L, v) => seen.push(v)), say(order, 'f')]));
    spawn(tf('o', [], [say(order, 'o')]));
    run();
    expect(seen).toEqual([
      'cannot block: tasklet function g was called from ordinary (untransformed) code, which cannot be suspended (a "boundary")',
      0,
      'h:recovered',
    ]);
    expect(order).toEqual(['f', 'o']); // f was never switched away
  });

  it('schedule() behind a boundary throws too; uncaught, it propagates through the ordinary caller', () => {
    const g = tf('g', [], [sched()]);
    const seen: unknown[] = [];
    spawn(tf('f', [], [S.try([call(() => g())], { catch: [S.do((L) => seen.push(L.$e instanceof StacklessError))] })]));
    spawn(tf('o', [], []));
    run();
    expect(seen).toEqual([true]);
  });

  it('main may call a tasklet function that blocks: it runs the others meanwhile', () => {
    const ch = new Channel<number>();
    const g = tf('g', [], [recv(ch, (L, v) => (L.v = v)), S.ret((L) => L.v * 10)]);
    spawn(tf('s', [], [S.call(() => [ch.send, ch, 4])]));
    expect(g()).toBe(40);
    run();
  });

  it('a primitive as the tasklet function itself (no compiled frame) suspends and resumes', () => {
    const log: string[] = [];
    const t = spawn(schedule as () => unknown);
    spawn(tf('o', [], [say(log, 'o')]));
    run();
    expect(log).toEqual(['o']);
    expect(t.result).toBe(t);
    expect(getRunCount()).toBe(1);
  });
});

describe('the exact compiled shape of protocol.md', () => {
  // What the transformer emits for:
  //   function twice(ch) { "use tasklet"; const a = ch.receive(); const b = ch.receive(); return a + b; }
  function twice(this: unknown, ch?: Channel<number>): unknown {
    const $tk = rt.tok;
    rt.tok = null;
    let $pc = 0;
    let $v: unknown;
    let a: any;
    let b: any;
    if (rt.rf !== null) {
      const $f = rt.rf as Frame;
      rt.rf = null;
      ch = $f.ch as Channel<number>;
      a = $f.a;
      b = $f.b;
      $pc = $f.pc;
      $v = rt.rv;
      if (rt.rk !== 0) throw $v;
    }
    for (;;) {
      switch ($pc) {
        case 0:
          $pc = -2; rt.tok = ch!.receive; $v = ch!.receive();
          $pc = 2;
          if (rt.u !== 0) {
            const rec: Frame = { f: twice, pc: 2, up: null, ch, a, b };
            if ($v !== undefined) ($v as Frame).up = rec;
            else rt.inner = rec;
            if ($tk !== twice) return rt.boundary(rec);
            return rec;
          }
        // falls through
        case 2:
          a = $v;
          $pc = -4; rt.tok = ch!.receive; $v = ch!.receive();
          $pc = 4;
          if (rt.u !== 0) {
            const rec: Frame = { f: twice, pc: 4, up: null, ch, a, b };
            if ($v !== undefined) ($v as Frame).up = rec;
            else rt.inner = rec;
            if ($tk !== twice) return rt.boundary(rec);
            return rec;
          }
        // falls through
        case 4:
          b = $v;
          return a + b;
      }
    }
  }

  it('suspends twice and returns the sum', () => {
    const ch = new Channel<number>();
    const t = spawn(twice, ch);
    run();
    ch.send(1);
    ch.send(2);
    expect(t.result).toBe(3);
  });

  it('an error sent over the channel is thrown at the call site', () => {
    const ch = new Channel<number>();
    const t = spawn(twice, ch);
    run();
    expect(() => ch.sendException(RangeError, 'r')).toThrow(new RangeError('r'));
    expect(t.error).toEqual(new RangeError('r'));
  });
});

