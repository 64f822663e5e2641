// Exceptions, kill/throw, error handler, schedule callback, switch_trap, atomic,
// join/done (research §3.5, §3.7; Stackless test_miscell).
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { say, sched, recv, call, expectClean } from './support/util.js';
import {
  Tasklet, Channel, spawn, run, schedule, getCurrent, getMain, getRunCount, setErrorHandler,
  setScheduleCallback, switchTrap, atomic, scheduleRemove, StacklessError, TaskletExit,
} from '../../runtime/index.js';

afterEach(expectClean);

const boom = (msg: string) => S.do(() => { throw new Error(msg); });

describe('errors escaping tasklets', () => {
  it('come out of run(); the others stay scheduled; TaskletExit is silent', () => {
    const log: string[] = [];
    const coop = tf('coop', [], [say(log, 'c1'), sched(), say(log, 'c2')]);
    const t1 = spawn(coop);
    spawn(tf('bad', [], [boom('oops')]));
    expect(() => run()).toThrow(new Error('oops'));
    expect([t1.alive, t1.scheduled, getRunCount()]).toEqual([true, true, 2]);
    run();
    expect(log).toEqual(['c1', 'c2']);
    const q = spawn(tf('quiet', [], [S.do(() => { throw new TaskletExit(); })]));
    expect(run()).toBe(null);
    expect(q.error).toBeInstanceOf(TaskletExit);
  });

  it('setErrorHandler(h): h(error, tasklet) runs in the dying tasklet; returns the previous handler', () => {
    const seen: unknown[] = [];
    const h = (e: unknown, t: Tasklet) => seen.push((e as Error).message, t === getCurrent(), t.alive);
    expect(setErrorHandler(h)).toBe(null);
    const t = spawn(tf('bad', [], [boom('handled')]));
    expect(run()).toBe(null);
    expect(seen).toEqual(['handled', true, false]);
    expect(t.error).toEqual(new Error('handled'));
    expect(setErrorHandler(() => { throw new Error('from handler'); })).toBe(h);
    spawn(tf('bad', [], [boom('x')]));
    expect(() => run()).toThrow(new Error('from handler'));
  });

  it('result, error, join() and done()', async () => {
    const ok = spawn(tf('ok', ['x'], [S.ret((L) => L.x * 2)]), 21);
    const bad = spawn(tf('bad', [], [boom('nope')]));
    const joined: unknown[] = [];
    spawn(tf('joiner', [], [
      S.call(() => [ok.join, ok], (_L, v) => joined.push(v)),
      S.try([S.call(() => [bad.join, bad])], { catch: [S.do((L) => joined.push((L.$e as Error).message))] }),
    ]));
    const p = ok.done();
    setErrorHandler(() => {});
    run();
    expect(joined).toEqual([42, 'nope']);
    expect([ok.result, ok.error, bad.result, (bad.error as Error).message]).toEqual([42, undefined, undefined, 'nope']);
    expect(ok.join()).toBe(42);
    expect(() => bad.join()).toThrow(new Error('nope'));
    await expect(p).resolves.toBe(42);
    await expect(bad.done()).rejects.toThrow('nope');
    const later = spawn(tf('later', [], [sched(), S.ret(() => 'done')]));
    expect(later.join()).toBe('done'); // main blocks in join while the others run
  });
});

describe('kill', () => {
  it('a blocked tasklet leaves the channel, runs its finally, and dies', () => {
    const ch = new Channel();
    const log: unknown[] = [];
    const t = spawn(tf('w', [], [S.try([recv(ch), say(log, 'not reached')], { finally: [say(log, 'finally')] })]));
    run();
    expect(ch.balance).toBe(-1);
    t.kill();
    expect(log).toEqual(['finally']);
    expect([t.alive, ch.balance, ch.queue, t.error instanceof TaskletExit]).toEqual([false, 0, null, true]);
  });

  it('kill({ pending: true }) unblocks now and kills on the next run()', () => {
    const ch = new Channel();
    const log: unknown[] = [];
    const t = spawn(tf('w', [], [S.try([recv(ch)], { finally: [say(log, 'finally')] })]));
    run();
    t.kill({ pending: true });
    expect([t.blocked, t.scheduled, t.alive, ch.balance, log.length]).toEqual([false, true, true, 0, 0]);
    run();
    expect([t.alive, log]).toEqual([false, ['finally']]);
  });

  it('an unstarted tasklet never runs; running it afterwards fails', () => {
    const log: string[] = [];
    const t = spawn(tf('f', [], [say(log, 'ran')]));
    t.kill();
    expect([t.alive, log]).toEqual([false, []]);
    expect(() => t.run()).toThrow(new StacklessError('You cannot run an unbound(dead) tasklet'));
    t.kill(); // dead: no-op
    expect(() => t.throw(new Error('x'))).toThrow(new StacklessError('You cannot throw to a dead tasklet'));
    t.throw(new TaskletExit()); // no-op
  });

  it('getCurrent().kill() raises TaskletExit in place', () => {
    const log: string[] = [];
    spawn(tf('f', [], [
      S.try([S.do(() => getCurrent().kill()), say(log, 'not reached')], { finally: [say(log, 'finally')] }),
    ]));
    expect(run()).toBe(null);
    expect(log).toEqual(['finally']);
  });
});

