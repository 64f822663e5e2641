// The array-callback helpers: native semantics when nothing blocks, and callbacks
// that block (they are called by the protocol and the helper saves its own frame).
import { describe, it, expect, afterEach } from 'vitest';
import { S, tf } from './support/hand.js';
import { sched, expectClean } from './support/util.js';
import { Channel, spawn, run } from '../../runtime/index.js';
import {
  $forEach, $map, $filter, $reduce, $some, $every, $find, $findIndex, $flatMap, $sort,
} from '../../runtime/internal.js';

afterEach(expectClean);

// A sparse array with a hole at 1 and an explicit undefined at 3.
const sparse = (): unknown[] => {
  const a: unknown[] = [3, , 1, undefined, 2]; // eslint-disable-line no-sparse-arrays
  return a;
};

describe('native semantics when nothing blocks (called from ordinary code)', () => {
  const cases: Array<[string, Function, (a: any[]) => unknown[]]> = [
    ['forEach', $forEach, () => [function (this: unknown, x: unknown, i: number) { log.push([this, x, i]); }, 'TH']],
    ['map', $map, () => [(x: any) => (x === undefined ? 'u' : x * 2)]],
    ['filter', $filter, () => [(x: any) => x !== 1]],
    ['some', $some, () => [(x: any) => x === 2]],
    ['every', $every, () => [(x: any) => x !== 9]],
    ['find', $find, () => [(x: any) => x === undefined]],
    ['findIndex', $findIndex, () => [(x: any) => x === undefined]],
    ['flatMap', $flatMap, () => [(x: any) => (x === 1 ? [x, [x]] : x === 3 ? [] : x)]],
    ['reduce', $reduce, () => [(acc: any, x: any) => `${acc},${x}`]],
    ['reduce with initial', $reduce, () => [(acc: any, x: any) => `${acc},${x}`, 'init']],
  ];
  const log: unknown[] = [];
  it.each(cases)('%s matches Array.prototype', (name, helper, args) => {
    const method = name.split(' ')[0];
    log.length = 0;
    const mine = helper(sparse(), ...args(sparse()));
    const mineLog = [...log];
    log.length = 0;
    const native = (sparse() as any)[method](...args(sparse()));
    expect(mine).toEqual(native);
    expect(mineLog).toEqual(log);
    if (method === 'map') expect(1 in (mine as unknown[])).toBe(false); // holes kept
  });

  it('reduce of an empty array without an initial value throws the native TypeError', () => {
    expect(() => $reduce([, ,], (a: unknown) => a)).toThrow(new TypeError('Reduce of empty array with no initial value'));
    expect($reduce([, 5], (a: unknown) => a)).toBe(5);
  });

  it('sort: stable, undefined last, holes after them, numbers by comparator', () => {
    const recs = [{ k: 2, n: 'a' }, { k: 1, n: 'b' }, { k: 2, n: 'c' }, { k: 1, n: 'd' }, { k: 0, n: 'e' }];
    const byK = (x: { k: number }, y: { k: number }) => x.k - y.k;
    expect(($sort([...recs], byK) as typeof recs).map((r) => r.n)).toEqual([...recs].sort(byK).map((r) => r.n));
    const mixed: unknown[] = [5, undefined, , 1, 10, , undefined, 2]; // eslint-disable-line no-sparse-arrays
    const mine = $sort([...mixed], (a: any, b: any) => a - b) as unknown[];
    const native = [...mixed].sort((a: any, b: any) => a - b);
    expect(mine).toEqual(native);
    const sparseMine = $sort(mixed.slice(), (a: any, b: any) => a - b) as unknown[];
    expect(Object.keys(sparseMine)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(sparseMine.length).toBe(8);
    // default comparator (string order) goes to the native sort
    expect($sort([10, 9, 1, 100])).toEqual([1, 10, 100, 9]);
    const big = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1009);
    expect($sort([...big], (a: number, b: number) => a - b)).toEqual([...big].sort((a, b) => a - b));
  });

  it('non-arrays use their own method', () => {
    const seen: unknown[] = [];
    $forEach(new Map([[1, 'a']]), (v: unknown, k: unknown) => seen.push(k, v));
    $forEach(new Set(['s']), (v: unknown) => seen.push(v));
    expect(seen).toEqual([1, 'a', 's']);
    expect($map(new Uint8Array([1, 2]), (x: number) => x * 3)).toEqual(new Uint8Array([3, 6]));
    expect(() => $map([1], 'nope' as never)).toThrow(TypeError);
  });
});

