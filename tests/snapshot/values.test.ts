// Round trips of every value kind SPEC lists, through JSON text, with identity kept.
import { describe, it, expect } from 'vitest';
import { snapshot, restore, registerClass, SnapshotError, Channel, StacklessError } from 'stackless';

const trip = (...roots: unknown[]): unknown[] => restore(JSON.parse(JSON.stringify(snapshot(...roots)))).roots;

class Point {
  constructor(public x: number, public y: number) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
registerClass(Point);
class Hidden {
  v = 1;
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotError);
    return (e as SnapshotError).code + ': ' + (e as Error).message;
  }
  throw new Error('no SnapshotError');
}

describe('snapshot values', () => {
  it('primitives, special numbers, BigInt, symbols from Symbol.for', () => {
    const vals = [1, -2.5, 'x', '', true, false, null, undefined, NaN, Infinity, -Infinity, -0, 0, 10n ** 30n, -5n, Symbol.for('k'), Symbol.iterator];
    const back = trip(...vals);
    expect(back.length).toBe(vals.length);
    back.forEach((v, i) => expect(Object.is(v, vals[i]), `value #${i}`).toBe(true));
  });

  it('arrays (holes, extra keys), plain and null-prototype objects, shared and cyclic identity', () => {
    const shared = { s: 1 };
    const a: any[] = [1, , shared, shared];
    a.push(a);
    const m = /(\d+)/.exec('ab12') as RegExpExecArray;
    const np = Object.create(null);
    np.k = 'v';
    const o: any = { a, np, m, self: null };
    o.self = o;
    const [r] = trip(o) as any[];
    expect(r.self).toBe(r);
    expect(r.a.length).toBe(5);
    expect(1 in r.a).toBe(false);
    expect(r.a[2]).toBe(r.a[3]);
    expect(r.a[4]).toBe(r.a);
    expect(Object.getPrototypeOf(r.np)).toBe(null);
    expect(r.np.k).toBe('v');
    expect([...r.m]).toEqual(['12', '12']);
    expect(r.m.index).toBe(2);
    expect(r.m.input).toBe('ab12');
  });

  it('Date, RegExp (flags, lastIndex), Map, Set with object keys', () => {
    const key = { k: 1 };
    const re = /a+/gi;
    re.lastIndex = 3;
    const [d, bad, r, m, s] = trip(new Date(12345), new Date(NaN), re, new Map<unknown, unknown>([[key, 'v'], ['x', key]]), new Set([key, 2])) as any[];
    expect(d).toBeInstanceOf(Date);
    expect(d.getTime()).toBe(12345);
    expect(Number.isNaN(bad.getTime())).toBe(true);
    expect(r.source).toBe('a+');
    expect(r.flags).toBe('gi');
    expect(r.lastIndex).toBe(3);
    const k2 = [...m.keys()][0];
    expect(m.get(k2)).toBe('v');
    expect(m.get('x')).toBe(k2);
    expect(s.has(k2)).toBe(true);
    expect(s.has(2)).toBe(true);
  });

  it('typed arrays share their buffer; DataView; BigInt64Array', () => {
    const buf = new ArrayBuffer(16);
    const u8 = new Uint8Array(buf);
    u8.set([1, 2, 3, 250]);
    const f64 = new Float64Array(buf, 8, 1);
    f64[0] = -1.5;
    const dv = new DataView(buf, 4, 4);
    const big = new BigInt64Array([-(2n ** 60n)]);
    const [a, b, c, d] = trip(u8, f64, dv, big) as any[];
    expect(a).toBeInstanceOf(Uint8Array);
    expect([...a.slice(0, 4)]).toEqual([1, 2, 3, 250]);
    expect(b[0]).toBe(-1.5);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(4);
    expect(d[0]).toBe(-(2n ** 60n));
  });

  it('errors keep class, message, stack and cause; registered classes keep prototype and fields', () => {
    const e = new TypeError('bad', { cause: 'why' });
    const se = new StacklessError('deadlock');
    const p = new Point(3, 4);
    const [e2, se2, p2] = trip(e, se, p) as any[];
    expect(e2).toBeInstanceOf(TypeError);
    expect(e2.message).toBe('bad');
    expect(e2.stack).toBe(e.stack);
    expect(e2.cause).toBe('why');
    expect(Object.keys(e2)).toEqual([]);
    expect(se2).toBeInstanceOf(StacklessError);
    expect(p2).toBeInstanceOf(Point);
    expect(p2.norm()).toBe(5);
  });

  it('channels by identity, with flags and buffered values', () => {
    const ch = new Channel<number>({ capacity: 3 });
    ch.preference = 1;
    ch.send(1);
    ch.send(2);
    ch.close();
    const [c1, c2] = trip(ch, ch) as Channel<number>[];
    // (no expect(channel): printing a Channel would iterate it, i.e. receive)
    expect(c1 === c2).toBe(true);
    expect(c1 === ch).toBe(false);
    expect(c1.preference).toBe(1);
    expect(c1.closing).toBe(true);
    expect(c1.length).toBe(2);
    expect(c1.receive()).toBe(1);
    expect(c1.receive()).toBe(2);
    expect(c1.closed).toBe(true);
  });

  it('a 100,000-long linked list (no recursion)', () => {
    let list: any = null;
    for (let i = 0; i < 100_000; i++) list = { i, next: list };
    let [r] = trip(list) as any[];
    let n = 0;
    while (r !== null) {
      expect(r.i).toBe(99_999 - n);
      n++;
      r = r.next;
    }
    expect(n).toBe(100_000);
  });

  it('refuses what cannot be saved, naming the path', () => {
    expect(codeOf(() => snapshot({ h: new Hidden() }))).toMatch(/^UNREGISTERED_CLASS: .*root #0\.h.*class Hidden/);
    expect(codeOf(() => snapshot({ w: new WeakMap() }))).toMatch(/^UNSUPPORTED_VALUE: .*WeakMap/);
    expect(codeOf(() => snapshot([1, Symbol('u')]))).toMatch(/^UNIQUE_SYMBOL: .*root #0\[1\]/);
    expect(codeOf(() => snapshot({ f: () => 1 }))).toMatch(/^UNSUPPORTED_CLOSURE: .*root #0\.f/);
    expect(codeOf(() => snapshot({ f: Object.getOwnPropertyDescriptor(Map.prototype, 'size')?.get }))).toMatch(/^NATIVE_FUNCTION/);
    expect(trip(Math.max, [].push)).toEqual([Math.max, [].push]); // JavaScript's own functions by name
    expect(codeOf(() => snapshot({ f: codeOf.bind(null) }))).toMatch(/^BOUND_FUNCTION/);
    expect(codeOf(() => snapshot(new Proxy({}, {})))).toMatch(/^UNSUPPORTED_VALUE: .*Proxy/);
    expect(codeOf(() => snapshot(Promise.resolve(1)))).toMatch(/^UNSUPPORTED_VALUE/);
    expect(codeOf(() => snapshot({ get g() { return 1; } }))).toMatch(/^ACCESSOR_PROPERTY/);
    expect(codeOf(() => snapshot({ [Symbol('s')]: 1 }))).toMatch(/^SYMBOL_KEY/);
    expect(codeOf(() => snapshot(JSON.parse('{"__proto__": 1}')))).toMatch(/^PROTO_KEY/);
    expect(codeOf(() => snapshot([1, 2].values()))).toMatch(/^UNSUPPORTED_ITERATOR: cannot save root #0: a built-in Array Iterator, whose position cannot be read \(only the iterators of for-of loops/);
    const strings = ((s: TemplateStringsArray, ..._v: unknown[]) => s)`a${1}b`;
    expect(codeOf(() => snapshot({ strings }))).toMatch(/^UNSUPPORTED_VALUE: cannot save root #0\.strings: an array with non-enumerable properties/);
    expect(codeOf(() => snapshot(Buffer.from('x')))).toMatch(/^UNREGISTERED_CLASS/);
  });

  it('the snapshot is plain JSON data', () => {
    const s = snapshot({ a: [1, undefined, NaN], d: new Date(0) });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
