// Channels after Stackless's test_channel and research §3.3-3.4: balances, the
// preference orderings, exceptions over channels, close/open, callbacks, deadlocks.
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { say, sched, recv, send, call, expectClean } from './support/util.js';
import {
  Tasklet, Channel, spawn, run, getCurrent, getMain, getRunCount, setChannelCallback, StacklessError,
} from '../../runtime/index.js';

afterEach(expectClean);

describe('blocking and balance', () => {
  it('a blocked receiver makes balance -1, a blocked sender +1, FIFO', () => {
    const ch = new Channel<number>();
    const got: unknown[] = [];
    const r = tf('r', ['n'], [recv(ch, (L, v) => got.push(`${L.n}:${v}`))]);
    const a = spawn(r, 'a');
    spawn(r, 'b');
    run();
    expect(ch.balance).toBe(-2);
    expect(ch.queue).toBe(a);
    expect(a.next).not.toBe(null);
    ch.send(1);
    ch.send(2);
    expect(got).toEqual(['a:1', 'b:2']);
    expect(ch.balance).toBe(0);
    const s = tf('s', ['v'], [send(ch, (L) => L.v)]);
    spawn(s, 10);
    spawn(s, 20);
    run();
    expect(ch.balance).toBe(2);
    expect([ch.receive(), ch.receive()]).toEqual([10, 20]);
    expect(ch.balance).toBe(0);
    // pref -1: main (the receiver) ran on; the senders were queued at the end
    expect(getRunCount()).toBe(3);
    run();
  });

  it('main receives from a sender that spawns before each send: [1, a, 2, b, 3]', () => {
    const ch = new Channel<unknown>();
    const seen: unknown[] = [];
    const foo = tf('foo', ['x'], [S.do((L) => seen.push(L.x))]);
    const sender = tf('sender', [], [
      S.do(() => spawn(foo, 'a')), send(ch, () => 1),
      S.do(() => spawn(foo, 'b')), send(ch, () => 2),
      S.do(() => spawn(foo, 'c')), send(ch, () => 3),
      S.do(() => spawn(foo, 'd')),
    ]);
    const t = spawn(sender);
    expect(getRunCount()).toBe(2);
    t.run();
    expect(getRunCount()).toBe(2);
    for (let i = 0; i < 3; i++) seen.push(ch.receive());
    expect(seen).toEqual([1, 'a', 2, 'b', 3]);
    run();
    expect(seen).toEqual([1, 'a', 2, 'b', 3, 'c', 'd']);
  });
});

