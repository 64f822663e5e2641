// The serializer's value side: every non-primitive gets one slot in an object table
// (identity, sharing and cycles for free) and is encoded from a work queue rather than
// by recursion, so a 100,000-long linked list needs no deep JS stack. Tasklets and
// channels are encoded by save-sched.ts.
import { rt, Bomb } from '../rt.js';
import { Tasklet } from '../tasklet.js';
import { Channel } from '../channel.js';
import { functionRegistry, closureInfo, factoryRegistry, valueRegistry, unsaveableWhy, type FunctionEntry, type FactoryEntry } from '../compiled.js';
import { SlIter } from '../iter.js';
import { factoryFp, isModuleValue } from './builtins.js';
import { builtinName, classNameOf, errorName, TYPED } from './builtins.js';
import { fail, where, type Meta } from './errors.js';
import { toBase64 } from './base64.js';
import type { QNode } from '../queue.js';
import {
  V_UNDEF, V_REF, V_NUM, V_BIGINT, V_BUILTIN, V_FN, V_SYMFOR, V_HOLE, PROTO_KEYS, MAX_ARGUMENTS,
  type FnInfo,
} from './format.js';
import { encodeTasklet, encodeChannel } from './save-sched.js';
import { PackBuilder, type PackGroup } from './pack-build.js';

const UNDEF = [V_UNDEF];
const HOLE = [V_HOLE];

/** Where a value was found: a local of a saved frame (for error messages). */
interface Ctx {
  meta: Meta | null;
  name: string;
  pc: number;
  local: string;
}

const isProxy: (o: object) => boolean = (() => {
  try {
    const util = (globalThis as any).process?.getBuiltinModule?.('node:util');
    if (typeof util?.types?.isProxy === 'function') return util.types.isProxy as (o: object) => boolean;
  } catch {
    // not Node: proxies cannot be detected
  }
  return () => false;
})();

export class Saver {
  readonly ids = new Map<object, number>();
  readonly queue: object[] = [];
  readonly objs: unknown[][] = [];
  /** For each object: the object it was first found in (-1: a root or a frame local) and how. */
  private readonly parent: number[] = [];
  private readonly via: Array<string | Ctx> = [];
  readonly fns: Array<[string, string, FnInfo]> = [];
  /** The encoding of undefined (one shared array, so frames can compare against it). */
  readonly undef = UNDEF;
  /** Channel of each waiter seen so far (save-sched.ts channelOf). */
  readonly chanOf = new Map<object, QNode>();
  /** The waiter channelOf() found last, and its channel (waiters come in queue order). */
  lastWaiter: object | null = null;
  lastChannel: QNode | null = null;
  /** Tasklets filed by shape (pack.ts), turned into packs when the table is complete. */
  readonly packs = new PackBuilder();
  /** The pack the last tasklet went into (the next one most likely goes there too). */
  lastPack: PackGroup | null = null;
  /** The object val() encoded last outside a root's top level, and its encoding. */
  private lastObj: unknown = undefined;
  private lastEnc: unknown = undefined;
  /** [V_REF, i] per object index, made once: a million locals holding one channel share it. */
  private readonly refVals: Array<unknown[] | undefined> = [];
  private readonly fnIds = new Map<string, number>();
  readonly classes: string[] = [];
  private readonly classIds = new Map<string, number>();
  private readonly byFn = new Map<Function, FunctionEntry>();
  /** Factories of the closures saved: [id, fingerprint, info?] (docs/snapshot-format.md). */
  readonly factories: Array<[string, string, FnInfo?]> = [];
  private readonly factoryIds = new Map<string, number>();
  /** Module-level values (registerValue) by value: saved by reference. Built on first use. */
  private modVals: Map<unknown, string> | null = null;
  /** Channels held by module variables, by the variable's id. */
  private modChans: Map<unknown, string> | null = null;
  /** Set while a root is encoded: a root is saved by value even when it is a module value. */
  private root = false;
  // the slot being encoded now
  private curParent = -1;
  private curVia = 'root';
  private ctxMeta: Meta | null = null;
  private ctxName = '';
  private ctxPc = 0;
  private ctxLocal = '';

