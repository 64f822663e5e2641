// Scheduling order, tasklet states and the tasklet API, after Stackless's
// test_miscell / research §3.1-3.2 (hand-compiled tasklet bodies).
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { say, sched, call, expectClean } from './support/util.js';
import {
  Tasklet, Channel, spawn, run, schedule, scheduleRemove, getCurrent, getMain, getRunCount,
  StacklessError,
} from '../../runtime/index.js';

afterEach(expectClean);

const looper = (log: string[], n = 2) =>
  tf('looper', ['name'], [
    S.do((L) => (L.i = 0)),
    S.while((L) => L.i < n, [S.do((L) => log.push(L.name + L.i++)), sched()]),
  ]);

describe('round robin', () => {
  it('runs A, B, C in FIFO order, twice', () => {
    const log: string[] = [];
    const f = looper(log);
    spawn(f, 'A');
    spawn(f, 'B');
    spawn(f, 'C');
    expect(getRunCount()).toBe(4);
    expect(run()).toBe(null);
    expect(log).toEqual(['A0', 'B0', 'C0', 'A1', 'B1', 'C1']);
  });

  it('schedule() from main runs every other tasklet once and comes back', () => {
    const log: string[] = [];
    const f = looper(log);
    spawn(f, 'A');
    spawn(f, 'B');
    expect(schedule()).toBe(getMain());
    log.push('M');
    expect(getRunCount()).toBe(3);
    run();
    expect(log).toEqual(['A0', 'B0', 'M', 'A1', 'B1']);
  });

  it('schedule() returns the current tasklet, schedule(v) returns v', () => {
    expect(schedule()).toBe(getMain());
    expect(schedule(42)).toBe(42);
    const seen: unknown[] = [];
    const f = tf('f', [], [sched((L, v) => (L.a = v)), call(schedule, () => ['x'], (L, v) => seen.push(L.a, v))]);
    const t = spawn(f);
    run();
    expect(seen).toEqual([t, 'x']);
  });

  it('t.run() continues the chain from the target: t0 stays pending', () => {
    const log: string[] = [];
    const f = tf('f', ['n'], [say(log, (L) => L.n)]);
    const t0 = spawn(f, 't0');
    const t1 = spawn(f, 't1');
    spawn(f, 't2');
    t1.run();
    expect(log).toEqual(['t1', 't2']);
    expect(t0.alive && t0.scheduled).toBe(true);
    expect(getRunCount()).toBe(2);
    run();
    expect(log).toEqual(['t1', 't2', 't0']);
  });

  it('t.switch() pauses the caller until it is inserted again', () => {
    const log: unknown[] = [];
    const ts: Tasklet[] = [];
    const a = tf('a', [], [say(log, 'A'), S.call(() => [ts[1].switch, ts[1]]), say(log, 'A2')]);
    const b = tf('b', [], [
      say(log, 'B'),
      S.do(() => log.push(ts[0].paused, ts[0].scheduled)),
      S.do(() => ts[0].insert()),
    ]);
    ts.push(spawn(a), spawn(b));
    run();
    expect(log).toEqual(['A', 'B', true, false, 'A2']);
  });

  it('scheduleRemove(v) pauses; tempval is what it returns once inserted', () => {
    const got: unknown[] = [];
    const f = tf('f', [], [call(scheduleRemove, () => ['hello'], (_L, v) => got.push(v))]);
    const t = spawn(f);
    expect(run()).toBe(null);
    expect([t.alive, t.paused, t.scheduled, t.blocked]).toEqual([true, true, false, false]);
    expect(t.tempval).toBe('hello');
    t.insert();
    run();
    const u = spawn(f);
    run();
    u.tempval = 'world';
    u.insert();
    run();
    expect(got).toEqual(['hello', 'world']);
  });

  it('nested run() in a tasklet returns when the queue empties', () => {
    const log: string[] = [];
    const a = tf('a', [], [say(log, 'a1'), call(run, () => [], (_L, v) => log.push(`run=${v}`)), say(log, 'a2')]);
    const b = tf('b', [], [say(log, 'b1'), sched(), say(log, 'b2')]);
    spawn(a);
    spawn(b);
    run();
    expect(log).toEqual(['a1', 'b1', 'b2', 'run=null', 'a2']);
  });

  it('an error goes to the innermost run()', () => {
    const log: string[] = [];
    const a = tf('a', [], [
      S.try([call(run)], { catch: [S.do((L) => log.push('caught ' + (L.$e as Error).message))] }),
    ]);
    const b = tf('b', [], [S.do(() => { throw new Error('boom'); })]);
    spawn(a);
    spawn(b);
    run();
    expect(log).toEqual(['caught boom']);
  });
});

