// Validation of a snapshot before anything is built: every field's type, every
// reference's target, function ids and fingerprints, resume points, local counts,
// prototype keys, and the tasklet/channel cross-links. Restore builds only after this
// passed, so a bad snapshot leaves the scheduler exactly as it was.
import { functionRegistry, factoryRegistry, valueCount, type FunctionEntry, type FactoryEntry } from '../compiled.js';
import { IS_STRING, IS_MAP, IS_SET } from '../iter.js';
import { builtinValue, classByName, errorClass, factoryFp, hasBuiltin, RUNTIME_FUNCTIONS, TYPED } from './builtins.js';
import { fail, type Meta } from './errors.js';
import { fromBase64 } from './base64.js';
import { hasPc } from './save-sched.js';
import { checkPacks } from './check-packs.js';
import { COLUMN, isRun, type PackLayout } from './pack.js';
import {
  FORMAT, VERSION, READS, SPECIAL_NUMBERS, PROTO_KEYS, HELPER_KEYS, HELPER_PC, STATES, MAX_ARGUMENTS, type SnapshotData,
} from './format.js';

export interface Checked {
  data: SnapshotData;
  /** Registry entry per function table index. */
  fns: FunctionEntry[];
  /** Registry entry per factory table index. */
  factories: FactoryEntry[];
  classes: Function[];
  /** Decoded ArrayBuffer contents per object index ("B" entries). */
  bytes: Map<number, Uint8Array>;
  /** version 3: the tasklet packs, checked (objs holds a pack number for each member) */
  packs: PackLayout | null;
  /** "F" and "L" entries in the order they can be made (each after what it is made from). */
  order: number[];
}

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
/** A short rendering of bad input for messages (which may be cyclic when not from JSON). */
function short(v: unknown): string {
  try {
    return String(JSON.stringify(v)).slice(0, 80);
  } catch {
    return Array.isArray(v) ? '<array>' : typeof v;
  }
}
/** IK_* | IS_* combinations an iterator entry may have (runtime/iter.ts). */
const ITER_KINDS = new Set([0, 1, 2, 4, 8, 9, 10, 12, 14]);
const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);

class Checker {
  loc = 'snapshot';
  /** Index of the entry being checked (-1: not in objs); the message names it. */
  cur = -1;
  readonly fns: FunctionEntry[] = [];
  readonly factories: FactoryEntry[] = [];
  readonly classes: Function[] = [];
  readonly bytes = new Map<number, Uint8Array>();
  packs: PackLayout | null = null;
  constructor(readonly d: SnapshotData) {}

  bad(code: string, what: string): never {
    return fail(code, `bad snapshot (${this.cur >= 0 ? `objs[${this.cur}]` : this.loc}): ${what}`);
  }

  tagOf(i: number): unknown {
    const e = this.d.objs[i];
    return typeof e === 'number' ? 'K' : e[0]; // a number: a tasklet in a pack
  }

  /** A value; `hole` allows the array-hole marker. */
  val(v: unknown, hole = false): void {
    if (v === null) return;
    switch (typeof v) {
      case 'string': case 'boolean': return;
      case 'number': if (v === v && v !== Infinity && v !== -Infinity) return; break;
      case 'object': {
        if (!Array.isArray(v)) break;
        const t = v[0];
        const a = v[1];
        if (v.length === 1 && (t === 0 || (t === 7 && hole))) return;
        if (v.length !== 2) break;
        if (t === 1 && isInt(a) && a >= 0 && a < this.d.objs.length) return;
        if (t === 2 && typeof a === 'string' && own(SPECIAL_NUMBERS, a)) return;
        if (t === 3 && typeof a === 'string' && /^-?\d{1,10000}$/.test(a)) return;
        if (t === 4 && typeof a === 'string' && hasBuiltin(a)) return;
        if (t === 5 && isInt(a) && a >= 0 && a < this.fns.length) return;
        if (t === 6 && typeof a === 'string') return;
        if (t === 4 && typeof a === 'string' && a[0] !== '@' && a.includes('#')) {
          this.bad('UNKNOWN_VALUE', `module value '${a}' is not loaded here (its module is not imported, the name changed, or it holds no object or function now)`);
        }
        if (t === 1 || t === 4 || t === 5) this.bad('BAD_REF', `reference ${short(v)} points nowhere`);
      }
    }
    this.bad('BAD_VALUE', `not a value: ${short(v)}`);
  }