  constructor() {
    for (const e of functionRegistry.values()) this.byFn.set(e.fn, e);
  }

  /** Registry entry of a registered tasklet function, by the function object. */
  entryOf(fn: unknown): FunctionEntry | undefined {
    return this.byFn.get(fn as Function);
  }

  /** Index of closure factory `f` in the snapshot's factory table. */
  factoryIndex(f: FactoryEntry): number {
    let i = this.factoryIds.get(f.meta.id);
    if (i === undefined) {
      const m = f.fn as Partial<Meta> | undefined;
      const row: [string, string, FnInfo?] = [f.meta.id, factoryFp(f)];
      // a tasklet closure: its locals and resume points, for people (restore reads id and fingerprint)
      if (m !== undefined) row.push({ name: f.meta.name, file: f.meta.file, line: f.meta.line, locals: (m.locals ?? []).map((l) => l[1]), pcs: m.pcs ?? [] });
      i = this.factories.push(row) - 1;
      this.factoryIds.set(f.meta.id, i);
    }
    return i;
  }

  /** The id of a module-level value saved by reference (registerValue), if `v` is one. */
  moduleValue(v: unknown): string | undefined {
    if (this.modVals === null) this.scanModules();
    if (this.root) return undefined;
    return (this.modVals as Map<unknown, string>).get(v);
  }

  /** The id of a module variable holding channel `ch`, if any. */
  channelName(ch: object): string | undefined {
    if (valueRegistry.size === 0) return undefined;
    if (this.modChans === null) this.scanModules();
    return (this.modChans as Map<unknown, string>).get(ch);
  }

  private scanModules(): void {
    this.modVals = new Map();
    this.modChans = new Map();
    for (const [id, get] of valueRegistry) {
      let x: unknown;
      try {
        x = get();
      } catch {
        continue; // a const still in its temporal dead zone
      }
      if (isModuleValue(x)) {
        if (!this.modVals.has(x)) this.modVals.set(x, id);
      } else if (x instanceof Channel && !this.modChans.has(x)) this.modChans.set(x, id);
    }
  }

  /** A root of snapshot(): by value at its top level, even when it is a module value. */
  rootVal(v: unknown): unknown {
    this.root = true;
    try {
      return this.val(v);
    } finally {
      this.root = false;
    }
  }

  /** Index of function `meta.id` in the snapshot's function table. */
  fnIndex(meta: FunctionEntry['meta']): number {
    let i = this.fnIds.get(meta.id);
    if (i === undefined) {
      // The third item is for people (stackless inspect): restore reads only id and fingerprint.
      const m = meta as Partial<Meta>;
      const info = { name: meta.name, file: meta.file, line: meta.line, locals: (m.locals ?? []).map((l) => l[1]), pcs: m.pcs ?? [] };
      i = this.fns.push([meta.id, meta.fp, info]) - 1;
      this.fnIds.set(meta.id, i);
    }
    return i;
  }

  /** Sets the context "local `local` of a frame" for values encoded next. */
  inFrame(meta: Meta | null, name: string, pc: number, local: string): void {
    this.ctxMeta = meta;
    this.ctxName = name;
    this.ctxPc = pc;
    this.ctxLocal = local;
  }
  /** Sets only the local's name, after inFrame() for another local of the same frame. */
  inLocal(local: string): void {
    this.ctxLocal = local;
  }
  outOfFrame(): void {
    this.ctxName = '';
    this.ctxMeta = null;
  }
  at(key: string): void {
    this.curVia = key;
  }

  /** Human description of the slot being encoded, or of object `i`'s slot. */
  here(i = -2): string {
    const path: string[] = [];
    let via: string | Ctx;
    if (i === -2) {
      if (this.ctxName !== '') return describeCtx({ meta: this.ctxMeta, name: this.ctxName, pc: this.ctxPc, local: this.ctxLocal }, path);
      if (this.curParent < 0) return this.curVia;
      path.push(this.curVia);
      i = this.curParent;
    }
    for (;;) {
      via = this.via[i];
      if (typeof via !== 'string') return describeCtx(via, path);
      path.unshift(via);
      i = this.parent[i];
      if (i < 0) return path.join('');
    }
  }

