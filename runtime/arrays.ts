// Array-callback helpers. Compiled code calls `$map(recv, cb, thisArg)` instead of
// `recv.map(cb, thisArg)` so that the callback may block: for a real Array the helper
// iterates itself, calls the callback by the protocol (rt.tok = cb) and, if the
// callback suspends, saves its own frame record and is later resumed from it.
// Anything that is not an Array gets its own method, called normally.
import { rt, type Frame } from './rt.js';

const FOREACH = 0, MAP = 1, FILTER = 2, SOME = 3, EVERY = 4, FIND = 5, FINDINDEX = 6, FLATMAP = 7, REDUCE = 8;
const METHOD = ['forEach', 'map', 'filter', 'some', 'every', 'find', 'findIndex', 'flatMap', 'reduce'];
const HELPER: Function[] = [];

type Cb = (...a: unknown[]) => unknown;

/** The value a helper returns when the loop runs to the end. */
function final(m: number, acc: unknown): unknown {
  switch (m) {
    case MAP: case FILTER: case FLATMAP: case REDUCE: return acc;
    case SOME: return false;
    case EVERY: return true;
    case FINDINDEX: return -1;
    default: return undefined;
  }
}

/**
 * The loop of every iterating helper. `pending`: the callback for element `i`
 * (value `x`) returned `r`, which is processed first (this is how a resume enters).
 */
function loop(m: number, a: unknown[], cb: Cb, th: unknown, i: number, n: number, acc: any, x: unknown, r: unknown, pending: boolean, tk: unknown): unknown {
  const visitHoles = m === FIND || m === FINDINDEX; // find/findIndex see holes as undefined
  for (;;) {
    if (pending) {
      switch (m) {
        case MAP: acc[i] = r; break;
        case FILTER: if (r) acc.push(x); break;
        case SOME: if (r) return true; break;
        case EVERY: if (!r) return false; break;
        case FIND: if (r) return x; break;
        case FINDINDEX: if (r) return i; break;
        case FLATMAP:
          if (Array.isArray(r)) { for (let j = 0; j < r.length; j++) if (j in r) acc.push(r[j]); }
          else acc.push(r);
          break;
        case REDUCE: acc = r; break;
      }
      i++;
    }
    if (!visitHoles) while (i < n && !(i in a)) i++;
    if (i >= n) return final(m, acc);
    x = a[i];
    rt.tok = cb;
    r = m === REDUCE ? cb(acc, x, i, a) : cb.call(th, x, i, a);
    if (rt.u !== 0) {
      const self = HELPER[m];
      const rec: Frame = { f: self, pc: 0, up: null, md: m, a, cb, t: th, i, n, acc, x };
      if (r !== undefined) (r as Frame).up = rec;
      else rt.inner = rec;
      if (tk !== self) return rt.boundary(rec);
      return rec;
    }
    pending = true;
  }
}

/** Entry of a resumed helper (its record in rt.rf); the callback's outcome is in rv/rk. */
function resume(): unknown {
  const F = rt.rf as Frame;
  rt.rf = null;
  if (rt.rk) throw rt.rv; // the callback threw: so does the helper
  if (F.s !== undefined) return sortLoop(F.s as SortState, rt.rv, true, F.f);
  return loop(F.md as number, F.a as unknown[], F.cb as Cb, F.t, F.i as number, F.n as number, F.acc, F.x, rt.rv, true, F.f);
}

function start(m: number, recv: any, args: unknown[], tk: unknown): unknown {
  rt.tok = null; // consumed: a stale token must not match a later ordinary call
  const cb = args[0];
  if (!Array.isArray(recv) || typeof cb !== 'function') {
    rt.tok = null;
    return recv[METHOD[m]](...args);
  }
  const n = recv.length;
  let acc: unknown;
  let i = 0;
  if (m === MAP) acc = new Array(n);
  else if (m === FILTER || m === FLATMAP) acc = [];
  else if (m === REDUCE) {
    if (args.length >= 2) acc = args[1];
    else {
      while (i < n && !(i in recv)) i++;
      if (i >= n) throw new TypeError('Reduce of empty array with no initial value');
      acc = recv[i++];
    }
  }
  return loop(m, recv, cb as Cb, m === REDUCE ? undefined : args[1], i, n, acc, undefined, undefined, false, tk);
}

