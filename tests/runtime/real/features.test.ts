// Real "use tasklet" code for the features beyond Stackless: join, select,
// buffered channels, wait/sleep under runAsync, the error handler, atomic.
import { describe, it, expect, afterEach } from 'vitest';
import {
  Channel, Tasklet, spawn, run, runAsync, select, sleep, wait, atomic, schedule, getRunCount,
  getCurrent, setErrorHandler,
} from 'stackless';

afterEach(() => {
  setErrorHandler(null);
  expect(getRunCount()).toBe(1);
  expect(getCurrent().isMain).toBe(true);
});

describe('real code beyond Stackless', () => {
  it('join() waits for results and errors', () => {
    function square(x: number): number {
      'use tasklet';
      schedule();
      return x * x;
    }
    function failing(): number {
      'use tasklet';
      throw new RangeError('bad');
    }
    const out: unknown[] = [];
    function parent(): void {
      'use tasklet';
      const kids = [spawn(square, 3), spawn(square, 4)];
      let total = 0;
      for (const k of kids) total += k.join();
      out.push(total);
      const f = spawn(failing);
      try {
        f.join();
      } catch (e) {
        out.push((e as Error).message);
      }
    }
    setErrorHandler(() => {}); // the failing child's error is handled by its joiner
    spawn(parent);
    run();
    expect(out).toEqual([25, 'bad']);
  });

  it('select over several channels, with a timeout', async () => {
    const a = new Channel<string>();
    const b = new Channel<string>();
    const got: unknown[] = [];
    function selector(): void {
      'use tasklet';
      for (let i = 0; i < 2; i++) {
        const r = select([a, b]);
        got.push(`${r.index}:${r.value}`);
      }
      got.push(select([a, b], { timeout: 5 }).index);
    }
    function producer(): void {
      'use tasklet';
      sleep(1);
      b.send('x');
      a.send('y');
    }
    spawn(selector);
    spawn(producer);
    await runAsync();
    expect(got).toEqual(['1:x', '0:y', -1]);
  });

  it('a buffered pipeline', () => {
    const stage1 = new Channel<number>({ capacity: 4 });
    const stage2 = new Channel<number>({ capacity: 4 });
    function gen(n: number): void {
      'use tasklet';
      for (let i = 1; i <= n; i++) stage1.send(i);
      stage1.close({ wake: true });
    }
    function double(): void {
      'use tasklet';
      for (const v of stage1) stage2.send(v * 2);
      stage2.close({ wake: true });
    }
    const sink: number[] = [];
    function collect(): void {
      'use tasklet';
      for (const v of stage2) sink.push(v);
    }
    spawn(collect);
    spawn(double);
    spawn(gen, 20);
    run();
    expect(sink).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 2));
  });

  it('wait() on promises and thunks', async () => {
    const got: unknown[] = [];
    function fetcher(): void {
      'use tasklet';
      got.push(wait(Promise.resolve('a')));
      got.push(wait(() => new Promise((r) => setTimeout(() => r('b'), 2))));
      try {
        wait(Promise.reject(new Error('c')));
      } catch (e) {
        got.push((e as Error).message);
      }
    }
    spawn(fetcher);
    await runAsync();
    expect(got).toEqual(['a', 'b', 'c']);
  });

  it('atomic() around blocking code', () => {
    const ch = new Channel<number>();
    const seen: unknown[] = [];
    function body(): number {
      'use tasklet';
      return ch.receive() + 1;
    }
    function user(): void {
      'use tasklet';
      seen.push(atomic(body), getCurrent().atomic);
    }
    spawn(user);
    run();
    ch.send(41);
    expect(seen).toEqual([42, false]);
  });

  it('the error handler sees errors escaping tasklets', () => {
    const seen: unknown[] = [];
    setErrorHandler((e, t) => seen.push((e as Error).message, t instanceof Tasklet));
    function bad(): void {
      'use tasklet';
      schedule();
      throw new Error('escaped');
    }
    spawn(bad);
    expect(run()).toBe(null);
    expect(seen).toEqual(['escaped', true]);
  });
});