  ref(o: object): number {
    let i = this.ids.get(o);
    if (i === undefined) {
      i = this.queue.push(o) - 1;
      this.ids.set(o, i);
      this.refVals.push(undefined); // kept as long as the table, so it stays a dense array
      this.parent.push(this.curParent);
      if (this.ctxName !== '') {
        this.parent[i] = -1;
        this.via.push({ meta: this.ctxMeta, name: this.ctxName, pc: this.ctxPc, local: this.ctxLocal });
      } else this.via.push(this.curVia);
    }
    return i;
  }

  val(v: unknown): unknown {
    switch (typeof v) {
      case 'number':
        if (v !== v) return [V_NUM, 'NaN'];
        if (v === Infinity) return [V_NUM, 'Infinity'];
        if (v === -Infinity) return [V_NUM, '-Infinity'];
        if (v === 0 && 1 / v < 0) return [V_NUM, '-0'];
        return v;
      case 'string':
      case 'boolean':
        return v;
      case 'undefined':
        return UNDEF;
      case 'bigint':
        return [V_BIGINT, v.toString()];
      case 'symbol': {
        const key = Symbol.keyFor(v);
        if (key !== undefined) return [V_SYMFOR, key];
        const name = builtinName(v);
        if (name !== undefined) return [V_BUILTIN, name];
        return fail('UNIQUE_SYMBOL', `cannot save ${this.here()}: a unique symbol (${String(v)}); only Symbol.for() and well-known symbols can be saved`);
      }
      case 'function':
        return this.fnVal(v);
      default: {
        if (v === null) return null;
        // the object encoded last (a million locals holding one channel): its encoding again
        if (v === this.lastObj && !this.root) return this.lastEnc;
        const name = builtinName(v) ?? (valueRegistry.size !== 0 ? this.moduleValue(v) : undefined);
        let enc: unknown;
        if (name !== undefined) enc = [V_BUILTIN, name];
        else {
          const i = this.ref(v as object);
          enc = this.refVals[i] ?? (this.refVals[i] = [V_REF, i]);
        }
        if (!this.root) {
          this.lastObj = v;
          this.lastEnc = enc;
        }
        return enc;
      }
    }
  }

  private fnVal(f: Function): unknown {
    const name = builtinName(f);
    if (name !== undefined) return [V_BUILTIN, name];
    const e = this.byFn.get(f);
    if (e !== undefined) return [V_FN, this.fnIndex(e.meta)];
    // a closure made through a registered factory: an object entry (identity and sharing kept)
    if (closureInfo.has(f)) return [V_REF, this.ref(f)];
    const mod = valueRegistry.size !== 0 ? this.moduleValue(f) : undefined;
    if (mod !== undefined) return [V_BUILTIN, mod];
    const src = Function.prototype.toString.call(f);
    const label = f.name ? `function ${f.name}` : 'an anonymous function';
    if (f.name.startsWith('bound ')) fail('BOUND_FUNCTION', `cannot save ${this.here()}: ${label} is a bound function`);
    if (src.endsWith('{ [native code] }')) fail('NATIVE_FUNCTION', `cannot save ${this.here()}: ${label} is a native function`);
    const why = unsaveableWhy.get(f);
    if (why !== undefined) fail('UNSUPPORTED_CLOSURE', `cannot save ${this.here()}: ${label} is a closure the compiler could not re-create: ${why}`);
    return fail(
      'UNSUPPORTED_CLOSURE',
      `cannot save ${this.here()}: ${label} is a closure the compiler could not re-create ` +
        `(it captures something other than module-level names and locals of tasklet functions, ` +
        `or it was created outside a tasklet function and is not a module-level declaration)`,
    );
  }

