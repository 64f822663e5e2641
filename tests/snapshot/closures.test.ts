// Closures made inside tasklet functions (saved as factory id + environments), frames of
// tasklet closures, for-of over built-in collections (saveable iterators), classes and
// module-level functions registered by the compiler. Each case: suspend, snapshot,
// JSON round trip, restore into fresh objects, finish, compare with an uninterrupted run.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, schedule, snapshot, restore, getRunCount, SnapshotError, type SnapshotData } from 'stackless';
import { everyStep, viaJson } from './every-step.js';
import { moduleRegistry, functionRegistry, factoryRegistry } from '../../runtime/compiled.js';

afterEach(() => {
  expect(getRunCount()).toBe(1);
});

const ID = 'tests/snapshot/closures.test.ts';

// ---- closures ----
function counters(log: string[]): number {
  'use tasklet';
  let n = 0;
  const inc = () => ++n; // two closures over one environment
  const get = () => n;
  const same = inc; // two locals, one closure
  inc();
  schedule();
  same();
  log.push(`n=${get()} same=${same === inc}`);
  schedule();
  return inc() + get();
}

function outer(log: string[], k: number): number {
  'use tasklet';
  let total = k;
  function inner(y: number): number {
    'use tasklet';
    schedule(); // a frame of a nested tasklet function
    total += y;
    log.push(`inner ${y} total ${total}`);
    return total;
  }
  return inner(1) + inner(2);
}

function mapper(log: string[], xs: number[]): number[] {
  'use tasklet';
  const factor = 10;
  return xs.map((x) => {
    schedule(); // a frame of an inline tasklet callback, under the runtime's $map helper frame
    log.push(`map ${x}`);
    return x * factor;
  });
}

function loopClosures(log: string[]): number {
  'use tasklet';
  const fs: Array<() => number> = [];
  for (let i = 0; i < 3; i++) {
    fs.push(() => i * 100); // each iteration's own environment
    schedule();
  }
  let s = 0;
  for (const f of fs) {
    s += f();
    log.push(`f ${s}`);
    schedule();
  }
  return s;
}

function twoSameName(log: string[]): number {
  'use tasklet';
  let f = () => 1;
  const first = f;
  f = () => 2; // a second closure named f in one function: its own factory id
  schedule();
  log.push(`${first()} ${f()}`);
  return first() + f();
}

// ---- built-in iterators ----
function iterate(log: string[], xs: unknown[], s: string, m: Map<string, number>, set: Set<number>, ta: Uint8Array): number {
  'use tasklet';
  let count = 0;
  for (const x of xs) {
    if (count === 1) xs.push('pushed'); // arrays are read live, as natively
    log.push(`a ${String(x)}`);
    count++;
    schedule();
  }
  for (const ch of s) {
    log.push(`s ${ch}`);
    schedule();
  }
  for (const [k, v] of m) {
    if (k === 'b') {
      m.delete('a'); // already visited
      m.delete('c'); // not visited yet: skipped
      m.set('z', 26); // added: visited
    }
    log.push(`m ${k}=${v}`);
    schedule();
  }
  for (const v of set) {
    if (v === 1) set.add(4);
    log.push(`set ${v}`);
    schedule();
  }
  for (const b of ta) {
    log.push(`ta ${b}`);
    schedule();
  }
  return count;
}

class OwnEntries {
  n = 0;
  entries(): number[] {
    this.n++;
    return [7, 8];
  }
}

function iterateMethods(log: string[], xs: string[], m: Map<string, number>, set: Set<string>, ta: Int16Array, own: OwnEntries): void {
  'use tasklet';
  for (const [i, x] of xs.entries()) {
    log.push(`entry ${i} ${x}`);
    schedule();
  }
  for (const k of m.keys()) {
    log.push(`key ${k}`);
    schedule();
  }
  for (const v of m.values()) {
    log.push(`value ${v}`);
    schedule();
  }
  for (const [a, b] of set.entries()) {
    log.push(`set entry ${a} ${b}`);
    schedule();
  }
  for (const i of ta.keys()) {
    log.push(`ta key ${i} ${ta[i]}`);
    schedule();
  }
  for (const v of own.entries()) log.push(`own ${v}`); // not a built-in method: called as written
}

// ---- classes and module values ----
class Account {
  constructor(public owner: string, public balance: number) {}
  deposit(n: number): number {
    this.balance += n;
    return this.balance;
  }
}

function fee(n: number): number {
  return Math.ceil(n / 100);
}

function banking(log: string[]): number {
  'use tasklet';
  const acct = new Account('ann', 100); // never given to registerClass
  const charge = fee; // a module-level function in a local: saved by reference
  schedule();
  acct.deposit(50 - charge(50));
  log.push(`${acct.owner} ${acct.balance} ${acct instanceof Account}`);
  return acct.balance;
}

