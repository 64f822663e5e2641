// restore() on malformed and hostile input: a SnapshotError with a code, nothing
// evaluated, no prototype pollution, and the live scheduler untouched on failure.
// Plus a fast-check fuzz over mutated and truncated snapshots.
import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import {
  Channel, spawn, run, sleep, select, getRunCount, snapshot, restore, SnapshotError, type SnapshotData, type Tasklet,
} from 'stackless';
import { rt } from 'stackless/internal';
import { unblock } from '../../runtime/scheduler.js';

afterEach(() => {
  expect(getRunCount()).toBe(1);
  expect(rt.pending).toBe(0);
});

function worker(ch: Channel<number>, n: number): number {
  'use tasklet';
  let sum = 0;
  for (let i = 0; i < n; i++) sum += ch.receive();
  return sum;
}
function napper(ms: number): void {
  'use tasklet';
  sleep(ms);
}
function chooser(a: Channel<number>, b: Channel<number>): number {
  'use tasklet';
  return select([a, b], { timeout: 50_000 }).index;
}

/** A snapshot with blocked, sleeping and selecting tasklets, as JSON text; the originals are gone. */
function sample(): string {
  const a = new Channel<number>();
  const b = new Channel<number>();
  const ts = [spawn(worker, a, 3), spawn(worker, a, 2), spawn(napper, 60_000), spawn(chooser, a, b)];
  run();
  const text = JSON.stringify(snapshot(...ts, { meta: new Map([[1, new Date(5)]]), list: [1, 2n, undefined] }));
  for (const t of ts) t.kill();
  return text;
}
const base = sample();
const parsed = (): SnapshotData => JSON.parse(base);

class Meter {
  n = 0;
  tick(ch: Channel<number>): number {
    'use tasklet';
    this.n += ch.receive();
    return this.n;
  }
}
function metered(m: Meter, ch: Channel<number>): number {
  'use tasklet';
  return m.tick(ch) + 1;
}

class Tally {
  seen = new Set<number>();
}
function closureWorker(ch: Channel<number>, xs: number[], tally: Tally): number {
  'use tasklet';
  let acc = 0;
  const add = (v: number) => (acc += v);
  function inner(x: number): number {
    'use tasklet';
    tally.seen.add(x);
    return add(x + ch.receive());
  }
  for (const x of xs) inner(x);
  for (const [k, v] of new Map([[1, 2]])) add(k * v + ch.receive());
  return acc;
}

/** A snapshot with closures ("F"), a frame of a nested tasklet function, a for-of iterator ("I") and a class instance. */
function closureSample(): string {
  const ch = new Channel<number>();
  const t = spawn(closureWorker, ch, [1, 2, 3], new Tally());
  run();
  ch.send(10);
  const text = JSON.stringify(snapshot(t));
  t.kill();
  return text;
}
const closures = closureSample();

class Root {
  r = 1;
}
function kindsWorker(ch: Channel<number>, ...xs: number[]): number {
  'use tasklet';
  let total = 0;
  const account = {
    add(n: number): number {
      return (total += n);
    },
    get total(): number {
      return total;
    },
  };
  class Leaf extends Root {
    scale(): number {
      return total * 2;
    }
  }
  const argc = () => arguments.length;
  const leaf = new Leaf();
  for (const x of xs) account.add(x * ch.receive());
  return account.total + leaf.scale() + leaf.r + argc();
}

/** A snapshot with an accessor ("O" key [k, 1]), a local class and its instance ("L"), an arguments object ("G"). */
function kindsSample(): string {
  const ch = new Channel<number>();
  const t = spawn(kindsWorker, ch, 1, 2);
  run();
  ch.send(10);
  const text = JSON.stringify(snapshot(t));
  t.kill();
  return text;
}
const kinds = kindsSample();

/** Takes restored tasklets out of their (restored) queues and timers without running them. */
function discard(ts: Tasklet[]): void {
  for (const t of ts) if (t.blocked) unblock(t);
}

function code(data: unknown): string {
  const before = [getRunCount(), rt.pending];
  try {
    discard(restore(data).tasklets);
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    expect([getRunCount(), rt.pending], 'scheduler changed by a failed restore').toEqual(before);
    return (e as SnapshotError).code;
  }
  return 'OK';
}