describe('state table (research §3.1)', () => {
  const st = (t: Tasklet) => [t.alive, t.scheduled, t.paused, t.blocked];
  it('goes through every row', () => {
    const f = tf('f', ['x'], [call(scheduleRemove)]);
    const t = new Tasklet();
    expect(st(t)).toEqual([false, false, false, false]);
    const u = new Tasklet(f);
    expect(st(u)).toEqual([false, false, false, false]);
    u.bind(f, [1]);
    expect(st(u)).toEqual([true, false, true, false]);
    u.insert();
    expect(st(u)).toEqual([true, true, false, false]);
    u.remove();
    expect(st(u)).toEqual([true, false, true, false]);
    u.insert();
    run();
    expect(st(u)).toEqual([true, false, true, false]);
    expect(u.recursionDepth).toBe(1);
    u.insert();
    run();
    expect(st(u)).toEqual([false, false, false, false]);
    expect(u.recursionDepth).toBe(0);
    const ch = new Channel();
    const w = spawn(tf('w', [], [S.call(() => [ch.receive, ch])]));
    run();
    expect(st(w)).toEqual([true, true, false, true]);
    ch.send(1);
    expect(st(w)).toEqual([false, false, false, false]);
  });

  it('main: scheduled outside run(), paused inside it; runcount without main', () => {
    const m = getMain();
    expect(m.scheduled).toBe(true);
    expect(m.next).toBe(m);
    expect(m.isMain && m.isCurrent && m.alive).toBe(true);
    const seen: unknown[] = [];
    spawn(tf('f', [], [S.do(() => seen.push(m.paused, m.scheduled, getRunCount(), getCurrent().isMain))]));
    run();
    spawn(tf('g', [], [S.do(() => seen.push(m.paused, m.scheduled, getRunCount()))]));
    schedule();
    expect(seen).toEqual([true, false, 1, false, false, true, 2]);
  });

  it('next/prev follow the ring and are null outside it', () => {
    const f = tf('f', [], []);
    const a = spawn(f);
    const b = spawn(f);
    const m = getMain();
    expect([m.next, a.next, b.next, m.prev]).toEqual([a, b, m, b]);
    a.remove();
    expect([a.next, a.prev, m.next]).toEqual([null, null, b]);
    a.insert();
    run();
    expect([a.next, b.prev]).toEqual([null, null]);
  });
});

describe('bind / setup / insert / remove', () => {
  const f = tf('f', [], []);
  it('refuses with Stackless messages', () => {
    expect(() => getMain().bind(f)).toThrow(new StacklessError("can't (re)bind the current tasklet"));
    const t = spawn(f);
    expect(() => t.bind(f)).toThrow(new StacklessError('tasklet is scheduled'));
    expect(() => t.setup()).toThrow(new StacklessError('tasklet is alive'));
    run();
    expect(() => t.setup()).toThrow(new StacklessError('the tasklet was not bound to a function'));
    expect(() => new Tasklet().setup()).toThrow(new StacklessError('the tasklet was not bound to a function'));
    expect(() => new Tasklet(5 as never)).toThrow(new TypeError('tasklet function must be a callable or None'));
    expect(() => new Tasklet().bind(5 as never)).toThrow(TypeError);
    expect(() => t.insert()).toThrow(new StacklessError('You cannot run an unbound(dead) tasklet'));
    expect(() => new Tasklet(f).insert()).toThrow(new StacklessError('You cannot run an unbound(dead) tasklet'));
    expect(() => getMain().remove()).toThrow(new StacklessError('The current tasklet cannot be removed.'));
    const ch = new Channel();
    const w = spawn(tf('w', [], [S.call(() => [ch.receive, ch])]));
    run();
    expect(() => w.insert()).toThrow(new StacklessError('You cannot run a blocked tasklet'));
    expect(() => w.run()).toThrow(new StacklessError('You cannot run a blocked tasklet'));
    expect(() => w.remove()).toThrow(new StacklessError('You cannot remove a blocked tasklet.'));
    ch.send(0);
    const seen: unknown[] = [];
    spawn(tf('m', [], [S.do(() => {
      try { getMain().bind(null); } catch (e) { seen.push((e as Error).message); }
    })]));
    run();
    expect(seen).toEqual(["can't unbind the main tasklet"]);
  });

  it('bind(undefined, args) keeps the function; setup binds and inserts', () => {
    const got: unknown[] = [];
    const g = tf('g', ['a', 'b'], [S.do((L) => got.push(L.a, L.b))]);
    const t = new Tasklet(g).bind(undefined, [1, 2]);
    expect(t.paused).toBe(true);
    t.insert();
    run();
    new Tasklet(g).setup(3, 4);
    run();
    expect(got).toEqual([1, 2, 3, 4]);
  });

  it('bind(null) drops the frames without running finally blocks', () => {
    const log: string[] = [];
    const g = tf('g', [], [S.try([call(scheduleRemove)], { finally: [say(log, 'finally')] })]);
    const t = spawn(g);
    run();
    expect(t.paused).toBe(true);
    t.bind(null);
    expect(t.alive).toBe(false);
    expect(log).toEqual([]);
  });

  it('remove() of a runnable tasklet pauses it; it is a no-op when not scheduled', () => {
    const log: string[] = [];
    const t = spawn(tf('g', [], [say(log, 'ran')]));
    expect(t.remove()).toBe(t);
    expect(t.remove()).toBe(t);
    run();
    expect(log).toEqual([]);
    t.insert();
    run();
    expect(log).toEqual(['ran']);
  });

  it('setAtomic returns the previous value; blockTrap and tempval are writable', () => {
    const t = new Tasklet();
    expect([t.setAtomic(true), t.setAtomic(true), t.setAtomic(false), t.atomic]).toEqual([false, true, true, false]);
    t.blockTrap = true;
    expect(t.blockTrap).toBe(true);
    t.tempval = 7;
    expect(t.tempval).toBe(7);
    expect(typeof t.id).toBe('number');
    expect(t.id).toBe(t.id);
    expect(new Tasklet().id).not.toBe(t.id);
  });

  it('Tasklet and Channel can be subclassed', () => {
    class MyTasklet extends Tasklet {
      tag = 'mine';
    }
    class MyChannel extends Channel<number> {
      extra = 1;
    }
    const ch = new MyChannel();
    const got: unknown[] = [];
    const t = new MyTasklet(tf('g', [], [S.call(() => [ch.receive, ch], (_L, v) => got.push(v))])).setup();
    run();
    ch.send(5);
    expect(got).toEqual([5]);
    expect(t).toBeInstanceOf(MyTasklet);
    expect(t.tag).toBe('mine');
  });
});
