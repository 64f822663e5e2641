// tasklet.drop() (beyond Stackless; workflow/NEEDS.md §3): forget a tasklet without
// running anything in it, unlinked from whatever it waits on.
import { describe, it, expect, afterEach } from 'vitest';
import {
  Channel, Tasklet, spawn, run, runAsync, schedule, sleep, wait, select, getCurrent, getMain,
  getRunCount, StacklessError,
} from 'stackless';

afterEach(() => {
  expect(getRunCount()).toBe(1);
  expect(getCurrent().isMain).toBe(true);
});

function receiveWithFinally(ch: Channel<number>, log: string[]): void {
  'use tasklet';
  try {
    log.push(`got ${ch.receive()}`);
  } finally {
    log.push('finally');
  }
}

function sendWithFinally(ch: Channel<number>, log: string[]): void {
  'use tasklet';
  try {
    ch.send(1);
    log.push('sent');
  } finally {
    log.push('finally');
  }
}

function sleeper(log: string[]): void {
  'use tasklet';
  try {
    sleep(20);
    log.push('woke');
  } finally {
    log.push('finally');
  }
}

function waiter(p: Promise<number>, log: string[]): void {
  'use tasklet';
  try {
    log.push(`value ${wait(p)}`);
  } finally {
    log.push('finally');
  }
}

function selector(a: Channel<number>, b: Channel<number>, log: string[]): void {
  'use tasklet';
  try {
    const r = select([a, { send: b, value: 5 }], { timeout: 20 });
    log.push(`selected ${r.index}`);
  } finally {
    log.push('finally');
  }
}

function yielder(log: string[]): void {
  'use tasklet';
  log.push('1');
  schedule();
  log.push('2');
}

function joiner(other: Tasklet, log: string[]): void {
  'use tasklet';
  try {
    other.join();
    log.push('joined');
  } catch (e) {
    log.push(`${(e as Error).name}: ${(e as Error).message}`);
  }
}

function dropsOthers(victim: Tasklet, log: string[]): void {
  'use tasklet';
  victim.drop();
  log.push(`dropped, alive=${victim.alive}`);
  try {
    getCurrent().drop();
  } catch (e) {
    log.push((e as Error).message);
  }
}

function dead(t: Tasklet): void {
  expect(t.alive).toBe(false);
  expect(t.blocked).toBe(false);
  expect(t.scheduled).toBe(false);
  expect(t.paused).toBe(false);
  expect(t.frames).toEqual([]);
  expect(t.result).toBeUndefined();
  expect(t.error).toBeUndefined();
}

function nestedRunner(log: string[]): void {
  'use tasklet';
  try {
    run();
    log.push('W after run');
  } finally {
    log.push('W finally');
  }
}

function dropsWatchdog(w: { t: Tasklet | null }, log: string[]): void {
  'use tasklet';
  schedule();
  (w.t as Tasklet).drop();
  log.push('Y dropped W');
  schedule();
  log.push('Y done');
}

