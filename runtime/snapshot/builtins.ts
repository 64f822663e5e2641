// Values saved by name rather than by content: runtime functions and classes, the TDZ
// marker, the main tasklet, well-known symbols; plus the user's registered classes
// (`registerClass`). Restoring looks names up here and never creates functions.
import { TDZ, tdzWrite, superGet, superSet, accessors, valueRegistry, type FactoryEntry } from '../compiled.js';
import { $iter, $iterm, SlIter } from '../iter.js';
import { rt } from '../rt.js';
import * as api from '../api.js';
import * as asyncApi from '../async.js';
import { select } from '../select.js';
import { Channel } from '../channel.js';
import { Tasklet } from '../tasklet.js';
import { StacklessError, TaskletExit, SnapshotError } from '../errors.js';
import { $forEach, $map, $filter, $reduce, $some, $every, $find, $findIndex, $flatMap, $sort } from '../arrays.js';
import { $ret } from '../driver.js';
import { fail } from './errors.js';

let byName: Map<string, unknown> | null = null;
/** Names of the runtime's own functions: the only builtins a tasklet may be bound to. */
export const RUNTIME_FUNCTIONS = new Set<string>();
let byValue: Map<unknown, string> | null = null;

function table(): Map<string, unknown> {
  if (byName !== null) return byName;
  const m = new Map<string, unknown>();
  m.set('TDZ', TDZ);
  const fns: Record<string, unknown> = {
    run: api.run, schedule: api.schedule, scheduleRemove: api.scheduleRemove, getCurrent: api.getCurrent,
    getMain: api.getMain, getRunCount: api.getRunCount, atomic: api.atomic, switchTrap: api.switchTrap,
    spawn: api.spawn, runAsync: asyncApi.runAsync, wait: asyncApi.wait, sleep: asyncApi.sleep, select,
    Channel, Tasklet, StacklessError, TaskletExit, SnapshotError,
    $forEach, $map, $filter, $reduce, $some, $every, $find, $findIndex, $flatMap, $sort, $ret,
    'Channel.sendSequence': Channel.prototype.sendSequence,
    $iter, $iterm, 'SlIter.next': SlIter.prototype.next, 'SlIter.@@iterator': SlIter.prototype[Symbol.iterator],
  };
  for (const k of Object.keys(fns)) {
    m.set(k, fns[k]);
    if (typeof fns[k] === 'function') RUNTIME_FUNCTIONS.add(k);
  }
  // helpers compiled code may hold in a frame temporary while an argument suspends (no tasklet runs them)
  const helpers: Record<string, unknown> = { tdzWrite, superGet, superSet, accessors };
  for (const k of Object.keys(helpers)) m.set(k, helpers[k]);
  addIntrinsics(m);
  // methods of the runtime's classes a frame temporary may hold (`$t = ch.send` before the call)
  const named = new Set(m.values());
  for (const [name, cls] of [['Channel', Channel], ['Tasklet', Tasklet]] as const) {
    for (const k of Object.getOwnPropertyNames(cls.prototype)) {
      const d = Object.getOwnPropertyDescriptor(cls.prototype, k);
      if (d !== undefined && typeof d.value === 'function' && k !== 'constructor' && !named.has(d.value)) m.set(`${name}.prototype.${k}`, d.value);
    }
  }
  for (const k of Object.getOwnPropertyNames(Symbol)) {
    const s = (Symbol as unknown as Record<string, unknown>)[k];
    if (typeof s === 'symbol') m.set(`Symbol.${k}`, s);
  }
  byName = m;
  byValue = new Map([...m].map(([k, v]) => [v, k]));
  return m;
}

/**
 * JavaScript's own functions by name ("Array.prototype.push", "Math.max", "console.log"):
 * compiled code keeps a method it calls in a frame temporary (`$t = out.push`), so a
 * frame saved right after such a call holds it. Saved by reference, like module globals.
 */
