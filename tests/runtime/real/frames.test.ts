// tasklet.frames from the metadata the transformer puts in every record.
import { describe, it, expect } from 'vitest';
import { Channel, spawn, run } from 'stackless';

function inner(ch: Channel<number>, k: number): number {
  'use tasklet';
  const got = ch.receive();
  return got + k;
}

function outer(ch: Channel<number>): number {
  'use tasklet';
  const base = 10;
  return inner(ch, base) * 2;
}

describe('tasklet.frames', () => {
  it('lists the saved frames innermost last, with source positions and locals', () => {
    const ch = new Channel<number>();
    const t = spawn(outer, ch);
    expect(t.frames).toEqual([]);
    run();
    const frames = t.frames;
    expect(frames.map((f) => f.function)).toEqual(['outer', 'inner']);
    expect(frames[0].file).toMatch(/frames\.test\.ts$/);
    expect(frames[1].line).toBe(7); // const got = ch.receive();
    expect(frames[0].line).toBe(14); // return inner(ch, base) * 2;
    // (channels are iterable with a blocking next(): compare them by identity only)
    expect(frames[0].locals.ch).toBe(ch);
    expect(frames[0].locals.base).toBe(10);
    expect(frames[1].locals.ch).toBe(ch);
    expect(frames[1].locals.k).toBe(10);
    expect(t.recursionDepth).toBe(2);
    ch.send(1);
    expect(t.result).toBe(22);
    expect(t.frames).toEqual([]);
  });
});