describe('throw / raiseException', () => {
  it('immediate: the target runs its handlers now and control comes back', () => {
    const log: unknown[] = [];
    const t = spawn(tf('f', [], [S.try([call(scheduleRemove)], { catch: [S.do((L) => log.push((L.$e as Error).message))] })]));
    run();
    t.throw(new Error('hey'));
    log.push('back');
    expect(log).toEqual(['hey', 'back']);
  });

  it('an unhandled thrown error propagates to the caller (main)', () => {
    const t = spawn(tf('f', [], [call(scheduleRemove)]));
    run();
    expect(() => t.raiseException(SyntaxError, 'key')).toThrow(new SyntaxError('key'));
    expect(t.alive).toBe(false);
  });

  it('on an unstarted tasklet: immediate raises at the call; pending at the next run()', () => {
    const f = tf('f', [], []);
    expect(() => spawn(f).throw(new Error('now'))).toThrow(new Error('now'));
    const t = spawn(f);
    t.throw(new Error('later'), { pending: true });
    expect(t.alive).toBe(true);
    expect(() => run()).toThrow(new Error('later'));
  });

  it('throw(new TaskletExit()) behaves as kill()', () => {
    const log: string[] = [];
    const t = spawn(tf('f', [], [S.try([call(scheduleRemove)], { finally: [say(log, 'fin')] })]));
    run();
    t.throw(new TaskletExit());
    expect([t.alive, log]).toEqual([false, ['fin']]);
  });
});

describe('callbacks, switch_trap, atomic', () => {
  it('the schedule callback sees (prev, next) on every switch', () => {
    const seen: string[] = [];
    const m = getMain();
    const t = spawn(tf('f', [], []));
    const name = (x: Tasklet) => (x === m ? 'main' : x === t ? 't' : '?');
    expect(setScheduleCallback((p, n) => seen.push(`${name(p)}->${name(n)}`))).toBe(null);
    run();
    expect(seen).toEqual(['main->t', 't->main']);
  });

  it('switch_trap makes switching throw and leaves the state alone', () => {
    const t = spawn(tf('f', [], []));
    expect(switchTrap(1)).toBe(0);
    const msg = new StacklessError('switch_trap');
    expect(() => schedule()).toThrow(msg);
    expect(() => run()).toThrow(msg);
    expect(() => t.run()).toThrow(msg);
    expect(() => t.switch()).toThrow(msg);
    expect(() => t.kill()).toThrow(msg);
    expect(() => t.raiseException(Error)).toThrow(msg);
    getMain().switch(); // switching to oneself is allowed
    expect([t.alive, t.scheduled, getRunCount()]).toEqual([true, true, 2]);
    expect(switchTrap(-1)).toBe(1);
    run();
    expect(t.alive).toBe(false);
  });

  it('atomic(fn) returns its result and restores the flag even on throw', () => {
    const m = getMain();
    expect(atomic(() => m.atomic)).toBe(true);
    expect(m.atomic).toBe(false);
    expect(() => atomic(() => { throw new Error('in atomic'); })).toThrow('in atomic');
    expect(m.atomic).toBe(false);
    // a blocking body inside a tasklet: the flag stays set while it is suspended
    const seen: unknown[] = [];
    const body = tf('body', [], [sched(), S.ret(() => 'r')]);
    spawn(tf('f', [], [S.call(() => [atomic, undefined, body], (_L, v) => seen.push(v, getCurrent().atomic))]));
    spawn(tf('g', [], [S.do(() => seen.push('g'))]));
    run();
    expect(seen).toEqual(['g', 'r', false]);
  });
});

describe('a throwing schedule callback', () => {
  it('does not break the scheduler; main\'s run() throws the error afterwards', () => {
    const log: string[] = [];
    setScheduleCallback(() => { throw new Error('cb'); });
    spawn(tf('f', [], [say(log, 'f'), sched(), say(log, 'f2')]));
    spawn(tf('g', [], [say(log, 'g')]));
    expect(() => run()).toThrow(new Error('cb'));
    setScheduleCallback(null);
    expect(log).toEqual(['f', 'g', 'f2']);
  });
});

describe('an error escaping a tasklet comes out of what main is blocked in', () => {
  it('schedule() and t.run()', () => {
    spawn(tf('bad', [], [boom('in schedule')]));
    expect(() => schedule()).toThrow(new Error('in schedule'));
    const t = spawn(tf('bad', [], [boom('in t.run')]));
    expect(() => t.run()).toThrow(new Error('in t.run'));
    expect(getRunCount()).toBe(1);
  });

  it('join() from main', () => {
    const t = spawn(tf('bad', [], [sched(), boom('joined')]));
    spawn(tf('other', [], [boom('other first')]));
    expect(() => t.join()).toThrow(new Error('other first'));
    expect(() => t.join()).toThrow(new Error('joined'));
  });
});