export function $forEach(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(FOREACH, recv, args, rt.tok === $forEach ? $forEach : null);
}
export function $map(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(MAP, recv, args, rt.tok === $map ? $map : null);
}
export function $filter(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(FILTER, recv, args, rt.tok === $filter ? $filter : null);
}
export function $some(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(SOME, recv, args, rt.tok === $some ? $some : null);
}
export function $every(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(EVERY, recv, args, rt.tok === $every ? $every : null);
}
export function $find(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(FIND, recv, args, rt.tok === $find ? $find : null);
}
export function $findIndex(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(FINDINDEX, recv, args, rt.tok === $findIndex ? $findIndex : null);
}
export function $flatMap(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(FLATMAP, recv, args, rt.tok === $flatMap ? $flatMap : null);
}
export function $reduce(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  return start(REDUCE, recv, args, rt.tok === $reduce ? $reduce : null);
}
HELPER.push($forEach, $map, $filter, $some, $every, $find, $findIndex, $flatMap, $reduce);

/** State of a resumable bottom-up merge sort (stable, like Array.prototype.sort). */
interface SortState {
  a: unknown[]; cmp: Cb; len: number; undef: number;
  src: unknown[]; dst: unknown[]; n: number;
  w: number; lo: number; mid: number; hi: number; i: number; j: number; k: number;
}

/**
 * `recv.sort(cmp)` with a comparator that may block. Like the native sort:
 * stable, undefined values last and never passed to `cmp`, holes after them.
 */
export function $sort(recv: any, ...args: unknown[]): unknown {
  if (rt.rf !== null) return resume();
  const tk = rt.tok === $sort ? $sort : null;
  rt.tok = null;
  const cmp = args[0];
  if (!Array.isArray(recv) || typeof cmp !== 'function') {
    rt.tok = null;
    return recv.sort(...args);
  }
  const len = recv.length;
  const vals: unknown[] = [];
  let undef = 0;
  for (let i = 0; i < len; i++) {
    if (!(i in recv)) continue;
    const v = recv[i];
    if (v === undefined) undef++;
    else vals.push(v);
  }
  const n = vals.length;
  const s: SortState = {
    a: recv, cmp: cmp as Cb, len, undef, src: vals, dst: new Array(n), n,
    w: 1, lo: 0, mid: Math.min(1, n), hi: Math.min(2, n), i: 0, j: Math.min(1, n), k: 0,
  };
  return sortLoop(s, undefined, false, tk);
}

function sortLoop(s: SortState, r: unknown, pending: boolean, tk: unknown): unknown {
  const n = s.n;
  while (s.w < n) {
    const src = s.src;
    const dst = s.dst;
    if (pending) {
      // NaN and negative/zero keep the left one first: stability
      if (+(r as number) > 0) dst[s.k++] = src[s.j++];
      else dst[s.k++] = src[s.i++];
      pending = false;
    }
    if (s.i < s.mid && s.j < s.hi) {
      rt.tok = s.cmp;
      r = s.cmp(src[s.i], src[s.j]);
      if (rt.u !== 0) {
        const rec: Frame = { f: $sort, pc: 0, up: null, s };
        if (r !== undefined) (r as Frame).up = rec;
        else rt.inner = rec;
        if (tk !== $sort) return rt.boundary(rec);
        return rec;
      }
      pending = true;
      continue;
    }
    while (s.i < s.mid) dst[s.k++] = src[s.i++];
    while (s.j < s.hi) dst[s.k++] = src[s.j++];
    s.lo += 2 * s.w;
    if (s.lo >= n) {
      // pass done: the merged runs are the source of the next pass, twice as wide
      s.src = dst;
      s.dst = src;
      s.w *= 2;
      s.lo = 0;
    }
    s.mid = Math.min(s.lo + s.w, n);
    s.hi = Math.min(s.lo + 2 * s.w, n);
    s.i = s.lo;
    s.j = s.mid;
    s.k = s.lo;
  }
  const a = s.a;
  const out = s.src;
  let p = 0;
  for (; p < n; p++) a[p] = out[p];
  for (let u = 0; u < s.undef; u++) a[p++] = undefined;
  for (; p < s.len; p++) delete a[p];
  return a;
}
