// Tasklet packs (format version 3, runtime/snapshot/pack.ts): many tasklets of one shape are
// saved as one template plus columns. A packed snapshot must restore to exactly what the plain
// entries would give, small groups stay plain, and tampered packs are refused with a code
// before anything is built.
import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import {
  Channel, spawn, run, sleep, getRunCount, snapshot, restore, SnapshotError, type SnapshotData, type Tasklet,
} from 'stackless';
import { rt } from 'stackless/internal';
import { unblock } from '../../runtime/scheduler.js';
import { unpacked, PACK_MIN } from '../../runtime/snapshot/pack.js';
import { QueueItems } from '../../runtime/snapshot/pack-build.js';

afterEach(() => {
  expect(getRunCount()).toBe(1);
  expect(rt.pending).toBe(0);
});

const viaJson = (s: unknown): SnapshotData => JSON.parse(JSON.stringify(s));

function leaf(ch: Channel<number>, scale: number): number {
  'use tasklet';
  const v = ch.receive();
  return v * scale;
}
function middle(ch: Channel<number>, k: number): number {
  'use tasklet';
  const label = `k${k}`;
  const r = leaf(ch, 2);
  return r + label.length + k;
}
function outer(ch: Channel<number>, id: number, tags: string[]): string {
  'use tasklet';
  const r = middle(ch, id % 5);
  return `${id}:${r}:${tags.join(',')}`;
}
function giver(ch: Channel<string>, id: number): number {
  'use tasklet';
  ch.send(`from ${id}`);
  return id;
}
function napper(ms: number, id: number): number {
  'use tasklet';
  sleep(ms);
  return id * 10;
}
class Counter {
  n = 0;
  add(ch: Channel<number>): number {
    'use tasklet';
    this.n += ch.receive();
    return this.n;
  }
}
function holding(ch: Channel<number>, i: number): number {
  'use tasklet';
  const cache = i === PACK_MIN + 3 ? new WeakMap<object, number>() : null;
  return ch.receive() + (cache ? 1 : 0);
}
function guarded(ch: Channel<number>, log: string[], i: number): number {
  'use tasklet';
  try {
    return ch.receive() + i;
  } finally {
    log.push(`finally ${i}`);
  }
}
function counting(c: Counter, ch: Channel<number>): number {
  'use tasklet';
  return c.add(ch) * 100;
}

/** Tasklets in five shapes: three packed (blocked receivers, blocked senders, sleepers), two too few to pack. */
function park() {
  const inbox = new Channel<number>();
  const outbox = new Channel<string>();
  const shared = ['a', 'b'];
  const receivers = Array.from({ length: 3 * PACK_MIN }, (_, i) => spawn(outer, inbox, i, i % 2 ? shared : [`own${i}`]));
  const givers = Array.from({ length: PACK_MIN + 3 }, (_, i) => spawn(giver, outbox, i));
  const nappers = Array.from({ length: PACK_MIN }, (_, i) => spawn(napper, 60_000 + i, i));
  const counter = new Counter();
  const counters = Array.from({ length: 3 }, () => spawn(counting, counter, inbox));
  run();
  return { inbox, outbox, receivers, givers, nappers, counters };
}

/** Feeds the parked program and collects every result, in order. */
function finish(inbox: Channel<number>, outbox: Channel<string>, receivers: Tasklet[], givers: Tasklet[], counters: Tasklet[]): unknown[] {
  const got: string[] = [];
  for (let i = 0; i < givers.length; i++) got.push(outbox.receive());
  for (let i = 0; i < receivers.length + counters.length; i++) inbox.send(i);
  run();
  return [got, receivers.map((t) => t.result), givers.map((t) => t.result), counters.map((t) => t.result)];
}

function discard(ts: Tasklet[]): void {
  for (const t of ts) if (t.alive) t.kill();
}