  /**
   * Key/value pairs of a plain object: a key written [key, 1] is an accessor whose value is
   * [getter, setter], each absent ([0]), a closure ("F" entry) or a registered tasklet function.
   */
  plainPairs(e: unknown[]): void {
    if ((e.length - 1) % 2 !== 0) this.bad('BAD_VALUE', 'odd number of key/value items');
    for (let j = 1; j < e.length; j += 2) {
      const k = e[j];
      if (!Array.isArray(k)) {
        this.key(k, false);
        this.val(e[j + 1]);
        continue;
      }
      if (k.length !== 2 || k[1] !== 1) this.bad('BAD_VALUE', `a property key is not a string: ${short(k)}`);
      this.key(k[0], false);
      const pair = e[j + 1];
      if (!Array.isArray(pair) || pair.length !== 2) this.bad('BAD_VALUE', `accessor '${String(k[0])}' is not [getter, setter]`);
      for (const f of pair) {
        this.val(f);
        const fn = f as unknown[];
        const ok = (fn.length === 1 && fn[0] === 0) || fn[0] === 5 || (fn[0] === 1 && this.tagOf(fn[1] as number) === 'F');
        if (!ok) this.bad('BAD_VALUE', `accessor '${String(k[0])}': a getter or setter is not a function the snapshot made`);
      }
    }
  }

  /** An index of an object-table entry with tag `tag`. */
  idx(i: unknown, tag: string): number {
    if (!isInt(i) || i < 0 || i >= this.d.objs.length || this.tagOf(i) !== tag) this.bad('BAD_REF', `expected a reference to a "${tag}" entry`);
    return i;
  }

  key(k: unknown, wrapped: boolean): void {
    if (wrapped && Array.isArray(k) && k.length === 1) k = k[0];
    if (typeof k !== 'string') this.bad('BAD_VALUE', 'a property key is not a string');
    if (PROTO_KEYS.has(k)) this.bad('PROTO_KEY', `the key '${k}' is refused (prototype key)`);
  }

  pairs(e: unknown[], from: number, wrapped: boolean): void {
    if ((e.length - from) % 2 !== 0) this.bad('BAD_VALUE', 'odd number of key/value items');
    for (let j = from; j < e.length; j += 2) {
      this.key(e[j], wrapped);
      this.val(e[j + 1]);
    }
  }

  num(v: unknown): number {
    if (typeof v === 'number') return v;
    if (Array.isArray(v) && v.length === 2 && v[0] === 2 && typeof v[1] === 'string' && own(SPECIAL_NUMBERS, v[1])) return SPECIAL_NUMBERS[v[1]];
    return this.bad('BAD_VALUE', 'expected a number');
  }

