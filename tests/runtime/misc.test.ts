// More Stackless corners (test_miscell / test_defects / test_watchdog spirit).
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { say, sched, recv, call, expectClean } from './support/util.js';
import {
  Tasklet, Channel, spawn, run, schedule, scheduleRemove, getCurrent, getMain, getRunCount,
  setScheduleCallback, StacklessError, TaskletExit,
} from '../../runtime/index.js';

afterEach(expectClean);

describe('deadlocks in tasklets', () => {
  it('scheduleRemove() in the only tasklet while main is blocked raises in that tasklet', () => {
    const ch = new Channel();
    const seen: string[] = [];
    spawn(tf('f', [], [
      S.try([call(scheduleRemove)], { catch: [S.do((L) => seen.push((L.$e as Error).message))] }),
      S.call(() => [ch.send, ch, 'after']),
    ]));
    expect(ch.receive()).toBe('after');
    expect(seen).toEqual(['Deadlock: the last runnable tasklet cannot be blocked.']);
    run();
  });

  it('uncaught, the tasklet\'s deadlock error comes out of main\'s blocked operation', () => {
    const ch = new Channel();
    spawn(tf('f', [], [call(scheduleRemove)]));
    expect(() => ch.receive()).toThrow(new StacklessError('Deadlock: the last runnable tasklet cannot be blocked.'));
    expect(ch.balance).toBe(0);
  });
});

describe('switching from tasklets', () => {
  it('t.run() from a tasklet switches now; the caller runs on after the chain', () => {
    const log: string[] = [];
    const ts: Tasklet[] = [];
    ts.push(spawn(tf('a', [], [say(log, 'a1'), S.call(() => [ts[2].run, ts[2]]), say(log, 'a2')])));
    ts.push(spawn(tf('b', [], [say(log, 'b')])));
    ts.push(new Tasklet(tf('c', [], [say(log, 'c')])).bind(undefined, []));
    run();
    expect(log).toEqual(['a1', 'c', 'a2', 'b']);
  });

  it('kill from another tasklet: the victim dies now, then the killer continues', () => {
    const log: string[] = [];
    const ch = new Channel();
    const victim = spawn(tf('v', [], [S.try([recv(ch)], { finally: [say(log, 'victim finally')] })]));
    spawn(tf('k', [], [say(log, 'kill'), S.call(() => [victim.kill, victim]), say(log, 'killer continues')]));
    run();
    expect(log).toEqual(['kill', 'victim finally', 'killer continues']);
  });

  it('a paused tasklet can be killed; its finally runs at once', () => {
    const log: string[] = [];
    const t = spawn(tf('p', [], [S.try([call(scheduleRemove)], { finally: [say(log, 'fin')] })]));
    run();
    t.kill();
    expect(log).toEqual(['fin']);
  });

  it('throw with pending to a blocked tasklet unblocks it now; the error comes with the next run', () => {
    const ch = new Channel();
    const seen: unknown[] = [];
    const t = spawn(tf('w', [], [S.try([recv(ch)], { catch: [S.do((L) => seen.push((L.$e as Error).message))] })]));
    run();
    t.throw(new Error('later'), { pending: true });
    expect([t.blocked, t.scheduled, ch.balance, seen.length]).toEqual([false, true, 0, 0]);
    run();
    expect(seen).toEqual(['later']);
  });

  it('an immediate throw reached from ordinary code degrades to pending (no switch, no error)', () => {
    const ch = new Channel();
    const log: string[] = [];
    const victim = spawn(tf('v', [], [S.try([recv(ch)], { catch: [say(log, 'victim caught')] })]));
    const throwIt = () => victim.throw(new Error('x')); // ordinary code
    spawn(tf('k', [], [call(throwIt), say(log, 'thrower continues')]));
    run();
    expect(log).toEqual(['thrower continues', 'victim caught']);
  });

  it('a tasklet must not switch inside the schedule callback', () => {
    const errors: string[] = [];
    setScheduleCallback(() => {
      try {
        schedule();
      } catch (e) {
        errors.push((e as Error).message);
      }
    });
    spawn(tf('f', [], []));
    spawn(tf('g', [], []));
    run();
    setScheduleCallback(null);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/cannot (block|switch)/);
  });
});

describe('misc', () => {
  it('run() with nothing to do returns null; runcount is at least 1', () => {
    expect(run()).toBe(null);
    expect(getRunCount()).toBe(1);
    expect(run({ timeout: 10 })).toBe(null);
  });

  it('kill() on an unbound tasklet is a no-op; TaskletExit is an Error', () => {
    const t = new Tasklet();
    t.kill();
    expect(t.alive).toBe(false);
    expect(new TaskletExit()).toBeInstanceOf(Error);
    expect(new TaskletExit().name).toBe('TaskletExit');
  });

  it('main tempval and schedule()', () => {
    const m = getMain();
    expect(schedule('v')).toBe('v');
    expect(m.tempval).toBe(undefined);
    expect(getCurrent()).toBe(m);
  });

  it('many tasklets: 10,000 finish in order', () => {
    const log: number[] = [];
    const f = tf('f', ['i'], [S.do((L) => log.push(L.i))]);
    for (let i = 0; i < 10_000; i++) spawn(f, i);
    run();
    expect(log.length).toBe(10_000);
    expect(log.every((v, i) => v === i)).toBe(true);
  });

  it('a receive-side channel callback sees willBlock false when a sender waits', () => {
    const ch = new Channel<number>();
    spawn(tf('s', [], [S.call(() => [ch.send, ch, 1])]));
    run();
    expect(ch.balance).toBe(1);
    expect(ch.receive()).toBe(1);
    run();
    void sched;
  });
});

describe('watchdog tasklets', () => {
  it('a tasklet waiting in run() that is inserted by hand leaves its run()', () => {
    const log: unknown[] = [];
    const ts: Tasklet[] = [];
    ts.push(spawn(tf('w', [], [call(run, () => [], (_L, v) => log.push(`run returned ${v}`))])));
    ts.push(spawn(tf('x', [], [S.do(() => log.push(ts[0].paused)), S.do(() => ts[0].insert()), sched(), say(log, 'x done')])));
    run();
    expect(log).toEqual([true, 'run returned undefined', 'x done']);
  });
});
