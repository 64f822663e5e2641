// Stackless parity items of issue 3 not covered elsewhere, with real "use tasklet" code:
// the pump loop over several busy tasklets, interrupts deferred by switch_trap,
// preference-driven switches that are not soft-interrupt points, soft total timeouts,
// switch_trap on every switching primitive, restorable.
import { describe, it, expect, afterEach } from 'vitest';
import {
  Channel, Tasklet, spawn, run, schedule, scheduleRemove, switchTrap, getRunCount, getCurrent,
  StacklessError,
} from 'stackless';
import { rt } from 'stackless/internal';

afterEach(() => {
  expect(rt.ticks).toBe(0x3fffffff);
  expect(rt.strap).toBe(0);
  expect(getRunCount()).toBe(1);
  expect(getCurrent().isMain).toBe(true);
});

function spin(k: number, counts: number[], stop: { now: boolean }): void {
  'use tasklet';
  while (!stop.now) counts[k]++;
}

function trapped(box: { n: number; released: number }): void {
  'use tasklet';
  switchTrap(1);
  for (let i = 0; i < 500; i++) box.n++;
  switchTrap(-1);
  box.released = box.n;
  while (box.n < 10_000_000) box.n++;
}

function busyThenSend(ch: Channel<string>, log: string[]): void {
  'use tasklet';
  let x = 0;
  for (let i = 0; i < 500; i++) x += i;
  log.push('A sends');
  ch.send('v'); // pref -1: B runs now (a preference-driven switch)
  log.push('A after send');
}

function receiveThenYield(ch: Channel<string>, log: string[]): void {
  'use tasklet';
  log.push(`B got ${ch.receive()}`);
  schedule(); // a voluntary switch: the soft interrupt happens here
  log.push('B again');
}

function busyYielder(k: string, log: string[]): void {
  'use tasklet';
  for (let round = 0; round < 3; round++) {
    let x = 0;
    for (let i = 0; i < 100; i++) x += i;
    log.push(`${k}${round}`);
    schedule();
  }
}

describe('the pump loop (issue 3 §2)', () => {
  it('keeps several endless busy tasklets all making progress, in round-robin order', () => {
    const counts = [0, 0, 0];
    const stop = { now: false };
    const ts: Tasklet[] = [0, 1, 2].map((k) => spawn(spin, k, counts, stop));
    const order: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t = run({ timeout: 1000 });
      expect(t).not.toBeNull();
      order.push(ts.indexOf(t as Tasklet));
      expect((t as Tasklet).paused).toBe(true);
      (t as Tasklet).insert();
    }
    expect(order).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(3000);
    stop.now = true;
    expect(run({ timeout: 1000 })).toBeNull();
    expect(ts.map((t) => t.alive)).toEqual([false, false, false]);
  });
});

describe('interrupts deferred by switch_trap (research §3.6)', () => {
  it('a tasklet that overruns inside a switch_trap section is interrupted right after it', () => {
    const box = { n: 0, released: -1 };
    const t = spawn(trapped, box);
    expect(run({ timeout: 100 })).toBe(t);
    expect(box.released).toBe(500);
    // interrupted within a few ticks of leaving the section, not after the 10,000,000 loop
    expect(box.n - box.released).toBeLessThan(100);
    t.kill();
  });
});