  /** ["F", factoryIndex, env...] for a closure made through a registered factory. */
  private closureEntry(f: Function): unknown[] {
    const info = closureInfo.get(f)!;
    const entry = factoryRegistry.get(info.meta.id);
    if (entry === undefined || entry.meta !== info.meta) {
      fail('UNSUPPORTED_CLOSURE', `cannot save ${this.here()}: the factory of closure ${info.meta.name} (${info.meta.id}) is no longer registered (its module was reloaded)`);
    }
    const out: unknown[] = ['F', this.factoryIndex(entry)];
    for (let i = 0; i < info.envs.length; i++) {
      this.at(`.<environment ${i}>`);
      out.push(this.val(info.envs[i]));
    }
    // properties assigned to the function or class (`Cls.count = 0`): the factory makes it
    // again without them, so they travel beside it (string keys: the runtime marks compiled
    // functions under symbols of its own, which the factory sets again)
    const keys = Object.keys(f);
    if (keys.length > 0) {
      const props = Object.create(null) as Record<string, unknown>;
      for (const k of keys) props[k] = (f as unknown as Record<string, unknown>)[k];
      this.at('.<properties>');
      out.push(this.val(props));
    }
    return out;
  }

  /** Encodes every queued object (the queue grows while this runs). */
  drain(): void {
    for (let i = this.objs.length; i < this.queue.length; i++) {
      this.curParent = i;
      this.curVia = '';
      this.outOfFrame();
      this.objs.push(this.encode(this.queue[i]));
    }
    this.curParent = -1;
  }