describe('tasklet packs', () => {
  it('a packed snapshot restores to what an uninterrupted run gives', () => {
    const a = park();
    const expected = finish(a.inbox, a.outbox, a.receivers, a.givers, a.counters);
    discard(a.nappers);

    const b = park();
    const data = viaJson(snapshot(b.inbox, b.outbox, ...b.receivers, ...b.givers, ...b.nappers, ...b.counters));
    discard([...b.receivers, ...b.givers, ...b.nappers, ...b.counters]);
    expect(data.version).toBe(3);
    // receivers, givers and nappers are packed; the three counters (too few) are plain entries
    expect(data.packs?.length).toBe(3);
    expect(data.objs.filter((e) => typeof e === 'number').length).toBe(3 * PACK_MIN + PACK_MIN + 3 + PACK_MIN);
    expect(data.objs.filter((e) => Array.isArray(e) && e[0] === 'K').length).toBe(3);
    // one column per slot that differs: the receivers' id, k, label and tags (shared or own)
    const receiversPack = data.packs!.find((p) => (p[0] as unknown[])[1] === 'blocked' && (p[0] as unknown[])[6] === -1)!;
    expect(receiversPack.length - 2).toBe(4);

    const r = restore(data);
    const [inbox, outbox] = r.roots as [Channel<number>, Channel<string>];
    const n = b.receivers.length;
    const receivers = r.roots.slice(2, 2 + n) as Tasklet[];
    const givers = r.roots.slice(2 + n, 2 + n + b.givers.length) as Tasklet[];
    const nappers = r.roots.slice(2 + n + b.givers.length, 2 + n + b.givers.length + b.nappers.length) as Tasklet[];
    const counters = r.roots.slice(-3) as Tasklet[];
    expect(nappers.every((t) => t.alive)).toBe(true);
    expect(rt.pending).toBeGreaterThanOrEqual(nappers.length); // their timers are armed again
    // shared values stay shared across members, own values stay own (frames outermost first)
    const tagsOf = (t: Tasklet) => t.frames[0].locals.tags;
    expect(tagsOf(receivers[1])).toBe(tagsOf(receivers[3]));
    expect(tagsOf(receivers[0])).not.toBe(tagsOf(receivers[2]));
    expect(tagsOf(receivers[2])).toEqual(['own2']);
    expect(finish(inbox, outbox, receivers, givers, counters)).toEqual(expected);
    discard(nappers);
  });

  it('restored tasklets (paused) are packed again and restore again', () => {
    const b = park();
    const first = restore(viaJson(snapshot(b.inbox, b.outbox, ...b.receivers)));
    discard([...b.receivers, ...b.givers, ...b.nappers, ...b.counters]);
    // taken out of the restored channels' queues, the receivers and the givers (saved with
    // the outbox they wait on) are paused: a pack each
    for (const t of first.tasklets) if (t.blocked) unblock(t);
    const again = viaJson(snapshot(...first.tasklets));
    expect(again.packs?.map((p) => (p[0] as unknown[])[1])).toEqual(['paused', 'paused']);
    const r = restore(again);
    expect(r.tasklets.length).toBe(first.tasklets.length);
    discard(first.tasklets);
    discard(r.tasklets);
  });

  it('a value that cannot be saved in a packed tasklet is named with its local, function and line', () => {
    const ch = new Channel<number>();
    const ts = Array.from({ length: 2 * PACK_MIN }, (_, i) => spawn(holding, ch, i));
    run();
    let err: unknown;
    try {
      snapshot(ch);
    } catch (e) {
      err = e;
    }
    discard(ts);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as SnapshotError).code).toBe('UNSUPPORTED_VALUE');
    expect((err as Error).message).toMatch(/local 'cache' of function holding \(tests\/snapshot\/packs\.test\.ts:\d+\)/);
  });

  it('restored packed tasklets show their frames before they run; killed unresumed, their finally blocks run', () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const ts = Array.from({ length: PACK_MIN }, (_, i) => spawn(guarded, ch, log, i));
    run();
    const before = ts[3].frames.map((f) => [f.function, f.line]);
    const data = viaJson(snapshot(ch, log));
    discard(ts);
    expect(log.length).toBe(PACK_MIN); // the originals' finally blocks, on kill
    log.length = 0;
    expect(data.packs?.length).toBe(1);
    const r = restore(data);
    const [, log2] = r.roots as [Channel<number>, string[]];
    const restored = r.tasklets;
    expect(restored[3].recursionDepth).toBe(1);
    expect(restored[3].frames.map((f) => [f.function, f.line])).toEqual(before);
    for (const t of restored.slice(0, 2)) t.kill();
    expect(log2).toEqual(['finally 0', 'finally 1']);
    (r.roots[0] as Channel<number>).send(100);
    run();
    expect(restored[2].result).toBe(102);
    discard(restored);
    expect(log2.length).toBe(PACK_MIN);
  });

  it('unpacked() writes packs out as the plain entries restore would have read', () => {
    const b = park();
    const data = viaJson(snapshot(...b.receivers));
    discard([...b.receivers, ...b.givers, ...b.nappers, ...b.counters]);
    const plain = unpacked(data) as SnapshotData;
    expect('packs' in plain).toBe(false);
    expect(plain.objs.every((e) => Array.isArray(e))).toBe(true);
    const member = plain.objs[(data.roots[5] as number[])[1]];
    // [K, blocked, flags, frames (leaf, middle, outer), value, channel, dir, iter, deadline]
    expect(member[0]).toBe('K');
    expect(member[1]).toBe('blocked');
    const frames = member[3] as unknown[][];
    expect(frames.length).toBe(3);
    expect(frames[2].slice(2, 4)).toEqual([[1, (member[5] as number)], 5]); // outer(ch, id = 5, ...)
    discard(restore(plain).tasklets);
  });
});