describe('soft interrupts (research §3.6)', () => {
  it('a preference-driven switch is not a soft-interrupt point; the next voluntary switch is', () => {
    const ch = new Channel<string>();
    const log: string[] = [];
    const b = spawn(receiveThenYield, ch, log); // B blocks in receive first
    run();
    const a = spawn(busyThenSend, ch, log);
    expect(run({ timeout: 50, soft: true })).toBeNull();
    // A overran, then its send switched to B (not an interrupt point); B's schedule() is
    expect(log).toEqual(['A sends', 'B got v']);
    expect([a.scheduled, b.scheduled, getRunCount()]).toEqual([true, true, 3]);
    run();
    expect(log).toEqual(['A sends', 'B got v', 'A after send', 'B again']);
  });

  it('soft with totalTimeout: the budget covers the whole run(); it returns null at a switch', () => {
    const log: string[] = [];
    spawn(busyYielder, 'x', log);
    spawn(busyYielder, 'y', log);
    let pumps = 0;
    while (run({ timeout: 250, soft: true, totalTimeout: true }) === null && getRunCount() > 1) {
      pumps++;
      expect(pumps).toBeLessThan(20);
    }
    expect(pumps).toBeGreaterThanOrEqual(1);
    expect(log).toEqual(['x0', 'y0', 'x1', 'y1', 'x2', 'y2']);
  });
});

function removesItself(): unknown {
  'use tasklet';
  return scheduleRemove('r');
}

describe('switch_trap on every switching primitive (research §3.7)', () => {
  it('scheduleRemove and channel operations that would switch throw; state is unchanged', () => {
    const ch = new Channel<number>();
    const got: number[] = [];
    function recv(c: Channel<number>, out: number[]): void {
      'use tasklet';
      out.push(c.receive());
    }
    const r = spawn(recv, ch, got);
    run();
    expect(ch.balance).toBe(-1);
    const msg = new StacklessError('switch_trap');
    switchTrap(1);
    try {
      expect(() => ch.send(1)).toThrow(msg); // pref -1: the receiver would run now
      expect([ch.balance, r.blocked]).toEqual([-1, true]);
      expect(() => scheduleRemove()).toThrow(msg);
      expect(getCurrent().scheduled).toBe(true);
      ch.preference = 1; // the sender continues: no switch, allowed under the trap
      ch.send(2);
      expect([ch.balance, r.blocked, r.scheduled]).toEqual([0, false, true]);
    } finally {
      switchTrap(-1);
    }
    run();
    expect(got).toEqual([2]);
  });

  it('inside a tasklet: scheduleRemove() under switch_trap throws there and changes nothing', () => {
    const log: string[] = [];
    function tries(out: string[]): void {
      'use tasklet';
      switchTrap(1);
      try {
        scheduleRemove();
      } catch (e) {
        out.push((e as Error).message);
      } finally {
        switchTrap(-1);
      }
      out.push(`scheduled ${getCurrent().scheduled}`);
    }
    spawn(tries, log);
    spawn(removesItself).kill();
    run();
    expect(log).toEqual(['switch_trap', 'scheduled true']);
  });
});

describe('restorable', () => {
  it('is true exactly while the tasklet is alive (every chain is made of compiled frames)', () => {
    const t = new Tasklet(removesItself);
    expect(t.restorable).toBe(false);
    t.setup();
    expect(t.restorable).toBe(true);
    run();
    expect([t.paused, t.restorable]).toEqual([true, true]);
    t.insert();
    run();
    expect([t.alive, t.restorable, t.result]).toEqual([false, false, 'r']);
  });
});

function recvInto(ch: Channel<number>, log: string[], name: string): void {
  'use tasklet';
  try {
    log.push(`${name} got ${ch.receive()}`);
  } catch (e) {
    log.push(`${name} caught ${(e as Error).name}: ${(e as Error).message}`);
    throw e;
  } finally {
    log.push(`${name} finally`);
  }
}

function busy(n: number, box: { n: number }): void {
  'use tasklet';
  for (let i = 0; i < n; i++) box.n++;
}

function innerRun(log: string[]): void {
  'use tasklet';
  log.push(`inner run returned ${run({ timeout: 10 })}`);
}

function pausesThenReturns(log: string[]): void {
  'use tasklet';
  try {
    log.push(`resumed with ${String(scheduleRemove('parked'))}`);
  } catch (e) {
    log.push(`caught ${(e as Error).message}`);
  }
}