  private encode(o: object): unknown[] {
    if (o instanceof Tasklet) return encodeTasklet(this, o); // first: a million of them is common
    if (typeof o === 'function') return this.closureEntry(o);
    if (o instanceof SlIter) return this.iterEntry(o);
    if (o instanceof Channel) return encodeChannel(this, o);
    if (o instanceof Bomb) {
      this.at('(pending error)');
      return ['X', this.val(o.e)];
    }
    if (isProxy(o)) fail('UNSUPPORTED_VALUE', `cannot save ${this.here()}: a Proxy`);
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype) return isArguments(o) ? this.argumentsEntry(o as IArguments) : this.props(o, ['O'], false);
    if (proto === null) return this.props(o, ['N'], false);
    if (proto === Array.prototype && Array.isArray(o)) return this.array(o as unknown[]);
    if (proto === Date.prototype) return ['D', this.val((o as Date).getTime())];
    if (proto === RegExp.prototype) {
      const r = o as RegExp;
      return ['R', r.source, r.flags, this.val(r.lastIndex)];
    }
    if (proto === Map.prototype) {
      const out: unknown[] = ['M'];
      let k = 0;
      for (const [key, value] of o as Map<unknown, unknown>) {
        this.at(`.<key ${k}>`);
        out.push(this.val(key));
        this.at(`.<value ${k++}>`);
        out.push(this.val(value));
      }
      return out;
    }
    if (proto === Set.prototype) {
      const out: unknown[] = ['S'];
      let k = 0;
      for (const value of o as Set<unknown>) {
        this.at(`.<item ${k++}>`);
        out.push(this.val(value));
      }
      return out;
    }
    if (proto === ArrayBuffer.prototype) return ['B', toBase64(new Uint8Array(o as ArrayBuffer))];
    if (ArrayBuffer.isView(o)) {
      const name = proto === DataView.prototype ? 'DataView' : typedName(proto);
      if (name === undefined) fail('UNREGISTERED_CLASS', `cannot save ${this.here()}: ${unsupportedWhat(o, proto)}`);
      if (!(o.buffer instanceof ArrayBuffer)) fail('UNSUPPORTED_VALUE', `cannot save ${this.here()}: a view on a SharedArrayBuffer`);
      const len = o instanceof DataView ? o.byteLength : (o as unknown as { length: number }).length;
      return ['T', name, this.ref(o.buffer), o.byteOffset, len];
    }
    const cls = classNameOf(proto);
    if (cls !== undefined) {
      let ci = this.classIds.get(cls);
      if (ci === undefined) this.classIds.set(cls, (ci = this.classes.push(cls) - 1));
      return this.props(o, ['C', ci], true);
    }
    const ctor = constructorOf(proto);
    if (ctor !== undefined && (closureInfo.get(ctor)?.meta.cls === 1 || this.namedConstructor(ctor))) return this.localInstance(o, ctor);
    const err = errorName(proto);
    if (err !== undefined) return this.props(o, ['E', err], true);
    return fail(unsupportedCode(o), `cannot save ${this.here()}: ${unsupportedWhat(o, proto)}`);
  }

  /**
   * Own properties as key, value pairs. With `all`, non-enumerable ones too (Error's
   * message and stack), their key saved as [key]; otherwise those are refused.
   */
  private props(o: object, out: unknown[], all: boolean): unknown[] {
    if (Object.getOwnPropertySymbols(o).length !== 0) fail('SYMBOL_KEY', `cannot save ${this.here()}: an object with symbol keys`);
    const keys = all ? Object.getOwnPropertyNames(o) : Object.keys(o);
    if (!all && Object.getOwnPropertyNames(o).length !== keys.length) {
      fail('UNSUPPORTED_VALUE', `cannot save ${this.here()}: an object with non-enumerable properties`);
    }
    for (const k of keys) {
      this.at('.' + k);
      if (PROTO_KEYS.has(k)) fail('PROTO_KEY', `cannot save ${this.here()}: the key '${k}' is refused (prototype key)`);
      const d = Object.getOwnPropertyDescriptor(o, k) as PropertyDescriptor;
      if (d.get !== undefined || d.set !== undefined) {
        if (all) fail('ACCESSOR_PROPERTY', `cannot save ${this.here()}: a getter/setter property`);
        out.push([k, 1], [this.accessorFn(d.get, 'getter'), this.accessorFn(d.set, 'setter')]);
        continue;
      }
      out.push(d.enumerable ? k : [k], this.val(d.value));
    }
    return out;
  }

  /** ["G", item...]: a function's `arguments` object (a frame's, or one an arrow closes over). */
  private argumentsEntry(a: IArguments): unknown[] {
    if (a.length > MAX_ARGUMENTS || Object.keys(a).length !== a.length) {
      fail('UNSUPPORTED_VALUE', `cannot save ${this.here()}: an arguments object with more than ${MAX_ARGUMENTS} items or with properties of its own`);
    }
    const out: unknown[] = ['G'];
    for (let i = 0; i < a.length; i++) {
      this.at(`[${i}]`);
      out.push(this.val(a[i]));
    }
    return out;
  }

  /**
   * A constructor function (not a class: a module-level class the compiler did not register
   * has #private members) the snapshot names: a tasklet function or a module-level function.
   */
  private namedConstructor(ctor: Function): boolean {
    if (!this.byFn.has(ctor) && (valueRegistry.size === 0 || this.moduleValue(ctor) === undefined)) return false;
    return !Function.prototype.toString.call(ctor).startsWith('class');
  }

  /**
   * ["L", class, key, value, ...]: an instance of a class written in a tasklet function, or
   * of a constructor function the snapshot names (a tasklet function, a module-level function).
   */
  private localInstance(o: object, cls: Function): unknown[] {
    const meta = closureInfo.get(cls)?.meta;
    if (meta?.pv === 1) {
      fail('UNREGISTERED_CLASS', `cannot save ${this.here()}: an instance of class ${meta.name} (${meta.file}:${meta.line}), which has #private members a copy would lack`);
    }
    this.at('.<class>');
    return this.props(o, ['L', this.val(cls)], true);
  }

  /**
   * A getter or setter of a plain object: a closure made through a factory (an accessor
   * written in a tasklet function) or a registered tasklet function, or absent.
   */
  private accessorFn(f: Function | undefined, what: string): unknown {
    if (f === undefined) return UNDEF;
    if (closureInfo.has(f) || this.byFn.has(f)) return this.val(f);
    return fail(
      'ACCESSOR_PROPERTY',
      `cannot save ${this.here()}: a getter/setter property whose ${what} (${f.name || 'anonymous'}) was not written in a tasklet function ` +
        '(only accessors the compiler made through closure factories can be saved)',
    );
  }

  private array(a: unknown[]): unknown[] {
    // a tagged template's strings array (frozen, with a hidden `raw`): its identity is the call
    // site's, which a copy would not have; other hidden properties would be lost
    if (Object.getOwnPropertyNames(a).length !== Object.keys(a).length + 1) {
      fail('UNSUPPORTED_VALUE', `cannot save ${this.here()}: an array with non-enumerable properties (a tagged template's strings?)`);
    }
    const n = a.length;
    const items: unknown[] = [];
    let present = 0;
    for (let i = 0; i < n; i++) {
      this.at(`[${i}]`);
      if (i in a) {
        present++;
        items.push(this.val(a[i]));
      } else items.push(HOLE);
    }
    if (Object.keys(a).length === present) {
      items.unshift('A');
      return items;
    }
    const out: unknown[] = ['AX', items];
    for (const k of Object.keys(a)) {
      if (String(Number(k) >>> 0) === k && Number(k) !== 0xffffffff) continue; // an index
      this.at('.' + k);
      if (PROTO_KEYS.has(k)) fail('PROTO_KEY', `cannot save ${this.here()}: the key '${k}' is refused (prototype key)`);
      out.push(k, this.val(a[k as unknown as number]));
    }
    return out;
  }

  /** ["I", kind, source, position] for a saveable for-of iterator (runtime/iter.ts). */
  private iterEntry(it: SlIter): unknown[] {
    this.at('.<iterated>');
    return ['I', it.k, this.val(it.s), it.position()];
  }

  /** Refuses to save the current tasklet (Stackless's rule and message). */
  static checkNotCurrent(t: Tasklet): void {
    if (t === rt.cur) fail('CURRENT_TASKLET', 'You cannot __reduce__ the tasklet which is current.');
  }
}