const GLOBALS = [
  'Object', 'Array', 'String', 'Number', 'Boolean', 'Symbol', 'BigInt', 'Math', 'JSON', 'Reflect',
  'Date', 'RegExp', 'Map', 'Set', 'WeakMap', 'WeakSet', 'Promise', 'ArrayBuffer', 'DataView', 'Error',
  'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray',
  'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array',
  'BigUint64Array', 'console', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURIComponent',
  'decodeURIComponent', 'encodeURI', 'decodeURI', 'structuredClone',
];
// Not here on purpose: Function, eval, setTimeout/setInterval (they take source text in
// browsers) — a restored value must never be a way to evaluate code.
function addIntrinsics(m: Map<string, unknown>): void {
  const g = globalThis as Record<string, any>;
  const add = (name: string, v: unknown) => {
    if (typeof v === 'function' && !m.has(name)) m.set(name, v);
  };
  const members = (prefix: string, o: object | null | undefined) => {
    if (o === null || o === undefined) return;
    for (const k of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d !== undefined && 'value' in d) add(`${prefix}.${k}`, d.value);
    }
  };
  for (const name of GLOBALS) {
    const v = g[name];
    if (v === undefined || v === null) continue;
    if (!m.has(name)) m.set(name, v); // objects too: `$t = console` before `$t.log(...)`
    members(name, v);
    if (typeof v === 'function') members(`${name}.prototype`, v.prototype);
  }
  m.set('globalThis', globalThis);
  // %IteratorPrototype% and friends: `it.next` / `it.return` temps of for-of loops
  members('ArrayIterator', Object.getPrototypeOf([][Symbol.iterator]()));
  members('MapIterator', Object.getPrototypeOf(new Map()[Symbol.iterator]()));
  members('SetIterator', Object.getPrototypeOf(new Set()[Symbol.iterator]()));
  members('StringIterator', Object.getPrototypeOf(''[Symbol.iterator]()));
  // %IteratorPrototype% itself ([Symbol.iterator], and the iterator helpers where the engine has them)
  const iteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;
  members('IteratorPrototype', iteratorProto);
  add('IteratorPrototype.@@iterator', (iteratorProto as Record<symbol, unknown>)[Symbol.iterator]);
}

/** The builtin name of `v`, or undefined ("main" for the main tasklet). */
export function builtinName(v: unknown): string | undefined {
  if (v === rt.main) return 'main';
  table();
  const n = (byValue as Map<unknown, string>).get(v);
  if (n !== undefined || typeof v !== 'function') return n;
  return methodNames.get(v);
}

export function builtinValue(name: string): unknown {
  if (name === 'main') return rt.main;
  const v = table().get(name);
  if (v !== undefined) return v;
  if (name[0] === '@') return classMember(name);
  return moduleValue(name);
}

export function hasBuiltin(name: string): boolean {
  return name === 'main' || table().has(name) || (name[0] === '@' ? classMember(name) !== undefined : moduleValue(name) !== undefined);
}

// ---- module-level values saved by reference (registerValue, emitted by the compiler) ----

/**
 * What is saved by reference: functions and objects, but never tasklets or channels (their
 * state is saved; a channel held by a module variable also records the variable's id).
 */
export function isModuleValue(v: unknown): boolean {
  return (typeof v === 'function' || (typeof v === 'object' && v !== null)) && !(v instanceof Tasklet) && !(v instanceof Channel);
}