describe('channel queues and watchdogs', () => {
  it('next/prev of blocked tasklets run along the channel queue, null at its ends', () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const a = spawn(recvInto, ch, log, 'a');
    const b = spawn(recvInto, ch, log, 'b');
    run();
    expect([ch.queue, a.next, b.next, a.prev, b.prev]).toEqual([a, b, null, null, a]);
    ch.send(1);
    ch.send(2);
    expect(log).toEqual(['a got 1', 'a finally', 'b got 2', 'b finally']);
  });

  it('only the first active run() with a timeout is the interrupt watchdog (research §2.1)', () => {
    const log: string[] = [];
    const box = { n: 0 };
    spawn(innerRun, log);
    const b = spawn(busy, 500, box);
    // the inner run({ timeout: 10 }) does not preempt b after 10 ticks; the outer budget is 1,000
    expect(run({ timeout: 1000 })).toBeNull();
    expect(log).toEqual(['inner run returned null']);
    expect([box.n, b.alive]).toEqual([500, false]);
  });
});

describe('throw and raiseException on paused and blocked tasklets (research §3.5)', () => {
  it('raiseException on a blocked tasklet: it leaves the queue, the error comes out of its receive, then out of the call', () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const t = spawn(recvInto, ch, log, 't');
    run();
    expect(() => t.raiseException(RangeError, 'out of range')).toThrow(new RangeError('out of range'));
    expect(log).toEqual(['t caught RangeError: out of range', 't finally']);
    expect([t.alive, ch.balance, ch.queue]).toEqual([false, 0, null]);
  });

  it('throw({ pending: true }) to a paused tasklet makes it runnable; the error comes out of scheduleRemove()', () => {
    const log: string[] = [];
    const t = spawn(pausesThenReturns, log);
    run();
    expect([t.paused, t.tempval]).toEqual([true, 'parked']);
    t.throw(new Error('wake up'), { pending: true });
    expect([t.paused, t.scheduled, log]).toEqual([false, true, []]);
    run();
    expect(log).toEqual(['caught wake up']);
    expect(t.alive).toBe(false);
  });

  it('tempval set by hand is what scheduleRemove() returns once the tasklet is inserted', () => {
    const log: string[] = [];
    const t = spawn(pausesThenReturns, log);
    run();
    t.tempval = 'hello';
    t.insert();
    run();
    expect(log).toEqual(['resumed with hello']);
  });
});

// ---- an undone switch() (reached through ordinary code) keeps the ring order ----
function logs(name: string, log: string[]): void {
  'use tasklet';
  log.push(name);
}

function switchesTo(x: Tasklet, log: string[]): void {
  'use tasklet';
  try {
    x.switch();
  } catch (e) {
    log.push(`k: ${(e as Error).name}`);
  }
}

function viaOrdinary(x: Tasklet, log: string[]): void {
  'use tasklet';
  ordinaryCaller(x, log); // an untransformed frame: switch() inside cannot suspend
  log.push('A done');
}

function ordinaryCaller(x: Tasklet, log: string[]): void {
  switchesTo(x, log);
}

describe('a switch undone at a boundary', () => {
  it('leaves the caller first and the target where switch() inserted it (at the end)', () => {
    const log: string[] = [];
    const x = new Tasklet(logs).bind(undefined, ['X', log]); // paused, not in the ring
    spawn(viaOrdinary, x, log);
    spawn(logs, 'B', log);
    spawn(logs, 'C', log);
    run();
    expect(log).toEqual(['k: StacklessError', 'A done', 'B', 'C', 'X']);
  });
});

// ---- kill / throw / raiseException × immediate / pending × new / running / blocked / dead ----
import { TaskletExit } from 'stackless';

function victim(ch: Channel<number>, log: string[]): void {
  'use tasklet';
  log.push('started');
  try {
    log.push(`got ${ch.receive()}`);
  } finally {
    log.push('finally');
  }
}

type Op = 'kill' | 'throw' | 'raise';
function act(t: Tasklet, op: Op, pending: boolean): void {
  if (op === 'kill') t.kill({ pending });
  else if (op === 'throw') t.throw(new RangeError('boom'), { pending });
  else t.raiseException(RangeError, 'boom'); // always immediate
}