// arrows closing over the `this` of the method that made them (also through a nested arrow)
class Tally {
  total = 0;
  label = 'tally';
  collect(log: string[], xs: number[]): number {
    'use tasklet';
    const add = (x: number) => {
      this.total += x;
    };
    const describe = () => () => `${this.label}=${this.total}`; // this through two arrows
    for (const x of xs) {
      add(x);
      schedule();
    }
    const doubled = xs.map((x) => {
      schedule(); // a frame of an inline callback that reads this
      return x * 2 + this.total;
    });
    log.push(describe()(), doubled.join(','));
    return this.total;
  }
}

function tallyRun(log: string[], xs: number[]): number {
  'use tasklet';
  const t = new Tally();
  return t.collect(log, xs);
}

describe('closures', () => {
  it('two locals holding one closure restore to one function; closures sharing an environment still share it', () => {
    const { trips, ref } = everyStep(counters, () => [[]]);
    expect(trips).toBe(2);
    expect(ref[0]).toEqual(['n=2 same=true']);
    const log: string[] = [];
    const t = spawn(counters, log);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    expect(data.factories!.map((f) => f[0]).sort()).toEqual([`${ID}#counters/get`, `${ID}#counters/inc`]);
    // inc, get and the environment they share: one "F" entry per closure, not per local
    expect(data.objs.filter((e) => e[0] === 'F')).toHaveLength(2);
  });

  it('frames of nested tasklet functions', () => {
    const { trips, ref } = everyStep(outer, () => [[], 5]);
    expect(trips).toBeGreaterThanOrEqual(2);
    expect(ref[0]).toEqual(['inner 1 total 6', 'inner 2 total 8']);
  });

  it('frames of inline tasklet callbacks (xs.map((x) => { ... }))', () => {
    const { trips, ref } = everyStep(mapper, () => [[], [1, 2, 3]]);
    expect(trips).toBeGreaterThanOrEqual(3);
    expect(ref[0]).toEqual(['map 1', 'map 2', 'map 3']);
  });

  it('two closures with one name in one function have distinct factory ids', () => {
    const { trips, ref } = everyStep(twoSameName, () => [[]]);
    expect(trips).toBe(1);
    expect(ref[0]).toEqual(['1 2']);
    const t = spawn(twoSameName, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    expect(data.factories!.map((f) => f[0]).sort()).toEqual([`${ID}#twoSameName/f`, `${ID}#twoSameName/f~2`]);
  });

  it("arrows over their method's this (directly, through a nested arrow, in an inline callback)", () => {
    const { trips, ref } = everyStep(tallyRun, () => [[], [1, 2, 3]]);
    expect(trips).toBeGreaterThanOrEqual(6);
    expect(ref[0]).toEqual(['tally=6', '8,10,12']);
  });

  it('closures made in a loop keep their own iteration environment', () => {
    const { trips, ref } = everyStep(loopClosures, () => [[]]);
    expect(trips).toBeGreaterThanOrEqual(5);
    expect(ref[0]).toEqual(['f 0', 'f 100', 'f 300']);
  });
});

describe('for-of over built-in collections', () => {
  it('arrays (pushed to while iterating), strings by code point, Map and Set (mutated while iterating), typed arrays', () => {
    const mk = () => [[], ['x', 'y'], 'a😀b', new Map([['a', 1], ['b', 2], ['c', 3]]), new Set([1, 2]), new Uint8Array([7, 8])];
    const { trips, ref } = everyStep(iterate, mk);
    expect(ref[0]).toEqual([
      'a x', 'a y', 'a pushed', 's a', 's 😀', 's b', 'm a=1', 'm b=2', 'm z=26', 'set 1', 'set 2', 'set 4', 'ta 7', 'ta 8',
    ]);
    expect(trips).toBe(14);
  });

  it('keys(), values() and entries() of arrays, Maps, Sets and typed arrays; a user object\'s own entries() is called as written', () => {
    const mk = () => [[], ['p', 'q'], new Map([['a', 1], ['b', 2]]), new Set(['s']), new Int16Array([-1, 5]), new OwnEntries()];
    const { trips, ref } = everyStep(iterateMethods, mk);
    expect(ref[0]).toEqual([
      'entry 0 p', 'entry 1 q', 'key a', 'key b', 'value 1', 'value 2', 'set entry s s', 'ta key 0 -1', 'ta key 1 5', 'own 7', 'own 8',
    ]);
    expect(trips).toBe(9);
    expect((ref[5] as OwnEntries).n).toBe(1);
  });

  it('the saved iterator names its source and position', () => {
    const log: string[] = [];
    const t = spawn(iterate, log, ['x', 'y', 'z'], '', new Map(), new Set(), new Uint8Array(0));
    schedule();
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    const it = data.objs.find((e) => e[0] === 'I')!;
    expect(it[1]).toBe(0); // array values
    expect(data.objs[(it[2] as number[])[1]]).toEqual(['A', 'x', 'y', 'z', 'pushed']);
    expect(it[3]).toBe(2);
  });
});

describe('classes and module-level functions registered by the compiler', () => {
  it('an instance of a class nobody registered, and a module-level function held in a local', () => {
    const { trips, ref } = everyStep(banking, () => [[]]);
    expect(trips).toBe(1);
    expect(ref[0]).toEqual(['ann 149 true']);
    const t = spawn(banking, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    expect(data.classes).toEqual([`${ID}#Account`]);
    expect(JSON.stringify(data.objs)).toContain(`[4,"${ID}#fee"]`);
    // a module value this process does not have
    const renamed = JSON.parse(JSON.stringify(data).replace(`"${ID}#fee"`, `"${ID}#feeRenamed"`));
    let err: unknown;
    try {
      restore(renamed);
    } catch (e) {
      err = e;
    }
    expect((err as SnapshotError).code).toBe('UNKNOWN_VALUE');
    expect((err as Error).message).toMatch(new RegExp(`module value '${ID}#feeRenamed' is not loaded here`));
  });
});

describe('what a compiled module registers about itself', () => {
  it('a fingerprint over all its tasklet functions and one of its source text', () => {
    const m = moduleRegistry.get(ID)!;
    const mine = (id: string) => id.startsWith(`${ID}#`);
    // module-level tasklet functions plus the tasklet closures (nested functions, callbacks)
    const tasklets = [...functionRegistry.keys()].filter(mine).length + [...factoryRegistry.values()].filter((f) => mine(f.meta.id) && f.fn !== undefined).length;
    expect(m.functions).toBe(tasklets);
    expect(m.fp).toMatch(/^[0-9a-f]{8}$/);
    expect(m.src).toMatch(/^[0-9a-f]{8}$/);
    expect(m.src).not.toBe(m.fp);
  });
});

describe('restore refuses bad closures', () => {
  const sample = (): SnapshotData => {
    const t = spawn(counters, []);
    schedule();
    const d = viaJson(snapshot(t));
    t.kill();
    return d;
  };
  const code = (d: unknown): string => {
    try {
      restore(d);
      return 'OK';
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      return e.code;
    }
  };
  const closureAt = (d: SnapshotData) => d.objs.findIndex((e) => e[0] === 'F');

  it('the sample restores', () => {
    expect(code(sample())).toBe('OK');
  });

  it('unknown factory ids and changed closures (naming both fingerprints)', () => {
    const d = sample();
    d.factories![0][0] = `${ID}#counters/evil`;
    expect(() => restore(d)).toThrow(`cannot restore: no closure factory with id '${ID}#counters/evil' is loaded`);
    expect(code(d)).toBe('UNKNOWN_FUNCTION');
    const e = sample();
    const fp = e.factories![0][1];
    e.factories![0][1] = '00000000';
    expect(code(e)).toBe('FINGERPRINT_MISMATCH');
    expect(() => restore(e)).toThrow(`has changed: the snapshot has fingerprint 00000000, the loaded code has ${fp}`);
  });

  it('wrong environment counts, environments that are not objects, factory indexes out of range', () => {
    const d = sample();
    (d.objs[closureAt(d)] as unknown[]).push([1, 0]);
    expect(code(d)).toBe('BAD_CLOSURE');
    expect(() => restore(d)).toThrow(/takes 1 environment object, the entry has 2/);
    const e = sample();
    (e.objs[closureAt(e)] as unknown[]).length = 2;
    expect(code(e)).toBe('BAD_CLOSURE');
    const f = sample();
    (f.objs[closureAt(f)] as unknown[])[2] = 42;
    expect(code(f)).toBe('BAD_CLOSURE');
    const g = sample();
    const k = g.objs.findIndex((x) => x[0] === 'K');
    (g.objs[closureAt(g)] as unknown[])[2] = [1, k]; // a tasklet is no environment
    expect(code(g)).toBe('BAD_REF');
    const h = sample();
    (h.objs[closureAt(h)] as unknown[])[1] = 7;
    expect(code(h)).toBe('BAD_REF');
  });

  it('a frame naming a closure that is not a tasklet function', () => {
    const d = sample();
    const frames = (d.objs.find((x) => x[0] === 'K') as unknown[])[3] as unknown[][];
    frames[0][0] = [1, closureAt(d)];
    expect(code(d)).toBe('BAD_FRAME');
  });
});
