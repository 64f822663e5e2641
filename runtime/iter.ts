// Saveable iterators for `for-of` in tasklet functions (docs/protocol.md, snapshots:
// docs/snapshot-format.md "I" entries). Compiled code calls `$iter(xs)` where plain
// JavaScript would call `xs[Symbol.iterator]()`: for arrays (and other array-likes
// iterated by Array.prototype.values), typed arrays, strings, Map, Set and their
// keys()/values()/entries() iterators that have not started yet, it returns an SlIter,
// whose position a snapshot can read; for anything else it returns null and the
// compiled code makes the ordinary call. An SlIter behaves like the native iterator it
// replaces: arrays are read live (length each step, so items pushed during the loop are
// visited), Map and Set delegate to a native iterator, and once done it stays done.

/** What an SlIter produces. */
export const IK_VALUES = 0;
export const IK_KEYS = 1;
export const IK_ENTRIES = 2;
/** Source kinds (bit 2+): array-like by index, string by code point, Map, Set. */
export const IS_ARRAY = 0;
export const IS_STRING = 4;
export const IS_MAP = 8;
export const IS_SET = 12;

const ArrayValues = Array.prototype.values;
const ArrayMethods = [Array.prototype.values, Array.prototype.keys, Array.prototype.entries];
const MapMethods = [Map.prototype.values, Map.prototype.keys, Map.prototype.entries];
const SetMethods = [Set.prototype.values, Set.prototype.keys, Set.prototype.entries];
const NAMES = ['values', 'keys', 'entries'] as const;
const TypedProto = Object.getPrototypeOf(Int8Array.prototype) as { values: unknown; keys: unknown; entries: unknown };
const TypedValues = TypedProto.values;
const TypedMethods = [TypedProto.values, TypedProto.keys, TypedProto.entries];
const StringIter = String.prototype[Symbol.iterator];
const MapEntries = Map.prototype.entries;
const SetValues = Set.prototype.values;
const ArrayIterProto = Object.getPrototypeOf([][Symbol.iterator]()) as object;
const MapIterProto = Object.getPrototypeOf(new Map()[Symbol.iterator]()) as object;
const SetIterProto = Object.getPrototypeOf(new Set()[Symbol.iterator]()) as object;
const ArrayIterNext = (ArrayIterProto as { next: unknown }).next;
const MapIterNext = (MapIterProto as { next: unknown }).next;
const SetIterNext = (SetIterProto as { next: unknown }).next;

export class SlIter {
  /** the source (array-like, string, Map or Set); undefined once done */
  s: unknown;
  /** IK_* | IS_* */
  k: number;
  /** position: the next index (arrays), code unit (strings) or item count (Map/Set) */
  i: number;
  /** Map/Set: the native iterator doing the work (null until the first next() after a restore) */
  n: Iterator<unknown> | null;

  constructor(s: unknown, k: number, i: number, n: Iterator<unknown> | null) {
    this.s = s;
    this.k = k;
    this.i = i;
    this.n = n;
  }

