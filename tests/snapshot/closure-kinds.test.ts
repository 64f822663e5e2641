// Closures of every kind tasklet code can create are saveable (SPEC "Snapshots": only
// closures made by untransformed code may be refused): each case suspends with the closure
// live, goes through snapshot / JSON / restore at every step and must finish exactly as an
// uninterrupted run; sharing and identity are checked on the saved table.
import { describe, it, expect, afterEach } from 'vitest';
import { spawn, schedule, snapshot, restore, getRunCount, SnapshotError, type SnapshotData } from 'stackless';
import { everyStep, viaJson } from './every-step.js';

afterEach(() => {
  expect(getRunCount()).toBe(1);
});

// ---- bindings of blocks without suspension points ----
function counter(start: number): { inc: () => number; get: () => number } {
  'use tasklet';
  // no call site at all: compiled anyway, so its closures are made through factories
  let n = start;
  return { inc: () => ++n, get: () => n };
}

function blocks(log: string[]): number {
  'use tasklet';
  const fs: Array<() => number> = [];
  for (let i = 0; i < 3; i++) fs[i] = () => i * 10; // a call-free loop: per-iteration bindings
  {
    let y = 5; // a plain block
    fs[3] = () => y++;
    fs[4] = () => y;
  }
  for (const w of [7, 8]) {
    const sq = w * w; // a block inside a loop: one binding per iteration
    fs[fs.length] = () => sq + w;
  }
  let caught: () => string = () => '';
  try {
    throw new Error('boom');
  } catch (e) {
    caught = () => (e as Error).message;
  }
  const c = counter(100);
  schedule();
  fs[3]();
  log.push(`y=${fs[4]()} c=${c.inc()}`);
  schedule();
  let sum = 0;
  for (const f of fs) {
    sum += f();
    log.push(`sum ${sum}`);
    schedule();
  }
  log.push(`${caught()} ${c.inc()} ${c.get()}`);
  return sum;
}

describe('closures over bindings of blocks without suspension points', () => {
  it('plain blocks, call-free loops (per iteration), catch parameters, functions without call sites', () => {
    const { trips, ref } = everyStep(blocks, () => [[]]);
    expect(ref[0]).toEqual(['y=6 c=101', 'sum 0', 'sum 10', 'sum 30', 'sum 36', 'sum 43', 'sum 99', 'sum 171', 'boom 102 102']);
    expect(trips).toBe(9);
  });

  it('closures sharing a block environment still share it after a restore', () => {
    const t = spawn(blocks, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    const fs = data.objs.filter((e) => e[0] === 'F');
    const envOf = (name: string) => fs.filter((e) => data.factories![e[1] as number][0].endsWith(`#${name}`)).map((e) => JSON.stringify(e.slice(2)));
    // the two closures over `y` name one environment entry
    const [a, b] = [fs.find((e) => data.factories![e[1] as number][0].includes('<anonymous 1>'))!, fs.find((e) => data.factories![e[1] as number][0].includes('<anonymous 2>'))!];
    expect(a.slice(2)).toEqual(b.slice(2));
    // the loop's three closures have three environments
    expect(new Set(envOf('blocks/<anonymous 0>')).size).toBe(3);
  });
});

// ---- object-literal methods, getters and setters ----
function wallet(log: string[]): string {
  'use tasklet';
  let cents = 250;
  const w = {
    owner: 'ann',
    add(n: number): number {
      cents += n;
      return cents;
    },
    get balance(): string {
      return `${this.owner}:${cents}`;
    },
    set balance(v: string) {
      cents = Number(v);
    },
    'odd key'(): string {
      return 'odd';
    },
  };
  schedule();
  w.add(50);
  log.push(w.balance, Object.keys(w).join(','));
  schedule();
  w.balance = '7';
  const d = Object.getOwnPropertyDescriptor(w, 'balance')!;
  log.push(w.balance, `${typeof d.get} ${typeof d.set} ${d.enumerable} ${d.get!.name}`);
  schedule();
  let ctor = 'no';
  try {
    new (w.add as any)(1);
  } catch {
    ctor = 'not a constructor';
  }
  log.push(`${w.add.name} ${'prototype' in w.add} ${ctor} ${w['odd key']()}`);
  return w.balance;
}

describe('object-literal methods and accessors', () => {
  it('methods stay methods, accessors stay accessors in their place; the object is saved with them', () => {
    const { trips, ref } = everyStep(wallet, () => [[]]);
    expect(ref[0]).toEqual(['ann:300', 'owner,add,balance,odd key', 'ann:7', 'function function true get balance', 'add false not a constructor odd']);
    expect(trips).toBe(3);
    const t = spawn(wallet, []);
    schedule();
    const data = viaJson(snapshot(t));
    t.kill();
    const obj = data.objs.find((e) => e[0] === 'O' && e[1] === 'owner')!;
    expect(obj[5]).toEqual(['balance', 1]);
    const [g, s] = obj[6] as unknown[][];
    expect(data.objs[g[1] as number][0]).toBe('F');
    expect(data.objs[s[1] as number][0]).toBe('F');
  });
});

describe('restore refuses tampered entries of the new kinds', () => {
  const code = (d: unknown): string => {
    try {
      restore(d as SnapshotData);
      return 'OK';
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      return e.code;
    }
  };
  const sample = (fn: (log: string[]) => unknown): SnapshotData => {
    const t = spawn(fn, []);
    schedule();
    const d = viaJson(snapshot(t));
    t.kill();
    return d;
  };

  it('accessors: a bad marker, a pair that is not two functions, a prototype key', () => {
    const at = (d: SnapshotData) => d.objs.find((e) => e[0] === 'O' && e[1] === 'owner')!;
    expect(code(sample(wallet))).toBe('OK');
    const a = sample(wallet);
    at(a)[5] = ['balance', 2];
    expect(code(a)).toBe('BAD_VALUE');
    const b = sample(wallet);
    at(b)[6] = [[0]];
    expect(code(b)).toBe('BAD_VALUE');
    const c = sample(wallet);
    (at(c)[6] as unknown[])[0] = 42;
    expect(code(c)).toBe('BAD_VALUE');
    const d = sample(wallet);
    (at(d)[6] as unknown[])[0] = [1, d.objs.indexOf(at(d))]; // an object is no getter
    expect(code(d)).toBe('BAD_VALUE');
    const e = sample(wallet);
    at(e)[5] = ['__proto__', 1];
    expect(code(e)).toBe('PROTO_KEY');
  });
});