describe('callbacks that block', () => {
  it('map with a callback that receives from a channel', () => {
    const ch = new Channel<number>();
    const out: unknown[] = [];
    const cb = tf('cb', ['x', 'i'], [
      S.call(() => [ch.receive, ch], (L, v) => (L.v = v)),
      S.ret((L) => `${L.i}:${L.x}+${L.v}`),
    ]);
    spawn(tf('t', [], [S.call(() => [$map, undefined, ['a', , 'c'], cb], (_L, v) => out.push(v))])); // eslint-disable-line no-sparse-arrays
    spawn(tf('s', [], [S.call(() => [ch.send, ch, 1]), S.call(() => [ch.send, ch, 2])]));
    run();
    expect(out).toEqual([['0:a+1', , '2:c+2']]); // eslint-disable-line no-sparse-arrays
  });

  it('every helper resumes correctly when each callback yields', () => {
    const results: unknown[] = [];
    const yielding = (f: (L: any) => unknown) => tf('cb', ['x', 'i'], [sched(), S.ret(f)]);
    const a = [1, 2, 3, 4];
    const calls: Array<[Function, unknown[]]> = [
      [$forEach, [yielding((L) => results.push(`fe${L.x}`))]],
      [$map, [yielding((L) => L.x * 10)]],
      [$filter, [yielding((L) => L.x % 2 === 0)]],
      [$some, [yielding((L) => L.x === 3)]],
      [$every, [yielding((L) => L.x < 3)]],
      [$find, [yielding((L) => L.x > 2)]],
      [$findIndex, [yielding((L) => L.x > 2)]],
      [$flatMap, [yielding((L) => [L.x, L.x])]],
      [$reduce, [tf('red', ['acc', 'x'], [sched(), S.ret((L) => L.acc + L.x)])]],
      [$reduce, [tf('red', ['acc', 'x'], [sched(), S.ret((L) => L.acc + L.x)]), 100]],
      [$sort, [tf('cmp', ['x', 'y'], [sched(), S.ret((L) => L.y - L.x)])]],
    ];
    const order: string[] = [];
    spawn(tf('t', [], [
      S.do((L) => (L.k = 0)),
      S.while((L) => L.k < calls.length, [
        S.call((L) => [calls[L.k][0], undefined, [...a], ...calls[L.k][1]], (L, v) => { if (v !== undefined) results.push(v); L.k++; }),
      ]),
    ]));
    // a second tasklet proves the callbacks really switch away
    spawn(tf('o', [], [S.do((L) => (L.n = 0)), S.while((L) => L.n++ < 60, [S.do(() => order.push('o')), sched()])]));
    run();
    expect(results).toEqual([
      'fe1', 'fe2', 'fe3', 'fe4',
      [10, 20, 30, 40], [2, 4], true, false, 3, 2, [1, 1, 2, 2, 3, 3, 4, 4], 10, 110, [4, 3, 2, 1],
    ]);
    expect(order.length).toBe(60);
  });

  it('an error thrown by a blocked callback propagates out of the helper', () => {
    const ch = new Channel<number>();
    const seen: unknown[] = [];
    const cb = tf('cb', ['x'], [S.call(() => [ch.receive, ch])]);
    spawn(tf('t', [], [S.try([S.call(() => [$forEach, undefined, [1, 2], cb])], { catch: [S.do((L) => seen.push((L.$e as Error).message))] })]));
    run();
    expect(() => ch.sendException(Error, 'cb failed')).not.toThrow();
    expect(seen).toEqual(['cb failed']);
  });

  it('a helper called from ordinary code with a blocking callback raises the boundary error', () => {
    const ch = new Channel<number>();
    const seen: unknown[] = [];
    const cb = tf('cb', ['x'], [S.call(() => [ch.receive, ch])]);
    spawn(tf('t', [], [S.try([S.call(() => [() => $forEach([1], cb), undefined])], { catch: [S.do((L) => seen.push((L.$e as Error).message))] })]));
    spawn(tf('o', [], []));
    run();
    expect(seen[0]).toMatch(/^cannot block: tasklet function \$forEach was called from ordinary/);
    expect(ch.balance).toBe(0);
  });
});