  run(): Checked {
    const d = this.d;
    if (d === null || typeof d !== 'object' || Array.isArray(d)) this.bad('BAD_FORMAT', 'not a snapshot object');
    if (d.format !== FORMAT) this.bad('BAD_FORMAT', `format is not "${FORMAT}"`);
    if (!READS.includes(d.version)) this.bad('BAD_VERSION', `version ${String(d.version)} is not supported (this runtime reads version ${VERSION})`);
    if (typeof d.time !== 'number' || !Number.isFinite(d.time)) this.bad('BAD_FORMAT', 'time is not a number');
    for (const f of ['fns', 'classes', 'roots', 'objs'] as const) if (!Array.isArray(d[f])) this.bad('BAD_FORMAT', `${f} is not an array`);
    this.loc = 'fns';
    this.cur = -1;
    for (const f of d.fns) {
      if (!Array.isArray(f) || (f.length !== 2 && f.length !== 3) || typeof f[0] !== 'string' || typeof f[1] !== 'string') this.bad('BAD_FORMAT', 'a function entry is not [id, fingerprint, info?]');
      const e = functionRegistry.get(f[0]);
      if (e === undefined) {
        fail('UNKNOWN_FUNCTION', `cannot restore: no tasklet function with id '${f[0]}' is loaded`);
      }
      if (e.meta.fp !== f[1]) {
        fail('FINGERPRINT_MISMATCH', `cannot restore: function ${e.meta.name} (${f[0]}) has changed: the snapshot has fingerprint ${f[1]}, the loaded code has ${e.meta.fp}`);
      }
      this.fns.push(e);
    }
    this.loc = 'factories';
    const fs = d.factories === undefined && d.version === 1 ? [] : d.factories;
    if (!Array.isArray(fs)) this.bad('BAD_FORMAT', 'factories is not an array');
    for (const f of fs) {
      if (!Array.isArray(f) || (f.length !== 2 && f.length !== 3) || typeof f[0] !== 'string' || typeof f[1] !== 'string') this.bad('BAD_FORMAT', 'a factory entry is not [id, fingerprint, info?]');
      const e = factoryRegistry.get(f[0]);
      if (e === undefined) fail('UNKNOWN_FUNCTION', `cannot restore: no closure factory with id '${f[0]}' is loaded (the module that creates closure ${f[0].slice(f[0].lastIndexOf('#') + 1)} is not imported, or the code changed)`);
      const fp = factoryFp(e);
      if (fp !== f[1]) {
        fail('FINGERPRINT_MISMATCH', `cannot restore: closure ${e.meta.name} (${f[0]}) has changed: the snapshot has fingerprint ${f[1]}, the loaded code has ${fp}`);
      }
      this.factories.push(e);
    }
    this.loc = 'classes';
    for (const c of d.classes) {
      const cls = typeof c === 'string' ? classByName(c) : undefined;
      if (cls === undefined) fail('UNKNOWN_CLASS', `cannot restore: no class registered as '${String(c)}' (registerClass)`);
      this.classes.push(cls);
    }
    for (let i = 0; i < d.objs.length; i++) {
      this.cur = i;
      const e = d.objs[i];
      if (typeof e === 'number' && d.packs !== undefined) continue; // checkPacks() checks it
      if (!Array.isArray(e) || typeof e[0] !== 'string') this.bad('BAD_FORMAT', 'an object entry is not [tag, ...]');
    }
    if (d.packs !== undefined && d.version < 3) this.bad('BAD_PACK', `packs need version 3, the snapshot is version ${d.version}`);
    const packs = d.packs !== undefined ? checkPacks(this, d.objs, d.packs) : null;
    this.packs = packs;
    for (let i = 0; i < d.objs.length; i++) {
      this.cur = i;
      if (packs === null || packs.packOf[i] === -1) this.entry(i, d.objs[i]);
    }
    this.cur = -1;
    this.loc = 'roots';
    for (const r of d.roots) this.val(r);
    this.links();
    const order = this.closureOrder();
    return { data: d, fns: this.fns, factories: this.factories, classes: this.classes, bytes: this.bytes, packs, order };
  }