  next(): IteratorResult<unknown> {
    const s = this.s;
    if (s === undefined) return { value: undefined, done: true };
    const k = this.k;
    if (k < IS_STRING) {
      const a = s as ArrayLike<unknown>;
      const i = this.i;
      if (i >= a.length) {
        this.s = undefined;
        return { value: undefined, done: true };
      }
      this.i = i + 1;
      return { value: k === IK_VALUES ? a[i] : k === IK_KEYS ? i : [i, a[i]], done: false };
    }
    if (k === IS_STRING) {
      const str = s as string;
      const i = this.i;
      if (i >= str.length) {
        this.s = undefined;
        return { value: undefined, done: true };
      }
      const c = str.charCodeAt(i);
      const wide = c >= 0xd800 && c <= 0xdbff && i + 1 < str.length && (str.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      this.i = i + (wide ? 2 : 1);
      return { value: wide ? str.slice(i, i + 2) : str[i], done: false };
    }
    const n = this.n ?? this.reopen();
    const r = n.next();
    if (r.done === true) {
      this.s = undefined;
      this.n = null;
    } else this.i++;
    return r;
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** What Object.prototype.toString says of the native iterator it stands for. */
  get [Symbol.toStringTag](): string {
    return TAGS[this.k >> 2];
  }

  /** A fresh native iterator of the Map or Set, moved past the `i` items already produced. */
  private reopen(): Iterator<unknown> {
    const n = nativeOf(this.s as Map<unknown, unknown> | Set<unknown>, this.k);
    for (let j = 0; j < this.i; j++) n.next();
    this.n = n;
    return n;
  }

  /**
   * Position for a snapshot. Map/Set: the items left are counted by running the native
   * iterator to its end, and it is replaced by a fresh one moved to the same place (nothing
   * runs in between, so the change cannot be observed); entries deleted or added since the
   * loop began are thereby accounted for exactly.
   */
  position(): number {
    if (this.k < IS_MAP || this.n === null || this.s === undefined) return this.i;
    const c = this.s as Map<unknown, unknown> | Set<unknown>;
    let left = 0;
    while (this.n.next().done !== true) left++;
    this.i = c.size - left;
    this.n = null;
    return this.i;
  }
}

const TAGS = ['Array Iterator', 'String Iterator', 'Map Iterator', 'Set Iterator'];
// inherit what native iterators inherit (%IteratorPrototype%: the iterator helpers where the engine has them)
Object.setPrototypeOf(SlIter.prototype, Object.getPrototypeOf(ArrayIterProto) as object);

function nativeOf(c: Map<unknown, unknown> | Set<unknown>, k: number): Iterator<unknown> {
  const what = k & 3;
  if (k >= IS_SET) return what === IK_ENTRIES ? (c as Set<unknown>).entries() : (c as Set<unknown>).values();
  const m = c as Map<unknown, unknown>;
  return what === IK_KEYS ? m.keys() : what === IK_VALUES ? m.values() : m.entries();
}

/**
 * The iterator `for (x of xs)` uses: an SlIter where the native one would be a built-in
 * iterator of a built-in collection, otherwise null (the caller then calls
 * `xs[Symbol.iterator]()` itself, as a call site).
 */
export function $iter(xs: unknown): SlIter | null {
  if (xs === null || xs === undefined) return null;
  const m = (xs as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (m === ArrayValues) {
    // Array.prototype.values works on any array-like (arguments objects too)
    return (ArrayIterProto as { next: unknown }).next === ArrayIterNext ? new SlIter(xs, IK_VALUES | IS_ARRAY, 0, null) : null;
  }
  if (typeof xs === 'string') return m === StringIter ? new SlIter(xs, IS_STRING, 0, null) : null;
  if (m === TypedValues && ArrayBuffer.isView(xs)) {
    return (ArrayIterProto as { next: unknown }).next === ArrayIterNext ? new SlIter(xs, IK_VALUES | IS_ARRAY, 0, null) : null;
  }
  if (typeof xs !== 'object') return null;
  const p = Object.getPrototypeOf(xs);
  if (p === Map.prototype) {
    return m === MapEntries && (MapIterProto as { next: unknown }).next === MapIterNext ? new SlIter(xs, IK_ENTRIES | IS_MAP, 0, (xs as Map<unknown, unknown>).entries()) : null;
  }
  if (p === Set.prototype) {
    return m === SetValues && (SetIterProto as { next: unknown }).next === SetIterNext ? new SlIter(xs, IK_VALUES | IS_SET, 0, (xs as Set<unknown>).values()) : null;
  }
  return null;
}

/**
 * `for (x of o.values() / o.keys() / o.entries())`: compiled code calls `$iterm(o, kind)`
 * (kind 0 values, 1 keys, 2 entries) first. When `o` is an array, a typed array, a Map or a
 * Set and the method is the built-in one, the result is an SlIter of that kind (what the
 * built-in method would have returned, but saveable); otherwise null, and the compiled
 * code calls the method as written.
 */
export function $iterm(o: unknown, k: number): SlIter | null {
  if (typeof o !== 'object' || o === null || (k !== 0 && k !== 1 && k !== 2)) return null;
  const m = (o as Record<string, unknown>)[NAMES[k]];
  if (Array.isArray(o)) return m === ArrayMethods[k] && (ArrayIterProto as { next: unknown }).next === ArrayIterNext ? new SlIter(o, k | IS_ARRAY, 0, null) : null;
  if (ArrayBuffer.isView(o)) return m === TypedMethods[k] && (ArrayIterProto as { next: unknown }).next === ArrayIterNext ? new SlIter(o, k | IS_ARRAY, 0, null) : null;
  const p = Object.getPrototypeOf(o);
  if (p === Map.prototype) {
    return m === MapMethods[k] && (MapIterProto as { next: unknown }).next === MapIterNext ? new SlIter(o, k | IS_MAP, 0, nativeOf(o as Map<unknown, unknown>, k | IS_MAP)) : null;
  }
  if (p === Set.prototype) {
    const kind = (k === IK_KEYS ? IK_VALUES : k) | IS_SET; // a Set's keys are its values
    return m === SetMethods[k] && (SetIterProto as { next: unknown }).next === SetIterNext ? new SlIter(o, kind, 0, nativeOf(o as Set<unknown>, kind)) : null;
  }
  return null;
}