describe('preference (research §3.3, all eight rows)', () => {
  function order(pref: number | 'all', recvFirst: boolean): string[] {
    const log: string[] = [];
    const ch = new Channel<string>();
    if (pref === 'all') ch.scheduleAll = true;
    else ch.preference = pref;
    const R = tf('R', [], [say(log, 'R:before'), recv(ch, (_L, v) => log.push(`R:got ${v}`))]);
    const Sd = tf('S', [], [say(log, 'S:before'), send(ch, () => 'v'), say(log, 'S:after')]);
    const O = tf('O', [], [say(log, 'O')]);
    if (recvFirst) { spawn(R); spawn(Sd); } else { spawn(Sd); spawn(R); }
    spawn(O);
    run();
    return log;
  }
  it.each([
    [-1, true, ['R:before', 'S:before', 'R:got v', 'O', 'S:after']],
    [-1, false, ['S:before', 'R:before', 'R:got v', 'O', 'S:after']],
    [0, true, ['R:before', 'S:before', 'S:after', 'O', 'R:got v']],
    [0, false, ['S:before', 'R:before', 'R:got v', 'O', 'S:after']],
    [1, true, ['R:before', 'S:before', 'S:after', 'O', 'R:got v']],
    [1, false, ['S:before', 'R:before', 'S:after', 'O', 'R:got v']],
    ['all', true, ['R:before', 'S:before', 'O', 'R:got v', 'S:after']],
    ['all', false, ['S:before', 'R:before', 'O', 'S:after', 'R:got v']],
  ] as const)('pref %s, receiver first %s', (pref, recvFirst, expected) => {
    expect(order(pref, recvFirst)).toEqual(expected);
  });

  it.each([
    [1, ['S0', 'S1', 'S2', 'R0', 'R1', 'R2']],
    [-1, ['R0', 'R1', 'R2', 'S0', 'S1', 'S2']],
  ] as const)('three senders and three receivers, pref %s', (pref, expected) => {
    for (const sendersFirst of [true, false]) {
      const log: string[] = [];
      const ch = new Channel<number>();
      ch.preference = pref;
      const s = tf('s', ['i'], [send(ch, (L) => L.i), say(log, (L) => `S${L.i}`)]);
      const r = tf('r', ['i'], [recv(ch), say(log, (L) => `R${L.i}`)]);
      for (const f of sendersFirst ? [s, r] : [r, s]) for (let i = 0; i < 3; i++) spawn(f, i);
      run();
      expect(log).toEqual(expected);
    }
  });

  it('preference clamps by sign and must be an integer', () => {
    const ch = new Channel();
    expect(ch.preference).toBe(-1);
    ch.preference = 5;
    expect(ch.preference).toBe(1);
    ch.preference = -7;
    expect(ch.preference).toBe(-1);
    ch.preference = 0;
    expect(ch.preference).toBe(0);
    expect(() => (ch.preference = 1.5)).toThrow(new TypeError('preference must be set to an integer'));
  });
});

describe('deadlock (research §3.4)', () => {
  it('main cannot block as the last runnable; balance stays 0', () => {
    const ch = new Channel();
    const msg = 'Deadlock: the last runnable tasklet cannot be blocked.';
    expect(() => ch.receive()).toThrow(new StacklessError(msg));
    expect(() => ch.send(1)).toThrow(new StacklessError(msg));
    expect(ch.balance).toBe(0);
  });

  it('main blocked when the last other tasklet ends', () => {
    const ch = new Channel();
    spawn(tf('f', [], []));
    expect(() => ch.receive()).toThrow(new StacklessError('the main tasklet is receiving without a sender available.'));
    expect(ch.balance).toBe(0);
    spawn(tf('f', [], []));
    expect(() => ch.send(1)).toThrow(new StacklessError('the main tasklet is sending without a receiver available.'));
    expect(ch.balance).toBe(0);
  });

  it('an error in another tasklet comes out of main\'s receive', () => {
    const ch = new Channel();
    spawn(tf('f', [], [S.do(() => { throw new RangeError('mumbai'); })]));
    expect(() => ch.receive()).toThrow(new RangeError('mumbai'));
    expect(ch.balance).toBe(0);
  });

  it('inside run() a tasklet may block with nothing else runnable', () => {
    const ch = new Channel();
    const t = spawn(tf('f', [], [recv(ch)]));
    expect(run()).toBe(null);
    expect([t.blocked, ch.balance, t.alive]).toEqual([true, -1, true]);
    t.kill();
    expect(ch.balance).toBe(0);
  });

  it('a tasklet blocking while main is blocked gets the deadlock error, then main does', () => {
    const main = new Channel();
    const other = new Channel();
    const log: string[] = [];
    spawn(tf('f', [], [
      S.try([recv(other)], { catch: [S.do((L) => log.push((L.$e as Error).message))] }),
      recv(other),
    ]));
    expect(() => main.receive()).toThrow(new StacklessError('Deadlock: the last runnable tasklet cannot be blocked.'));
    expect(log).toEqual(['Deadlock: the last runnable tasklet cannot be blocked.']);
    expect([main.balance, other.balance]).toEqual([0, 0]);
  });
});