  entry(i: number, e: unknown[]): void {
    switch (e[0]) {
      case 'O': case 'N': return this.plainPairs(e);
      case 'C':
        if (!isInt(e[1]) || e[1] < 0 || e[1] >= this.classes.length) this.bad('BAD_REF', 'unknown class index');
        return this.pairs(e, 2, true);
      case 'E':
        if (typeof e[1] !== 'string') this.bad('BAD_VALUE', 'error class name');
        errorClass(e[1]);
        return this.pairs(e, 2, true);
      case 'A':
        for (let j = 1; j < e.length; j++) this.val(e[j], true);
        return;
      case 'G':
        if (e.length - 1 > MAX_ARGUMENTS) this.bad('BAD_VALUE', `an arguments object of more than ${MAX_ARGUMENTS} items`);
        for (let j = 1; j < e.length; j++) this.val(e[j]);
        return;
      case 'AX':
        if (!Array.isArray(e[1])) this.bad('BAD_VALUE', 'array items');
        for (const x of e[1]) this.val(x, true);
        return this.pairs(e, 2, false);
      case 'D':
        if (e.length !== 2) this.bad('BAD_VALUE', 'date');
        this.num(e[1]);
        return;
      case 'R':
        if (e.length !== 4 || typeof e[1] !== 'string' || typeof e[2] !== 'string') this.bad('BAD_VALUE', 'regexp');
        try {
          new RegExp(e[1], e[2]); // only compiled, never run
        } catch {
          this.bad('BAD_VALUE', 'invalid regular expression');
        }
        this.num(e[3]);
        return;
      case 'M':
        if ((e.length - 1) % 2 !== 0) this.bad('BAD_VALUE', 'odd map entries');
      // fall through
      case 'S':
        for (let j = 1; j < e.length; j++) this.val(e[j]);
        return;
      case 'B': {
        const b = e.length === 2 && typeof e[1] === 'string' ? fromBase64(e[1]) : null;
        if (b === null) this.bad('BAD_VALUE', 'buffer contents are not base64');
        this.bytes.set(i, b);
        return;
      }
      case 'T': return this.view(e);
      case 'X':
        if (e.length !== 2) this.bad('BAD_VALUE', 'pending error');
        return this.val(e[1]);
      case 'K': return this.tasklet(e);
      case 'H': return this.channel(e);
      case 'F': return this.closure(e);
      case 'L': return this.localInstance(e);
      case 'I': return this.iterator(e);
    }
    this.bad('BAD_FORMAT', `unknown entry tag ${short(e[0])}`);
  }

  /**
   * ["F", factoryIndex, env..., value...]: as many environments as the factory takes, each a
   * plain object, then its values (an arrow's `this`: anything; a class's superclass: a class).
   */
  closure(e: unknown[]): void {
    const fi = e[1];
    if (!isInt(fi) || fi < 0 || fi >= this.factories.length) this.bad('BAD_REF', 'unknown factory index');
    const f = this.factories[fi];
    const n = f.make.length;
    // one more item: the properties assigned to the function, a reference to an "N" entry
    const p = e[2 + n];
    const props = e.length === 3 + n && Array.isArray(p) && p.length === 2 && p[0] === 1 && isInt(p[1]) && p[1] >= 0 && p[1] < this.d.objs.length && this.tagOf(p[1]) === 'N';
    if (e.length !== 2 + n && !props) this.bad('BAD_CLOSURE', `closure ${f.meta.name} (${f.meta.id}) takes ${n} environment object${n === 1 ? '' : 's'}, the entry has ${e.length - 2} (one more may only be a reference to an "N" entry of its properties)`);
    const values = valueCount(f.meta);
    for (let j = 2; j < 2 + n; j++) {
      const v = e[j];
      if (j >= 2 + n - values) {
        this.val(v);
        if (f.meta.cls === 1) this.superclass(v, f.meta.name);
        continue;
      }
      if (!Array.isArray(v) || v.length !== 2 || v[0] !== 1) this.bad('BAD_CLOSURE', `environment ${j - 2} of closure ${f.meta.name} is not a reference to an object`);
      this.idx(v[1], 'O');
    }
  }

  /**
   * Is `v` (already checked as a value) a class or constructor: a class made by a factory,
   * a registered tasklet function or a named function whose `prototype` is an object?
   */
  isConstructor(v: unknown): boolean {
    if (!Array.isArray(v)) return false;
    if (v[0] === 1) return this.tagOf(v[1] as number) === 'F' && this.factories[this.d.objs[v[1] as number][1] as number]?.meta.cls === 1;
    if (v[0] !== 4 && v[0] !== 5) return false;
    const fn = v[0] === 4 ? builtinValue(v[1] as string) : this.fns[v[1] as number].fn;
    const proto = typeof fn === 'function' ? (fn as { prototype?: unknown }).prototype : undefined;
    return proto !== null && typeof proto === 'object';
  }

  /** What a restored class extends must be a class (extending it runs no code), or null. */
  superclass(v: unknown, name: string): void {
    if (v !== null && !this.isConstructor(v)) this.bad('BAD_CLOSURE', `the superclass of class ${name} is not a class`);
  }