/** The channel module variable `id` holds now, if it holds one. */
export function moduleChannel(id: string): Channel | undefined {
  const get = valueRegistry.get(id);
  if (get === undefined) return undefined;
  try {
    const v = get();
    return v instanceof Channel ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The current value of module value `id` ("x.ts#helper"), or undefined (unknown id, unset binding). */
function moduleValue(id: string): unknown {
  if (!id.includes('#')) return undefined;
  const get = valueRegistry.get(id);
  if (get === undefined) return undefined;
  try {
    const v = get();
    return isModuleValue(v) ? v : undefined;
  } catch {
    return undefined; // a const in its temporal dead zone
  }
}

/**
 * Fingerprint of a closure factory: the tasklet closure's layout fingerprint, or for an
 * ordinary closure a hash of the factory's compiled source (cached on the entry).
 */
const factoryFps = new WeakMap<FactoryEntry, string>();
export function factoryFp(f: FactoryEntry): string {
  if (f.fn !== undefined) return f.fn.fp;
  let fp = factoryFps.get(f);
  if (fp === undefined) {
    const src = Function.prototype.toString.call(f.make);
    let h = 0x811c9dc5;
    for (let i = 0; i < src.length; i++) h = Math.imul(h ^ src.charCodeAt(i), 0x01000193);
    fp = (h >>> 0).toString(16).padStart(8, '0');
    factoryFps.set(f, fp);
  }
  return fp;
}

// ---- registered classes ----
const classes = new Map<string, Function>();
const classNames = new Map<object, string>();

/**
 * Lets instances of `Cls` be saved: own properties are saved, and restoring creates
 * `Object.create(Cls.prototype)` with them (the constructor is not called, as with
 * pickle). `name` (default `Cls.name`) is what the snapshot stores; registering the
 * same name again replaces the class (hot reload).
 */
export function registerClass(Cls: Function, name?: string): void {
  if (typeof Cls !== 'function' || typeof Cls.prototype !== 'object' || Cls.prototype === null) {
    throw new TypeError('registerClass() needs a class');
  }
  const n = name ?? Cls.name;
  if (typeof n !== 'string' || n === '') throw new TypeError('registerClass() needs a name for an anonymous class');
  const old = classes.get(n);
  if (old !== undefined) classNames.delete(old.prototype);
  classes.set(n, Cls);
  classNames.set(Cls.prototype, n);
  addMethods(n, Cls);
}

/**
 * Methods of registered classes ("@Ledger.prototype.add", "@Ledger.create"), saved by
 * reference: compiled code keeps the method it calls in a frame temporary.
 */
const methodNames = new Map<unknown, string>();
function addMethods(name: string, Cls: Function): void {
  for (const [prefix, o] of [[`@${name}.prototype.`, Cls.prototype], [`@${name}.`, Cls]] as const) {
    for (const k of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if (d !== undefined && typeof d.value === 'function' && k !== 'constructor' && !methodNames.has(d.value)) methodNames.set(d.value, prefix + k);
    }
  }
}
function classMember(name: string): unknown {
  // class names registered by the compiler contain dots ("src/a.ts#Ledger")
  const m = /^@(.+?)\.(prototype\.)?([^.]+)$/.exec(name);
  const Cls = m !== null ? classes.get(m[1]) : undefined;
  if (m === null || Cls === undefined) return undefined;
  const o = m[2] !== undefined ? Cls.prototype : Cls;
  const d = Object.getOwnPropertyDescriptor(o, m[3]);
  return d !== undefined && typeof d.value === 'function' && m[3] !== 'constructor' ? d.value : undefined;
}

export function classNameOf(proto: object): string | undefined {
  return classNames.get(proto);
}

export function classByName(name: string): Function | undefined {
  return classes.get(name);
}

// ---- built-in error classes (saved by name) ----
const ERRORS: Record<string, Function> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
  StacklessError, TaskletExit, SnapshotError,
};
if (typeof AggregateError === 'function') ERRORS.AggregateError = AggregateError;

export function errorName(proto: object): string | undefined {
  for (const k of Object.keys(ERRORS)) if (ERRORS[k].prototype === proto) return k;
  return undefined;
}

export function errorClass(name: string): Function {
  if (!Object.prototype.hasOwnProperty.call(ERRORS, name)) fail('UNKNOWN_CLASS', `unknown error class '${name}'`);
  return ERRORS[name];
}

// ---- typed arrays ----
export const TYPED: Record<string, { new (b: ArrayBuffer, off: number, len: number): ArrayBufferView; BYTES_PER_ELEMENT: number }> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} as never;