describe('exceptions over channels', () => {
  it('sendException raises new Cls(...args) in the receiver; sendThrow the instance', () => {
    const ch = new Channel();
    const got: unknown[] = [];
    const r = tf('r', [], [S.try([recv(ch)], { catch: [S.do((L) => got.push(L.$e))] })]);
    spawn(r);
    run();
    ch.sendException(TypeError, 'bad', { cause: 1 });
    const e = new SyntaxError('thrown');
    spawn(r);
    run();
    ch.sendThrow(e);
    expect(got[0]).toBeInstanceOf(TypeError);
    expect((got[0] as Error).message).toBe('bad');
    expect((got[0] as Error).cause).toBe(1);
    expect(got[1]).toBe(e);
  });

  it('a blocked sender of an exception makes main\'s receive throw', () => {
    const ch = new Channel();
    spawn(tf('s', [], [S.call(() => [ch.sendException, ch, Error, 'over the wire'])]));
    run();
    expect(ch.balance).toBe(1);
    expect(() => ch.receive()).toThrow(new Error('over the wire'));
    run(); // the sender was queued at the end; let it finish
  });

  it('an uncaught exception from a channel kills the receiver and reaches run()', () => {
    const ch = new Channel();
    const t = spawn(tf('r', [], [recv(ch)]));
    run();
    // pref -1: the receiver runs at once and dies; its error comes out of main's send
    expect(() => ch.sendException(Error, 'x')).toThrow(new Error('x'));
    expect(t.alive).toBe(false);
    expect(t.error).toEqual(new Error('x'));
  });
});

describe('sendSequence and iteration', () => {
  it('sendSequence sends each value and returns the count; for-of style next() ends on close', () => {
    const ch = new Channel<number>();
    const got: unknown[] = [];
    const counts: unknown[] = [];
    const consumer = tf('c', [], [
      S.do((L) => (L.done = false)),
      S.while((L) => !L.done, [
        S.call(() => [ch.next, ch], (L, r) => (r.done ? (L.done = true) : got.push(r.value))),
      ]),
      say(got, 'end'),
    ]);
    const producer = tf('p', [], [
      S.call(() => [ch.sendSequence, ch, [1, 2, 3]], (_L, n) => counts.push(n)),
      S.do(() => ch.close()),
    ]);
    spawn(consumer);
    spawn(producer);
    run();
    // the consumer is blocked again after 3; close() does not wake it (Stackless)
    expect(got).toEqual([1, 2, 3]);
    expect(counts).toEqual([3]);
    expect([ch.closing, ch.closed, ch.balance]).toEqual([true, false, -1]);
    ch.close({ wake: true });
    run();
    expect(got).toEqual([1, 2, 3, 'end']);
    expect(ch.closed).toBe(true);
  });

  it('close() lets queued senders drain, then blocking operations fail', () => {
    const ch = new Channel<number>();
    const s = tf('s', ['v'], [send(ch, (L) => L.v)]);
    spawn(s, 1);
    spawn(s, 2);
    run();
    ch.close();
    expect([ch.closing, ch.closed]).toEqual([true, false]);
    expect([ch.receive(), ch.receive()]).toEqual([1, 2]);
    expect(ch.closed).toBe(true);
    run();
    const msg = 'Send/receive operation on a closed channel';
    expect(() => ch.receive()).toThrow(new StacklessError(msg));
    expect(() => ch.send(3)).toThrow(new StacklessError(msg));
    expect(ch.next()).toEqual({ value: undefined, done: true });
    expect([...ch]).toEqual([]);
    ch.open();
    expect([ch.closing, ch.closed]).toEqual([false, false]);
  });

  it('close({ wake: true }) makes a plain blocked receive throw', () => {
    const ch = new Channel();
    const got: unknown[] = [];
    spawn(tf('r', [], [S.try([recv(ch)], { catch: [S.do((L) => got.push((L.$e as Error).message))] })]));
    run();
    ch.close({ wake: true });
    run();
    expect(got).toEqual(['Send/receive operation on a closed channel']);
    expect(ch.balance).toBe(0);
  });
});