describe('restore refuses bad input', () => {
  it('the sample restores', () => {
    expect(code(parsed())).toBe('OK');
  });

  it('not JSON, wrong format or version, ill-typed top-level fields', () => {
    expect(code('{"format": "stackless-snapshot", "vers')).toBe('BAD_FORMAT');
    expect(code(null)).toBe('BAD_FORMAT');
    expect(code([])).toBe('BAD_FORMAT');
    expect(code({ ...parsed(), format: 'pickle' })).toBe('BAD_FORMAT');
    expect(code({ ...parsed(), version: 4 })).toBe('BAD_VERSION');
    expect(code({ ...parsed(), objs: {} })).toBe('BAD_FORMAT');
    expect(code({ ...parsed(), time: '1' })).toBe('BAD_FORMAT');
  });

  it('unknown function ids and changed code (naming the function and both fingerprints)', () => {
    const d = parsed();
    d.fns[0][0] = 'nowhere.ts#evil';
    expect(code(d)).toBe('UNKNOWN_FUNCTION');
    const e = parsed();
    const fp = e.fns[0][1];
    e.fns[0][1] = 'deadbeef';
    expect(() => restore(e)).toThrow(`has changed: the snapshot has fingerprint deadbeef, the loaded code has ${fp}`);
    expect(() => restore(e)).toThrow(/function \w+ \(tests\/snapshot\/hostile\.test\.ts#\w+\)/);
  });

  it('resume points out of range or not a resume point; wrong local sets', () => {
    const frame = (d: SnapshotData) => ((d.objs[0] as unknown[])[3] as unknown[][])[0];
    for (const pc of [-1, 1e9, 0.5, '3', 0]) {
      const d = parsed();
      frame(d)[1] = pc;
      expect(code(d), `pc ${String(pc)}`).toBe('BAD_PC');
    }
    const d = parsed();
    frame(d).push(...new Array(40).fill(1));
    expect(code(d)).toBe('BAD_LOCALS');
    // the metadata says whether a function's frames hold `this`: worker's do not
    const e = parsed();
    const locals = (e.fns[(frame(e)[0] as number)][2] as { locals: string[] }).locals.length;
    while (frame(e).length < 3 + locals) frame(e).push(0);
    expect(code(e)).toBe('BAD_LOCALS');
    // Meter.tick's do: a frame without its `this` slot is refused
    const ch = new Channel<number>();
    const t = spawn(metered, new Meter(), ch);
    run();
    const m = JSON.parse(JSON.stringify(snapshot(t)));
    t.kill();
    expect(code(JSON.parse(JSON.stringify(m)))).toBe('OK');
    frame(m).pop();
    expect(() => restore(m)).toThrow(/frame 0: Meter\.tick saves \d+ locals and `this`, the frame holds \d+ slots/);
  });

  it('prototype keys are refused and nothing is polluted', () => {
    for (const k of ['__proto__', 'constructor', 'prototype']) {
      const d = JSON.parse(base.replace('"list"', JSON.stringify(k)));
      expect(code(d), k).toBe('PROTO_KEY');
    }
    expect(({} as Record<string, unknown>).list).toBeUndefined();
  });

  it('references that point nowhere or to the wrong kind of entry', () => {
    const d = parsed();
    d.roots.push([1, 999999]);
    expect(code(d)).toBe('BAD_REF');
    const e = parsed();
    (e.objs[0] as unknown[])[5] = 0; // a blocked tasklet "waiting on" a tasklet
    expect(code(e)).toBe('BAD_REF');
    const f = parsed();
    f.roots.push([4, 'Function']); // no builtin by that name: restoring never yields a way to evaluate code
    expect(code(f)).toBe('BAD_REF');
    const g = parsed();
    g.roots.push({ evil: 1 });
    expect(code(g)).toBe('BAD_VALUE');
  });

  it('tasklets and channels that do not agree', () => {
    const d = parsed();
    (d.objs[0] as unknown[])[1] = 'flying';
    expect(code(d)).toBe('BAD_TASKLET');
    const e = parsed();
    const ch = e.objs.find((o) => o[0] === 'H') as unknown[];
    (ch[4] as unknown[]).pop();
    expect(code(e)).toBe('BAD_CHANNEL');
    const f = parsed();
    const ch2 = f.objs.find((o) => o[0] === 'H') as unknown[];
    (ch2[4] as unknown[][])[0][1] = 1;
    expect(code(f)).toBe('BAD_CHANNEL');
  });

  it('a bad entry late in the snapshot leaves no timer armed and no channel changed', () => {
    const d = parsed();
    d.objs.push(['Q']);
    const pending = rt.pending;
    expect(code(d)).toBe('BAD_FORMAT');
    expect(rt.pending).toBe(pending);
  });
});

/** Mutations of the parsed sample: replace, delete or insert at a random path. */
const anyJson = fc.oneof(
  fc.integer({ min: -3, max: 1e6 }), fc.double(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null),
  fc.constantFrom('__proto__', 'constructor', 'K', 'H', 'O', 'F', 'I', 'L', 'G', 'blocked', 'sleep', '$map', 'main', 'TDZ'),
  fc.array(fc.integer({ min: -1, max: 12 }), { maxLength: 4 }), fc.constant({}), fc.constant([0]), fc.constant([1, 0]),
);

function mutate(d: unknown, path: number[], what: number, v: unknown): void {
  let o = d as any;
  for (let i = 0; i < path.length - 1; i++) {
    const keys = Object.keys(o);
    if (keys.length === 0 || o === null || typeof o !== 'object') return;
    const next = o[keys[path[i] % keys.length]];
    if (next === null || typeof next !== 'object') break;
    o = next;
  }
  const keys = Object.keys(o);
  if (keys.length === 0) return;
  const k = keys[path[path.length - 1] % keys.length];
  if (what === 0) o[k] = v;
  else if (what === 1 && Array.isArray(o)) o.splice(Number(k), 1);
  else if (Array.isArray(o)) o.splice(Number(k), 0, v);
  else delete o[k];
}

describe('fuzz (fast-check)', () => {
  it('mutated snapshots: restore succeeds or throws SnapshotError, never anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(fc.nat(40), { minLength: 1, maxLength: 6 }), fc.nat(2), anyJson), { minLength: 1, maxLength: 4 }), (muts) => {
        const d = parsed();
        for (const [path, what, v] of muts) mutate(d, path, what, v);
        code(d);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
  });

  it('mutated snapshots with closures, closure frames and iterators: restore succeeds or throws SnapshotError', () => {
    const sampleHas = JSON.parse(closures) as SnapshotData;
    expect(sampleHas.objs.some((e) => e[0] === 'F')).toBe(true);
    expect(sampleHas.objs.some((e) => e[0] === 'I')).toBe(true);
    expect(code(JSON.parse(closures))).toBe('OK');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(fc.nat(40), { minLength: 1, maxLength: 6 }), fc.nat(2), anyJson), { minLength: 1, maxLength: 4 }), (muts) => {
        const d = JSON.parse(closures);
        for (const [path, what, v] of muts) mutate(d, path, what, v);
        code(d);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
  });

  it('mutated snapshots with accessors, local classes, their instances and arguments objects: restore succeeds or throws SnapshotError', () => {
    const sampleHas = JSON.parse(kinds) as SnapshotData;
    for (const tag of ['F', 'L', 'G']) expect(sampleHas.objs.some((e) => e[0] === tag), tag).toBe(true);
    expect(kinds).toContain('["total",1]');
    expect(code(JSON.parse(kinds))).toBe('OK');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(fc.nat(40), { minLength: 1, maxLength: 6 }), fc.nat(2), anyJson), { minLength: 1, maxLength: 4 }), (muts) => {
        const d = JSON.parse(kinds);
        for (const [path, what, v] of muts) mutate(d, path, what, v);
        code(d);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) },
    );
  });

  it('truncated JSON text always gives BAD_FORMAT', () => {
    fc.assert(
      fc.property(fc.nat(base.length - 1), (n) => {
        expect(code(base.slice(0, n))).toBe('BAD_FORMAT');
      }),
      { numRuns: 200 },
    );
  });
});