/** Runs `fn`, returning what it threw as 'Name: message', or 'ok'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('kill, throw and raiseException on every kind of target (research §2.3, §3.5)', () => {
  const cases: Array<[Op, boolean, string, string, string[]]> = [
    // op, pending, at the call, at the next run(), the victim's log
    ['kill', false, 'ok', 'ok', []],
    ['kill', true, 'ok', 'ok', []],
    ['throw', false, 'RangeError: boom', 'ok', []],
    ['throw', true, 'ok', 'RangeError: boom', []],
    ['raise', false, 'RangeError: boom', 'ok', []],
  ];
  it.each(cases)('%s (pending %s) on a tasklet not started yet', (op, pending, atCall, atRun, log) => {
    const ch = new Channel<number>();
    const got: string[] = [];
    const t = spawn(victim, ch, got);
    expect(outcome(() => act(t, op, pending))).toBe(atCall);
    expect(outcome(() => run())).toBe(atRun);
    expect(got).toEqual(log);
    expect(t.alive).toBe(false);
    expect(t.error).toBeInstanceOf(op === 'kill' ? TaskletExit : RangeError);
  });

  const blocked: Array<[Op, boolean, string, string, string[]]> = [
    ['kill', false, 'ok', 'ok', ['started', 'finally']],
    ['kill', true, 'ok', 'ok', ['started', 'finally']],
    ['throw', false, 'RangeError: boom', 'ok', ['started', 'finally']],
    ['throw', true, 'ok', 'RangeError: boom', ['started', 'finally']],
    ['raise', false, 'RangeError: boom', 'ok', ['started', 'finally']],
  ];
  it.each(blocked)('%s (pending %s) on a blocked tasklet', (op, pending, atCall, atRun, log) => {
    const ch = new Channel<number>();
    const got: string[] = [];
    const t = spawn(victim, ch, got);
    run();
    expect([t.blocked, ch.balance]).toEqual([true, -1]);
    expect(outcome(() => act(t, op, pending))).toBe(atCall);
    // immediate: it ran at once and died; pending: unblocked now, runnable, not run yet
    expect([t.blocked, ch.balance]).toEqual([false, 0]);
    expect(got).toEqual(pending ? ['started'] : log);
    expect(t.scheduled).toBe(pending);
    expect(outcome(() => run())).toBe(atRun);
    expect(got).toEqual(log);
    expect(t.alive).toBe(false);
  });

  it.each([
    ['kill', false],
    ['kill', true],
    ['throw', false],
    ['throw', true],
    ['raise', false],
  ] as Array<[Op, boolean]>)('%s (pending %s) on the running tasklet raises in place', (op, pending) => {
    const seen: string[] = [];
    function self(o: Op, p: boolean, out: string[]): void {
      'use tasklet';
      try {
        act(getCurrent(), o, p);
        out.push('not raised');
      } catch (e) {
        out.push(`${(e as Error).name}`);
      }
    }
    spawn(self, op, pending, seen);
    run();
    expect(seen).toEqual([op === 'kill' ? 'TaskletExit' : 'RangeError']);
  });

  it.each([
    ['kill', false, 'ok'],
    ['kill', true, 'ok'],
    ['throw', false, 'StacklessError: You cannot throw to a dead tasklet'],
    ['throw', true, 'StacklessError: You cannot throw to a dead tasklet'],
    ['raise', false, 'StacklessError: You cannot throw to a dead tasklet'],
  ] as Array<[Op, boolean, string]>)('%s (pending %s) on a dead tasklet', (op, pending, atCall) => {
    const ch = new Channel<number>();
    const t = spawn(victim, ch, []);
    run();
    ch.send(1);
    expect(t.alive).toBe(false);
    expect(outcome(() => act(t, op, pending))).toBe(atCall);
    expect([t.alive, t.result]).toEqual([false, undefined]);
  });
});