describe('tasklet.drop()', () => {
  it('a tasklet waiting in its own run() (a watchdog) leaves it; the outer run() goes on', () => {
    const log: string[] = [];
    const box: { t: Tasklet | null } = { t: null };
    box.t = spawn(nestedRunner, log);
    spawn(dropsWatchdog, box, log);
    expect(run()).toBeNull();
    expect(log).toEqual(['Y dropped W', 'Y done']);
    dead(box.t);
  });


  it('a tasklet blocked receiving: off the queue, balance restored, no finally', () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const t = spawn(receiveWithFinally, ch, log);
    run();
    expect(ch.balance).toBe(-1);
    expect(t.drop()).toBe(t);
    dead(t);
    expect(ch.balance).toBe(0);
    expect(ch.queue).toBeNull();
    expect(log).toEqual([]);
    // the channel works on: a new receiver gets the next value
    const t2 = spawn(receiveWithFinally, ch, log);
    run();
    ch.send(7);
    expect(log).toEqual(['got 7', 'finally']);
    expect(t2.alive).toBe(false);
  });

  it('a tasklet blocked sending: its value is not delivered', () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const t = spawn(sendWithFinally, ch, log);
    run();
    expect(ch.balance).toBe(1);
    t.drop();
    dead(t);
    expect(ch.balance).toBe(0);
    expect(() => ch.receive()).toThrow(new StacklessError('Deadlock: the last runnable tasklet cannot be blocked.'));
    expect(log).toEqual([]);
  });

  it('a sleeping tasklet: its timer no longer keeps runAsync waiting', async () => {
    const log: string[] = [];
    const t = spawn(sleeper, log);
    run();
    expect(t.blocked).toBe(true);
    t.drop();
    dead(t);
    const t0 = Date.now();
    await runAsync();
    expect(Date.now() - t0).toBeLessThan(20);
    await new Promise((r) => setTimeout(r, 30)); // the old deadline passes: nothing wakes
    expect(log).toEqual([]);
    dead(t);
  });

  it('a tasklet waiting for a promise: settling it later wakes nothing', async () => {
    let resolve!: (v: number) => void;
    const p = new Promise<number>((r) => (resolve = r));
    const log: string[] = [];
    const t = spawn(waiter, p, log);
    run();
    t.drop();
    dead(t);
    await runAsync(); // returns at once: nothing pending
    resolve(3);
    await p;
    await runAsync();
    expect(log).toEqual([]);
    dead(t);
  });

  it('a tasklet in select() with a timeout: off every channel and the timer', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const log: string[] = [];
    const t = spawn(selector, a, b, log);
    run();
    expect([a.balance, b.balance]).toEqual([-1, 1]);
    t.drop();
    dead(t);
    expect([a.balance, b.balance]).toEqual([0, 0]);
    await runAsync();
    await new Promise((r) => setTimeout(r, 30));
    expect(log).toEqual([]);
  });

  it('a runnable tasklet leaves the runnables and never runs again', () => {
    const log: string[] = [];
    const t = spawn(yielder, log);
    const other = new Tasklet(() => {
      t.drop();
      log.push('other dropped it');
    });
    other.setup();
    run();
    expect(log).toEqual(['1', 'other dropped it']);
    dead(t);
  });

  it('a tasklet not started yet never runs; one with a pending kill gets no TaskletExit', () => {
    const log: string[] = [];
    const fresh = spawn(yielder, log);
    fresh.drop();
    dead(fresh);
    const ch = new Channel<number>();
    const killed = spawn(receiveWithFinally, ch, log);
    run();
    killed.kill({ pending: true }); // TaskletExit is waiting in its tempval, it is runnable
    expect(killed.scheduled).toBe(true);
    killed.drop();
    dead(killed);
    run();
    expect(log).toEqual([]);
    expect(ch.balance).toBe(0);
  });

  it('joiners and done() promises fail with a StacklessError', async () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const t = spawn(receiveWithFinally, ch, log);
    const j = spawn(joiner, t, log);
    run();
    const done = t.done();
    t.drop();
    expect(j.scheduled).toBe(true);
    run();
    expect(log).toEqual(['StacklessError: the tasklet was dropped before it ended']);
    await expect(done).rejects.toThrow(new StacklessError('the tasklet was dropped before it ended'));
  });

  it('from inside a tasklet; the current tasklet and main refuse; a dead one is left alone', () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const victim = spawn(receiveWithFinally, ch, log);
    spawn(dropsOthers, victim, log);
    run();
    expect(log).toEqual(['dropped, alive=false', 'The current tasklet cannot be dropped.']);
    expect(() => getMain().drop()).toThrow(new StacklessError('The main tasklet cannot be dropped.'));
    const done = spawn(yielder, []);
    run();
    expect(done.drop()).toBe(done);
    expect(done.alive).toBe(false);
    expect(ch.balance).toBe(0);
  });
});