describe('blockTrap and callbacks', () => {
  it('blockTrap refuses to block but allows a rendezvous', () => {
    const ch = new Channel();
    const got: unknown[] = [];
    const f = tf('f', [], [
      S.do(() => (getCurrent().blockTrap = true)),
      S.try([recv(ch)], { catch: [S.do((L) => got.push((L.$e as Error).message, ch.balance))] }),
      sched(),
      recv(ch, (_L, v) => got.push(v, ch.balance)),
    ]);
    spawn(f);
    spawn(tf('s', [], [send(ch, () => 'ok')]));
    run();
    expect(got).toEqual(['this tasklet does not like to be blocked.', 0, 'ok', 0]);
    const m = getMain();
    m.blockTrap = true;
    try {
      expect(() => ch.receive()).toThrow(new StacklessError('this tasklet does not like to be blocked.'));
    } finally {
      m.blockTrap = false;
    }
  });

  it('the channel callback sees (channel, tasklet, sending, willBlock) before each operation', () => {
    const ch = new Channel();
    const calls: unknown[] = [];
    const old = setChannelCallback((c, t, sending, willBlock) => calls.push([c === ch, t.isMain, sending, willBlock, t.tempval]));
    expect(old).toBe(null);
    const r = spawn(tf('r', [], [recv(ch)]));
    run();
    ch.send('v');
    expect(calls).toEqual([[true, false, false, true, undefined], [true, true, true, false, 'v']]);
    expect(setChannelCallback(null)).not.toBe(null);
    expect(r.alive).toBe(false);
  });

  it('a channel operation inside the callback is refused', () => {
    const ch = new Channel();
    const other = new Channel({ capacity: 1 });
    setChannelCallback(() => other.send(1));
    expect(() => ch.send(1)).toThrow(new StacklessError('Recursive channel call due to callbacks!'));
  });
});

describe('buffered channels', () => {
  it('sends complete without a receiver up to the capacity', () => {
    const ch = new Channel<number>({ capacity: 2 });
    ch.send(1);
    ch.send(2);
    expect([ch.length, ch.balance, ch.capacity]).toEqual([2, 0, 2]);
    const log: unknown[] = [];
    spawn(tf('s', [], [send(ch, () => 3), say(log, 'sent 3')]));
    run();
    expect(ch.balance).toBe(1);
    expect(ch.receive()).toBe(1);
    // the blocked sender's value moved into the buffer; it runs on later
    expect([ch.length, ch.balance]).toEqual([2, 0]);
    run();
    expect(log).toEqual(['sent 3']);
    expect([ch.receive(), ch.receive(), ch.length]).toEqual([2, 3, 0]);
  });

  it('buffers exceptions in order', () => {
    const ch = new Channel<number>({ capacity: 3 });
    ch.send(1);
    ch.sendException(RangeError, 'r');
    expect(ch.receive()).toBe(1);
    expect(() => ch.receive()).toThrow(new RangeError('r'));
  });
});

describe('a tasklet-blocked receive wakes with the value from main', () => {
  it('main send with a waiting receiver switches to it (pref -1)', () => {
    const ch = new Channel();
    const log: unknown[] = [];
    spawn(tf('r', [], [recv(ch, (_L, v) => log.push(v)), say(log, 'after')]));
    run();
    ch.send('x');
    log.push('main');
    expect(log).toEqual(['x', 'after', 'main']);
    const t = new Tasklet(tf('r2', [], [recv(ch, (_L, v) => log.push(v))])).setup();
    run();
    ch.preference = 0;
    ch.send('y');
    log.push('main2');
    run();
    expect(log.slice(3)).toEqual(['main2', 'y']);
    expect(t.alive).toBe(false);
    void sched;
    void call;
  });
});
