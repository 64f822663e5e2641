// Small pieces compiled code needs besides `rt` (docs/protocol.md), exported
// through `stackless/internal`.
import { rt, now, K_SCHED, SK_SOFT } from './rt.js';
import { kind } from './ring.js';
import { suspend } from './scheduler.js';
import type { Tasklet } from './tasklet.js';

/**
 * The value a hoisted `let`/`const` holds while in its temporal dead zone.
 * Frozen and unique; compiled code compares against it before such reads.
 */
export const TDZ: object = Object.freeze(Object.create(null));

/**
 * `x = value` where `x` may still be in its temporal dead zone (`current` is TDZ): throws
 * as JavaScript does once the right-hand side has run, otherwise returns `value`.
 */
export function tdzWrite(value: unknown, current: unknown, name: string): unknown {
  if (current === TDZ) throw new ReferenceError(`Cannot access '${name}' before initialization`);
  return value;
}

/**
 * A forced switch point (transform option `forceSwitch`, a testing aid): like
 * `schedule()`, but optional. Where the current tasklet cannot switch (main,
 * alone, inside a switch trap or a runtime callback, or below a frame entered
 * from ordinary code) it does nothing, so a program that never blocks behaves
 * the same with and without forced switches.
 */
export function $yield(): void {
  const ok = rt.tok === $yield;
  rt.tok = null;
  const t = now.cur as Tasklet;
  if (!ok || t === rt.main || kind(t) !== K_SCHED || t._n === t || rt.strap !== 0 || rt.incb !== 0) return;
  // SK_SOFT: if a boundary turns up while unwinding, the switch is simply dropped
  t._v = undefined;
  suspend(SK_SOFT, t._n as Tasklet);
}


/**
 * Tags a freshly created arrow or anonymous tasklet function with its compiled
 * metadata (a non-enumerable symbol-keyed property), so while unwinding it can
 * tell whether compiled code called it (`rt.tok`). `name` restores the name
 * JavaScript would have inferred where the tag call hides the definition.
 */
export function tag<F extends Function>(fn: F, meta: object, name?: string): F {
  Object.defineProperty(fn, rt.tagKey, { value: meta });
  if (name !== undefined && fn.name !== name) Object.defineProperty(fn, 'name', { value: name, configurable: true });
  return fn;
}


/**
 * Tags the tasklet methods and accessors of a freshly created object literal.
 * `entries` is a flat list of (key, 'value' | 'get' | 'set', meta).
 */
export function markObject<T extends object>(obj: T, ...entries: unknown[]): T {
  for (let i = 0; i < entries.length; i += 3) {
    const d = Object.getOwnPropertyDescriptor(obj, entries[i] as PropertyKey) as any;
    const fn = d?.[entries[i + 1] as string];
    if (typeof fn === 'function') Object.defineProperty(fn, rt.tagKey, { value: entries[i + 2] });
  }
  return obj;
}

/**
 * Defines the getters and setters of a freshly created object literal whose accessors the
 * compiler made through closure factories (the literal holds a placeholder at each one's
 * place, so the key order is the literal's). `entries` is a flat list of
 * (key, 'get' | 'set', function).
 */
export function accessors<T extends object>(obj: T, ...entries: unknown[]): T {
  for (let i = 0; i < entries.length; i += 3) {
    Object.defineProperty(obj, entries[i] as PropertyKey, { [entries[i + 1] as string]: entries[i + 2], enumerable: true, configurable: true });
  }
  return obj;
}

/** What a compiled module registers for each of its top-level tasklet functions. */
export interface FunctionEntry {
  meta: { id: string; fp: string; name: string; file: string; line: number; column: number };
  fn: Function;
}

/** Stable function id -> the function, for restoring saved frames (snapshots). */
export const functionRegistry = new Map<string, FunctionEntry>();

/**
 * Called by compiled modules at load for every tasklet function reachable by a
 * name that does not depend on a closure (module-level functions, methods of
 * module-level classes). A second module registering the same id replaces it
 * (hot reload); the fingerprint in `meta` tells snapshots whether the code changed.
 */
export function registerFunction(meta: FunctionEntry['meta'], fn: Function): void {
  functionRegistry.set(meta.id, { meta, fn });
}

/** Static description of a closure factory emitted by the compiler (one per nested function site). */
export interface FactoryMeta {
  id: string;
  name: string;
  file: string;
  line: number;
  column: number;
  /** 1: the factory's last argument is the `this` an arrow closes over (any value, not an environment); older compiles */
  th?: number;
  /** how many of the factory's last arguments are values (an arrow's `this`, a class's superclass), not environments */
  vs?: number;
  /** 1: the factory makes a class (its instances are saved as "L" entries) */
  cls?: number;
  /** 1: that class has #private members (its instances cannot be copied) */
  pv?: number;
}