/** A packed sample (receivers blocked three frames deep), as parsed JSON. */
function packedSample(): SnapshotData {
  const b = park();
  const data = viaJson(snapshot(b.inbox, ...b.receivers, ...b.nappers));
  discard([...b.receivers, ...b.givers, ...b.nappers, ...b.counters]);
  return data;
}
const sample = JSON.stringify(packedSample());
const fresh = (): SnapshotData => JSON.parse(sample);

function code(data: unknown): string {
  const before = [getRunCount(), rt.pending];
  try {
    const r = restore(data);
    for (const t of r.tasklets) if (t.alive) t.kill();
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    expect([getRunCount(), rt.pending], 'scheduler changed by a failed restore').toEqual(before);
    return (e as SnapshotError).code;
  }
  return 'OK';
}

describe('restore refuses bad packs', () => {
  const receivers = (d: SnapshotData) => d.packs!.find((p) => (p[0] as unknown[])[1] === 'blocked')!;
  const sleepers = (d: SnapshotData) => d.packs!.find((p) => (p[0] as unknown[])[1] === 'sleep')!;

  it('the sample restores', () => {
    expect(code(fresh())).toBe('OK');
  });

  it('pack structure: members, placeholders, columns, markers, version', () => {
    const cases: Array<[string, (d: SnapshotData) => void]> = [
      ['BAD_PACK', (d) => void (d.packs = {} as never)],
      ['BAD_PACK', (d) => void (receivers(d)[1] = [1])],
      ['BAD_PACK', (d) => void (receivers(d)[1] = [0, 5])], // objs[0] (the channel) is not a placeholder
      ['BAD_PACK', (d) => void (receivers(d)[1] = [1, 1e9])],
      ['BAD_PACK', (d) => void ((receivers(d)[1] as number[]).push(...(receivers(d)[1] as number[])))], // members twice
      ['BAD_PACK', (d) => void (receivers(d)[1] as number[]).splice(1, 1, (receivers(d)[1] as number[])[1] - 1)], // one placeholder unclaimed
      ['BAD_PACK', (d) => void (receivers(d)[2] as unknown[]).pop()], // a column one short
      ['BAD_PACK', (d) => void receivers(d).push([1, 2, 3])], // an unused column
      ['BAD_PACK', (d) => void (((receivers(d)[0] as unknown[])[3] as unknown[][])[0][2] = [8, 99])], // marker to no column
      ['BAD_PACK', (d) => void (d.version = 2)],
      ['BAD_PACK', (d) => void ((receivers(d)[0] as unknown[])[1] = 'select')],
      ['BAD_FORMAT', (d) => void (d.objs[(receivers(d)[1] as number[])[0]] = 'K' as never)],
    ];
    for (const [want, spoil] of cases) {
      const d = fresh();
      spoil(d);
      expect(code(d), spoil.toString()).toBe(want);
    }
  });

  it('what the template and the columns hold is checked like a plain entry', () => {
    const cases: Array<[string, (d: SnapshotData) => void]> = [
      ['BAD_PC', (d) => void (((receivers(d)[0] as unknown[])[3] as unknown[][])[0][1] = 77)],
      ['BAD_REF', (d) => void (((receivers(d)[0] as unknown[])[3] as unknown[][])[0][0] = 99)],
      ['BAD_LOCALS', (d) => void ((receivers(d)[0] as unknown[])[3] as unknown[][])[2].push(1, 2, 3)],
      ['BAD_VALUE', (d) => void ((receivers(d)[2] as unknown[])[7] = { x: 1 })], // a member's local
      ['BAD_REF', (d) => void ((receivers(d)[2] as unknown[])[7] = [1, 1e9])],
      ['BAD_VALUE', (d) => void ((sleepers(d).at(-1) as unknown[])[3] = 'soon')], // a deadline (the last column)
      ['BAD_TASKLET', (d) => void ((receivers(d)[0] as unknown[])[6] = 0)], // direction
      ['BAD_CHANNEL', (d) => void ((receivers(d)[0] as unknown[])[6] = 1)], // senders in a queue of receivers
      ['PROTO_KEY', (d) => void d.objs.push(['O', '__proto__', 1])],
    ];
    for (const [want, spoil] of cases) {
      const d = fresh();
      spoil(d);
      expect(code(d), spoil.toString()).toBe(want);
    }
  });

  it('queue items: three or more consecutive waiters in one direction make a run, in queue order', () => {
    const q = new QueueItems();
    for (const i of [4, 5, 6, 7]) q.waiter(i, -1);
    q.waiter(9, -1);
    q.select(10, -1, 2);
    q.waiter(11, -1);
    q.waiter(12, -1);
    for (const i of [13, 14, 15]) q.waiter(i, 1);
    expect(q.done()).toEqual([['run', 4, 4, -1], [9, -1], [10, -1, 2], [11, -1], [12, -1], ['run', 13, 3, 1]]);
  });

  it('queue runs: consecutive waiters are one item; bad runs are refused', () => {
    const d = fresh();
    const queue = (x: SnapshotData) => (x.objs[0] as unknown[])[4] as unknown[][];
    expect(queue(d)[0]).toEqual(['run', 1, 3 * PACK_MIN, -1]); // the receivers (then the counters)
    const cases: Array<[string, (x: SnapshotData) => void]> = [
      ['BAD_CHANNEL', (x) => void (queue(x)[0][2] = 0)],
      ['BAD_CHANNEL', (x) => void (queue(x)[0][2] = 1e9)],
      ['BAD_CHANNEL', (x) => void (queue(x)[0][2] = 3 * PACK_MIN - 1)], // the last receiver is in no queue
      ['BAD_CHANNEL', (x) => void (queue(x)[0][3] = 1)],
      ['BAD_CHANNEL', (x) => void queue(x).push(['run', 1, 2, -1])], // queued twice
      ['BAD_REF', (x) => void (queue(x)[0][1] = 0)], // objs[0] is the channel itself
      ['BAD_CHANNEL', (x) => void (queue(x)[0] = ['run', 1, 3 * PACK_MIN])],
    ];
    for (const [want, spoil] of cases) {
      const x = fresh();
      spoil(x);
      expect(code(x), spoil.toString()).toBe(want);
    }
  });

  it('fuzz: mutated packs restore or throw SnapshotError, never anything else', () => {
    const anyJson = fc.oneof(
      fc.integer({ min: -3, max: 300 }), fc.string({ maxLength: 4 }), fc.constant(null), fc.constant([8, 0]), fc.constant([8, 9]),
      fc.constant([1, 0]), fc.constant([0]), fc.array(fc.integer({ min: -1, max: 200 }), { maxLength: 3 }), fc.constantFrom('K', 'blocked', 'paused', 'sleep'),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(fc.nat(300), { minLength: 1, maxLength: 5 }), fc.nat(2), anyJson), { minLength: 1, maxLength: 3 }), (muts) => {
        const d = fresh();
        for (const [path, what, v] of muts) {
          // walk into packs (or objs) along the path, then replace, delete or insert
          let o: any = path[0] % 4 === 0 ? d.objs : d.packs;
          for (let i = 1; i < path.length - 1 && Array.isArray(o[path[i] % o.length]); i++) o = o[path[i] % o.length];
          if (!Array.isArray(o) || o.length === 0) continue;
          const k = path[path.length - 1] % o.length;
          if (what === 0) o[k] = v;
          else if (what === 1) o.splice(k, 1);
          else o.splice(k, 0, v);
        }
        code(d);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
    );
  });
});