const toStringTag = Object.prototype.toString;
const hasOwn = Object.prototype.hasOwnProperty;
function isArguments(o: object): boolean {
  return hasOwn.call(o, 'callee') && toStringTag.call(o) === '[object Arguments]';
}

/** The constructor whose `prototype` `proto` is (by its own `constructor` property), if any. */
function constructorOf(proto: object): Function | undefined {
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
  return typeof ctor === 'function' && ctor.prototype === proto ? ctor : undefined;
}

function describeCtx(c: Ctx, path: string[]): string {
  const fn = c.meta !== null ? where(c.meta, c.pc) : `runtime helper ${c.name}`;
  return `${c.local === 'this' ? 'this' : `local '${c.local}'`}${path.join('')} of ${fn}`;
}

function unsupportedCode(o: object): string {
  if (o instanceof WeakMap || o instanceof WeakSet || (typeof WeakRef === 'function' && o instanceof WeakRef)) return 'UNSUPPORTED_VALUE';
  if (o instanceof Promise) return 'UNSUPPORTED_VALUE';
  const tag = Object.prototype.toString.call(o);
  if (tag.endsWith(' Iterator]') || tag === '[object Generator]' || tag === '[object AsyncGenerator]') return 'UNSUPPORTED_ITERATOR';
  return 'UNREGISTERED_CLASS';
}

function unsupportedWhat(o: object, proto: object): string {
  const tag = Object.prototype.toString.call(o).slice(8, -1);
  if (tag.endsWith(' Iterator')) {
    return `a built-in ${tag}, whose position cannot be read (only the iterators of for-of loops over built-in collections are saveable; this one is kept in a variable, or used by destructuring or spread)`;
  }
  if (o instanceof WeakMap || o instanceof WeakSet || o instanceof Promise || tag === 'Generator' || tag === 'AsyncGenerator') {
    return `a ${tag} cannot be saved`;
  }
  const ctor = (proto as { constructor?: unknown }).constructor;
  const name = typeof ctor === 'function' && ctor.name ? ctor.name : tag;
  return `an instance of class ${name}, which is not registered (registerClass(${name}) makes it saveable)`;
}

/** The name of a built-in typed array class by its prototype (not subclasses such as Buffer). */
function typedName(proto: object): string | undefined {
  for (const k of Object.keys(TYPED)) if (TYPED[k].prototype === proto) return k;
  return undefined;
}