/** How many of a factory's last arguments are values rather than environment objects. */
export function valueCount(meta: FactoryMeta): number {
  return meta.vs ?? meta.th ?? 0;
}

/**
 * A registered factory: `make(...envs)` returns a fresh closure over the given
 * environment objects; `fn` is the compiled metadata of that closure when it is a
 * tasklet function (its frames can then be saved and restored).
 */
export interface FactoryEntry {
  meta: FactoryMeta;
  make: (...envs: object[]) => Function;
  fn: FunctionEntry['meta'] | undefined;
}

/** Factory id -> the module-level function that re-creates the closure from its environments. */
export const factoryRegistry = new Map<string, FactoryEntry>();

/** Closure created by compiled code -> where it came from and the environments it closes over. */
export const closureInfo = new WeakMap<Function, { meta: FactoryMeta; envs: object[] }>();

/**
 * Called by compiled modules at load, once per factory. `fnMeta` (the closure's
 * compiled metadata, for tasklet closures) lets snapshots save frames of the closure.
 */
export function registerFactory(meta: FactoryMeta, make: (...envs: object[]) => Function, fnMeta?: FunctionEntry['meta']): void {
  factoryRegistry.set(meta.id, { meta, make, fn: fnMeta });
}

/**
 * Module-level values saved by reference (snapshots): stable id ("x.ts#helper") -> a
 * getter of the binding's current value. Registered by compiled modules at load for
 * module-level function declarations, classes and `const` bindings.
 */
export const valueRegistry = new Map<string, () => unknown>();

export function registerValue(id: string, get: () => unknown): void {
  valueRegistry.set(id, get);
}

/**
 * What a compiled module registers about itself (workflow pinning): `fp`, a hash of the
 * fingerprints of all its tasklet functions (closures included), and `src`, a hash of its
 * source text (any edit changes it, comments too).
 */
export interface ModuleEntry {
  id: string;
  fp: string;
  src: string;
  functions: number;
}

/** Module id ("src/a.ts") -> its entry; a module loaded again replaces it (hot reload). */
export const moduleRegistry = new Map<string, ModuleEntry>();

export function registerModule(entry: ModuleEntry): void {
  moduleRegistry.set(entry.id, entry);
}

/**
 * Called where compiled code creates a closure through its factory: records the
 * factory and environments so a snapshot can save the closure by id plus
 * environment, keeping identity and sharing. Returns the closure.
 */
export function closure<F extends Function>(fn: F, meta: FactoryMeta, ...envs: object[]): F {
  closureInfo.set(fn, { meta, envs });
  return fn;
}

/**
 * Computed object keys ahead of a tagged function: converts the key to a
 * property key (as the object literal will) and remembers the name JavaScript
 * gives a function under it, which `tag`'s caller passes on via `keyName()`.
 */
let lastKeyName = '';
export function key(k: unknown): PropertyKey {
  const pk = typeof k === 'symbol' ? k : String(k);
  lastKeyName = typeof pk === 'symbol' ? (pk.description === undefined ? '' : `[${pk.description}]`) : pk;
  return pk;
}
export function keyName(): string {
  return lastKeyName;
}

/**
 * `super[key]` read in an arrow the compiler moved out of a class method (analyze/super-refs.ts):
 * the home object is the class's prototype (`isStatic` 0) or the class (1).
 */
export function superGet(cls: Function, isStatic: number, key: PropertyKey, receiver: unknown): unknown {
  return Reflect.get(Object.getPrototypeOf(isStatic === 1 ? cls : cls.prototype) as object, key, receiver);
}

/** `super[key] = value` there; throws like a strict-mode assignment that fails. */
export function superSet(cls: Function, isStatic: number, key: PropertyKey, value: unknown, receiver: unknown): unknown {
  if (!Reflect.set(Object.getPrototypeOf(isStatic === 1 ? cls : cls.prototype) as object, key, value, receiver)) {
    throw new TypeError(`Cannot assign to read only property '${String(key)}' of object`);
  }
  return value;
}

/** Functions the compiler left where they are, and why (the message of their UNSUPPORTED_CLOSURE). */
export const unsaveableWhy = new WeakMap<Function, string>();

/**
 * Called where compiled code creates a function it could not make through a factory: notes
 * why, for the snapshot that meets it. `name`: the name JavaScript gives it at that position.
 */
export function unsaveable<F extends Function>(fn: F, why: string, name?: string): F {
  unsaveableWhy.set(fn, why);
  if (name !== undefined && fn.name === '') Object.defineProperty(fn, 'name', { value: name, configurable: true });
  return fn;
}