  /** ["L", class, key, value, ...]: an instance of a class written in a tasklet function (or of a named constructor). */
  localInstance(e: unknown[]): void {
    if (e.length < 2) this.bad('BAD_VALUE', 'an instance without its class');
    this.val(e[1]);
    if (!this.isConstructor(e[1])) this.bad('BAD_REF', 'the class of an instance is not a class or constructor');
    this.pairs(e, 2, true);
  }

  /**
   * "F" and "L" entries in an order where each comes after the closures and instances it is
   * made from (an arrow's `this`, a class's superclass, an instance's class); a cycle is
   * refused. Iterative: a long chain must not need a deep stack.
   */
  closureOrder(): number[] {
    const objs = this.d.objs;
    const made = (i: number) => {
      const e = objs[i];
      return typeof e !== 'number' && (e[0] === 'F' || e[0] === 'L'); // a number: a packed tasklet
    };
    const deps = (i: number): number[] => {
      const e = objs[i];
      if (e[0] === 'L') return (e[1] as unknown[])[0] === 1 ? [(e[1] as number[])[1]] : [];
      const out: number[] = [];
      for (let j = 2; j < e.length; j++) {
        const v = e[j];
        if (Array.isArray(v) && v[0] === 1 && made(v[1] as number)) out.push(v[1] as number);
      }
      return out;
    };
    const state = new Uint8Array(objs.length); // 1 on the way, 2 placed
    const order: number[] = [];
    for (let r = 0; r < objs.length; r++) {
      if (state[r] !== 0 || !made(r)) continue;
      state[r] = 1;
      const stack: Array<{ i: number; deps: number[]; next: number }> = [{ i: r, deps: deps(r), next: 0 }];
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        if (top.next < top.deps.length) {
          const d = top.deps[top.next++];
          this.cur = d;
          if (state[d] === 1) this.bad('BAD_CLOSURE', 'closures and instances made from each other in a cycle');
          if (state[d] === 0) {
            state[d] = 1;
            stack.push({ i: d, deps: deps(d), next: 0 });
          }
        } else {
          state[top.i] = 2;
          order.push(top.i);
          stack.pop();
        }
      }
    }
    this.cur = -1;
    return order;
  }

  /** ["I", kind, source, position]: a saveable for-of iterator (runtime/iter.ts). */
  iterator(e: unknown[]): void {
    const [, k, src, pos] = e;
    if (e.length !== 4 || !ITER_KINDS.has(k as number)) this.bad('BAD_VALUE', 'iterator kind');
    if (!isInt(pos) || pos < 0) this.bad('BAD_VALUE', 'iterator position');
    if (Array.isArray(src) && src.length === 1 && src[0] === 0) return; // finished
    let limit = 2 ** 53;
    if (k === IS_STRING) {
      if (typeof src !== 'string') this.bad('BAD_VALUE', 'iterator source is not a string');
      limit = src.length;
    } else {
      if (!Array.isArray(src) || src.length !== 2 || src[0] !== 1) this.bad('BAD_VALUE', 'iterator source is not a reference');
      const i = src[1];
      const want = (k as number) >= IS_SET ? ['S'] : (k as number) >= IS_MAP ? ['M'] : ['A', 'AX', 'T', 'O', 'N', 'C'];
      if (!isInt(i) || i < 0 || i >= this.d.objs.length || !want.includes(this.tagOf(i) as string)) this.bad('BAD_REF', 'iterator source of the wrong kind');
      const n = this.d.objs[i].length - 1;
      if ((k as number) >= IS_MAP) limit = (k as number) >= IS_SET ? n : n / 2;
    }
    if (pos > limit) this.bad('BAD_VALUE', `iterator position ${pos} is past the end (${limit})`);
  }

  /** A reference to a closure whose factory makes a tasklet function: its compiled metadata. */
  closureMeta(v: unknown, what: string): Meta {
    if (!Array.isArray(v) || v.length !== 2 || v[0] !== 1) return this.bad('BAD_REF', `${what} is not a function`);
    const i = this.idx(v[1], 'F');
    const f = this.factories[this.d.objs[i][1] as number];
    if (f === undefined || f.fn === undefined || f.meta.cls === 1) return this.bad('BAD_FRAME', `${what}: closure ${f?.meta.name ?? '?'} is not a tasklet function`);
    return f.fn as Meta;
  }

  view(e: unknown[]): void {
    const [, name, buf, off, len] = e;
    if (e.length !== 5 || typeof name !== 'string' || (name !== 'DataView' && !own(TYPED, name))) this.bad('BAD_VALUE', 'typed array');
    const size = name === 'DataView' ? 1 : TYPED[name].BYTES_PER_ELEMENT;
    const b = this.d.objs[this.idx(buf, 'B')][1] as string;
    const bytes = (b.length / 4) * 3 - (b.endsWith('==') ? 2 : b.endsWith('=') ? 1 : 0);
    if (!isInt(off) || !isInt(len) || off < 0 || len < 0 || off % size !== 0 || off + len * size > bytes) this.bad('BAD_VALUE', 'typed array out of its buffer');
  }

  tasklet(e: unknown[]): void {
    const state = e[1] as (typeof STATES)[number];
    if (!STATES.includes(state)) this.bad('BAD_TASKLET', `unknown tasklet state ${short(e[1])}`);
    if (!isInt(e[2]) || e[2] < 0 || e[2] > 3) this.bad('BAD_TASKLET', 'tasklet flags');
    const n = { dead: 3, bound: 4, new: 5, done: 5, paused: 5, runnable: 5, blocked: 9, sleep: 5, wait: 4, join: 4, select: 6 }[state];
    if (e.length !== n) this.bad('BAD_TASKLET', `a ${state} tasklet entry has ${n} items`);
    switch (state) {
      case 'dead': return;
      case 'bound': return this.fnValue(e[3]);
      case 'new':
        this.fnValue(e[3]);
        if (!Array.isArray(e[4]) || e[4][0] !== 1) this.bad('BAD_TASKLET', 'arguments are not an array');
        this.val(e[4]);
        this.idx((e[4] as unknown[])[1], 'A');
        return;
      case 'done':
        this.val(e[3]);
        if (e[4] !== 0 && e[4] !== 1) this.bad('BAD_TASKLET', 'error flag');
        return;
    }
    this.frames(e[3], state === 'wait' || state === 'join');
    if (state === 'paused' || state === 'runnable') return this.val(e[4]);
    if (state === 'sleep') return void this.num(e[4]);
    if (state === 'blocked') {
      this.val(e[4]);
      this.idx(e[5], 'H');
      if (e[6] !== 1 && e[6] !== -1) this.bad('BAD_TASKLET', 'direction');
      if (e[7] !== 0 && e[7] !== 1) this.bad('BAD_TASKLET', 'iteration flag');
      if (e[8] !== null) this.num(e[8]);
      return;
    }
    if (state === 'select') {
      if (!Array.isArray(e[4]) || e[4].length === 0) this.bad('BAD_TASKLET', 'select cases');
      for (const c of e[4]) {
        if (!Array.isArray(c) || c.length !== 3 || (c[1] !== 1 && c[1] !== -1)) this.bad('BAD_TASKLET', 'select case');
        this.idx(c[0], 'H');
        this.val(c[2]);
      }
      if (e[5] !== null) this.num(e[5]);
    }
  }

  fnValue(v: unknown): void {
    this.val(v);
    const ok = Array.isArray(v) && (v[0] === 5 || (v[0] === 4 && RUNTIME_FUNCTIONS.has(v[1] as string)) || (v[0] === 1 && this.tagOf(v[1] as number) === 'F'));
    if (!ok) this.bad('BAD_TASKLET', 'a tasklet function is not a registered function');
  }

  frames(fs: unknown, retry: boolean): void {
    if (!Array.isArray(fs) || fs.length === 0) this.bad('BAD_TASKLET', 'frames');
    for (let j = 0; j < fs.length; j++) {
      const f = fs[j];
      if (!Array.isArray(f) || f.length < 2) this.bad('BAD_FRAME', `frame ${j} is not [function, pc, ...locals]`);
      const [fn, pc] = f;
      if (typeof fn === 'string') {
        if (!own(HELPER_KEYS, fn)) this.bad('UNKNOWN_FUNCTION', `frame ${j}: unknown runtime helper '${fn}'`);
        if (pc !== (HELPER_PC[fn] ?? 0)) this.bad('BAD_PC', `frame ${j}: resume point ${String(pc)} of ${fn}`);
        if (f.length !== 2 + HELPER_KEYS[fn].length) this.bad('BAD_LOCALS', `frame ${j}: ${fn} saves ${HELPER_KEYS[fn].length} fields`);
        if (retry && j === 0) this.bad('NOT_RESTORABLE', 'wait()/join() must be called from a tasklet function');
      } else {
        let m: Meta;
        if (Array.isArray(fn)) m = this.closureMeta(fn, `frame ${j}`);
        else {
          if (!isInt(fn) || fn < 0 || fn >= this.fns.length) this.bad('BAD_REF', `frame ${j}: unknown function index`);
          m = this.fns[fn].meta as Meta;
        }
        if (!isInt(pc) || pc < 0 || pc >= m.states || !hasPc(m, pc)) this.bad('BAD_PC', `frame ${j}: ${String(pc)} is not a resume point of ${m.name} (${m.states} states)`);
        if (retry && j === 0 && !hasPc(m, pc - 1)) this.bad('BAD_PC', `frame ${j}: no retry entry before resume point ${pc}`);
        const L = m.locals.length;
        // up to L slots (trailing undefined ones may be left out), or exactly L + 1 with `this`;
        // metadata with `th` says which of the two the function's records are
        const th = (m as Meta & { th?: unknown }).th;
        if (f.length > 3 + L) this.bad('BAD_LOCALS', `frame ${j}: ${m.name} has ${L} locals, the frame holds ${f.length - 2}`);
        if (th === 1 && f.length !== 3 + L) this.bad('BAD_LOCALS', `frame ${j}: ${m.name} saves ${L} locals and \`this\`, the frame holds ${f.length - 2} slots`);
        if (th === 0 && f.length === 3 + L) this.bad('BAD_LOCALS', `frame ${j}: ${m.name} does not use \`this\`, the frame holds ${f.length - 2} slots for ${L} locals`);
      }
      for (let k = 2; k < f.length; k++) this.val(f[k]);
      if (typeof fn === 'string' && HELPER_KEYS[fn] === HELPER_KEYS.$map) {
        const cb = f[4];
        const cbOk = Array.isArray(cb) && (cb[0] === 5 || (cb[0] === 1 && this.tagOf(cb[1] as number) === 'F'));
        if (!isInt(f[2]) || f[2] < 0 || f[2] > 8 || !cbOk) this.bad('BAD_FRAME', `frame ${j}: array helper state`);
        this.idx((f[3] as unknown[])?.[1], 'A');
      }
    }
  }

  channel(e: unknown[]): void {
    const [, fl, cap, buf, queue, name] = e;
    if ((e.length !== 5 && !(e.length === 6 && typeof name === 'string')) || !isInt(fl) || fl < 0 || fl > 15 || (fl & 3) === 3) this.bad('BAD_CHANNEL', 'channel flags');
    if (!isInt(cap) || cap < 0 || !Array.isArray(buf) || !Array.isArray(queue)) this.bad('BAD_CHANNEL', 'channel fields');
    if (buf.length > cap) this.bad('BAD_CHANNEL', 'more buffered values than the capacity');
    for (const v of buf) this.val(v);
    let dir = 0;
    for (const q of queue) {
      if (isRun(q)) {
        // ["run", start, count, direction] (version 3): tasklets start .. start + count - 1 in order
        const [, start, count] = q;
        if (this.d.version < 3 || q.length !== 4 || !isInt(start) || !isInt(count) || start < 0 || count < 1 || start + count > this.d.objs.length) this.bad('BAD_CHANNEL', 'queue run');
        for (let i = start; i < start + count; i++) this.idx(i, 'K');
      } else {
        if (!Array.isArray(q) || (q.length !== 2 && q.length !== 3)) this.bad('BAD_CHANNEL', 'queue entry');
        this.idx(q[0], 'K');
      }
      const d = isRun(q) ? q[3] : q[1];
      if (d !== 1 && d !== -1) this.bad('BAD_CHANNEL', 'queue direction');
      if (dir !== 0 && d !== dir) this.bad('BAD_CHANNEL', 'senders and receivers in one queue');
      dir = d;
    }
    if (dir < 0 && buf.length > 0) this.bad('BAD_CHANNEL', 'receivers wait although values are buffered');
    if (dir > 0 && buf.length < cap) this.bad('BAD_CHANNEL', 'senders wait although the buffer has room');
  }

  /**
   * Entry `i`, or for a packed tasklet a view of the items the links check reads (state,
   * channel, direction): the template with the channel slot filled in, not a copy per member.
   */
  private entryView(i: number): unknown[] {
    const e = this.d.objs[i];
    if (typeof e !== 'number' || this.packs === null) return e;
    const p = this.packs.packs[e];
    const ch = p.template[5];
    if (!Array.isArray(ch) || ch[0] !== COLUMN) return p.template;
    this.linkView[1] = p.template[1];
    this.linkView[5] = p.cols[ch[1] as number][this.packs.memberOf[i]];
    this.linkView[6] = p.template[6];
    return this.linkView;
  }
  private readonly linkView: unknown[] = ['K', '', 0, null, null, 0, 0, 0, null];

  /** Every blocked tasklet is in its channel's queue once; every select case once. */
  links(): void {
    const objs = this.d.objs;
    const queued = new Uint8Array(objs.length); // blocked tasklets seen in a queue
    const cases = new Map<number, Uint8Array>(); // select tasklet -> its cases seen
    for (let c = 0; c < objs.length; c++) {
      const h = objs[c];
      if (typeof h === 'number' || h[0] !== 'H') continue; // a number: a packed tasklet
      this.cur = c;
      const blockedHere = (i: number, d: unknown) => {
        const t = this.entryView(i);
        if (t[1] !== 'blocked' || t[5] !== c || t[6] !== d) this.bad('BAD_CHANNEL', `queued tasklet objs[${i}] is not blocked on this channel`);
        if (queued[i]++ !== 0) this.bad('BAD_CHANNEL', `tasklet objs[${i}] is queued twice`);
      };
      for (const q of objs[c][4] as unknown[][]) {
        if (isRun(q)) {
          for (let i = q[1] as number; i < (q[1] as number) + (q[2] as number); i++) blockedHere(i, q[3]);
          continue;
        }
        if (q.length === 2) {
          blockedHere(q[0] as number, q[1]);
          continue;
        }
        const t = this.entryView(q[0] as number);
        const cs = t[4] as unknown[][];
        if (t[1] !== 'select' || !isInt(q[2]) || q[2] < 0 || q[2] >= cs.length || cs[q[2]][0] !== c || cs[q[2]][1] !== q[1]) {
          this.bad('BAD_CHANNEL', `queued select case of objs[${q[0]}] does not match`);
        }
        let seen = cases.get(q[0] as number);
        if (seen === undefined) cases.set(q[0] as number, (seen = new Uint8Array(cs.length)));
        if (seen[q[2] as number]++ !== 0) this.bad('BAD_CHANNEL', `select case ${q[2]} of objs[${q[0]}] is queued twice`);
      }
    }
    for (let i = 0; i < objs.length; i++) {
      const t = this.entryView(i);
      if (t[0] !== 'K') continue;
      this.cur = i;
      if (t[1] === 'blocked' && queued[i] === 0) this.bad('BAD_CHANNEL', 'a blocked tasklet is not in its channel queue');
      if (t[1] === 'select') {
        const seen = cases.get(i);
        if (seen === undefined || seen.includes(0)) this.bad('BAD_CHANNEL', 'a select case is not in its channel queue');
      }
    }
  }
}

export function check(data: unknown): Checked {
  return new Checker(data as SnapshotData).run();
}
