// Migrations: letting runs that were saved by one version of a tasklet function resume in
// another (issue 7 §2). A run is pinned to the fingerprints of its code; when a function's
// layout changed (its locals or its resume points), the saved frames no longer fit and the
// run fails with CODE_CHANGED. A migration says how a saved frame of the old version maps to
// a frame of the new one:
//
//   migration({
//     fn: 'src/order.ts#order',      // the function's stable id
//     from: '0a2cff61',              // its old fingerprint (in the CODE_CHANGED error, `workflows check`)
//     to: '5b1e0c3d',                // its new fingerprint: the migration is written for that code
//     resume: { 14: 16 },            // a frame stopped at a call on old line 14 resumes at the call on new line 16
//     locals: (old) => ({ ...old.locals, discount: 0 }),   // optional: the new frame's variables
//   })
//
// A snapshot is rewritten before it is restored: the function's entry gets the new fingerprint
// and each of its frames a new resume point and its variables in the new order, by name.
// Compiler temporaries are not carried over (they belong to the old code's expressions): a
// frame must resume at a call whose result goes into a variable or is a statement of its own
// (`const x = step(...)`, `signal('s').receive()`, `sleep('1d')`), not in the middle of a larger
// expression. Only module-level tasklet functions (the ones with a stable id) migrate; a frame
// of a closure does not.
//
// Engines use migrations through withMigrations(store, migrations) (a store whose claimed runs
// come back migrated), see docs/workflows.md "Code changes". migrateSnapshot() is the rewrite itself.
import { functionRegistry } from '../runtime/compiled.js';
import { unpacked } from '../runtime/snapshot/pack.js';
import type { Claimed, EngineStore } from './store.js';
import { WorkflowError } from './errors.js';

/** Where a frame resumes in the new code: a line (with the column when the line has several calls). */
export type ResumeAt = number | { line: number; column?: number };

/** A saved frame of the old code, as a migration sees it. Values are read-only copies of plain data. */
export interface OldFrame {
  /** The function's id. */
  fn: string;
  /** Where the old code stopped: the call it was suspended in. */
  line: number;
  column: number;
  /** Its variables by name (compiler temporaries left out). Objects, arrays, maps, sets and dates are readable copies. */
  locals: Record<string, unknown>;
}

export interface Migration {
  fn: string;
  from: string;
  to: string;
  /** Old line -> where to resume in the new code; or a function of the old frame. Needed when a frame of `fn` is on a saved stack. */
  resume?: Record<number, ResumeAt> | ((old: OldFrame) => ResumeAt);
  /** The new frame's variables by name (default: the old ones with the same names). */
  locals?: (old: OldFrame, at: { line: number; column: number }) => Record<string, unknown>;
}

/** Checks a migration and returns it (frozen). Throws WorkflowError BAD_ARGUMENT naming the mistake. */
export function migration(m: Migration): Readonly<Migration> {
  const bad = (what: string) => new WorkflowError('BAD_ARGUMENT', `migration(${typeof m?.fn === 'string' ? `'${m.fn}'` : '…'}): ${what}`);
  if (m === null || typeof m !== 'object') throw new WorkflowError('BAD_ARGUMENT', 'migration() needs an object { fn, from, to, resume?, locals? }');
  if (typeof m.fn !== 'string' || !m.fn.includes('#')) throw bad("fn must be a function's stable id, e.g. 'src/order.ts#order'");
  for (const k of ['from', 'to'] as const) {
    if (typeof m[k] !== 'string' || !/^[0-9a-f]{8}$/.test(m[k])) throw bad(`${k} must be a fingerprint (8 hex digits, as in the CODE_CHANGED error or 'stackless workflows check'), got ${JSON.stringify(m[k])}`);
  }
  if (m.from === m.to) throw bad('from and to are the same fingerprint');
  if (m.resume !== undefined && typeof m.resume !== 'function') {
    if (typeof m.resume !== 'object' || m.resume === null) throw bad('resume must be { oldLine: newLine } or a function');
    for (const [k, v] of Object.entries(m.resume)) {
      if (!/^\d+$/.test(k)) throw bad(`resume: '${k}' is not a line number`);
      if (!isAt(v)) throw bad(`resume[${k}] must be a line number or { line, column }`);
    }
  }
  if (m.locals !== undefined && typeof m.locals !== 'function') throw bad('locals must be a function (old frame) => variables');
  return Object.freeze({ ...m });
}

function isAt(v: unknown): v is ResumeAt {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0;
  if (v === null || typeof v !== 'object') return false;
  const o = v as { line?: unknown; column?: unknown };
  return Number.isInteger(o.line) && (o.line as number) > 0 && (o.column === undefined || (Number.isInteger(o.column) && (o.column as number) >= 0));
}

/** The code loaded in this process: stable id -> its current metadata. */
export interface LoadedMeta {
  id: string;
  fp: string;
  name: string;
  file: string;
  line: number;
  states?: number;
  locals?: Array<[string, string]>;
  pcs?: number[];
}

function loaded(id: string): LoadedMeta | undefined {
  return functionRegistry.get(id)?.meta as LoadedMeta | undefined;
}

export interface Applied {
  fn: string;
  from: string;
  to: string;
  frames: number;
}

type Snap = { fns: unknown[]; objs: unknown[][]; [k: string]: unknown };
type FnRow = [string, string, { name?: string; file?: string; line?: number; locals?: string[]; pcs?: number[] }?];

/**
 * Rewrites snapshot JSON text for the migrations that apply to it (a function entry whose
 * fingerprint is a migration's `from` while the loaded code has its `to`). Returns null when
 * none applies. Throws WorkflowError CODE_CHANGED when one applies but cannot map a frame.
 */
export function migrateSnapshot(
  json: string,
  migrations: readonly Migration[],
  what = 'the snapshot',
  lookup: (id: string) => LoadedMeta | undefined = loaded,
): { json: string; applied: Applied[] } | null {
  if (migrations.length === 0) return null;
  let data: Snap;
  try {
    data = unpacked(JSON.parse(json)) as Snap;
  } catch {
    return null; // not ours to judge: restore() reports it
  }
  if (data === null || typeof data !== 'object' || !Array.isArray(data.fns) || !Array.isArray(data.objs)) return null;
  const byIndex = new Map<number, { m: Migration; now: LoadedMeta; old: FnRow }>();
  for (let i = 0; i < data.fns.length; i++) {
    const row = data.fns[i] as FnRow;
    if (!Array.isArray(row) || typeof row[0] !== 'string' || typeof row[1] !== 'string') continue;
    const now = lookup(row[0]);
    if (now === undefined || now.fp === row[1]) continue;
    const m = migrations.find((x) => x.fn === row[0] && x.from === row[1] && x.to === now.fp);
    if (m !== undefined) byIndex.set(i, { m, now, old: row });
  }
  if (byIndex.size === 0) return null;
  const counts = new Map<number, number>();
  const codec = new Codec(data);
  for (const e of data.objs) {
    // tasklets with a stack: ["K", state, flags, frames, ...] (docs/snapshot-format.md)
    if (!Array.isArray(e) || e[0] !== 'K' || !FRAMED.has(e[1] as string) || !Array.isArray(e[3])) continue;
    const frames = e[3] as unknown[][];
    for (let j = 0; j < frames.length; j++) {
      const f = frames[j];
      if (!Array.isArray(f) || typeof f[0] !== 'number') continue;
      const hit = byIndex.get(f[0]);
      if (hit === undefined) continue;
      frames[j] = migrateFrame(f, hit.m, hit.old, hit.now, codec, what);
      counts.set(f[0], (counts.get(f[0]) ?? 0) + 1);
    }
  }
  const applied: Applied[] = [];
  for (const [i, { m, now }] of byIndex) {
    data.fns[i] = [now.id, now.fp, { name: now.name, file: now.file, line: now.line, locals: (now.locals ?? []).map((l) => l[1]), pcs: now.pcs ?? [] }];
    applied.push({ fn: m.fn, from: m.from, to: m.to, frames: counts.get(i) ?? 0 });
  }
  return { json: JSON.stringify(data), applied };
}

const FRAMED = new Set(['paused', 'runnable', 'blocked', 'sleep', 'wait', 'join', 'select']);

/** (line, column) of each value resume point (the pc a frame is saved with; pc - 1 is its retry entry). */
function resumePoints(pcs: number[]): Array<{ pc: number; line: number; column: number }> {
  const at = new Map<number, [number, number]>();
  for (let i = 0; i + 2 < pcs.length; i += 3) at.set(pcs[i], [pcs[i + 1], pcs[i + 2]]);
  const out: Array<{ pc: number; line: number; column: number }> = [];
  for (const [pc, [line, column]] of at) {
    const retry = at.get(pc - 1);
    if (retry !== undefined && retry[0] === line && retry[1] === column) out.push({ pc, line, column });
  }
  return out.sort((a, b) => a.pc - b.pc);
}

function migrateFrame(f: unknown[], m: Migration, old: FnRow, now: LoadedMeta, codec: Codec, what: string): unknown[] {
  const info = old[2] ?? {};
  const fail = (why: string) =>
    new WorkflowError('CODE_CHANGED', `${what}: migration of ${m.fn} from ${m.from} to ${m.to} cannot map a saved frame: ${why}`);
  const oldNames = info.locals;
  const oldPcs = info.pcs;
  if (!Array.isArray(oldNames) || !Array.isArray(oldPcs)) throw fail('the snapshot does not describe the old code (no locals or resume points in its function table)');
  const pc = f[1] as number;
  const oldPoints = resumePoints(oldPcs);
  const here = oldPoints.find((p) => p.pc === pc);
  if (here === undefined) throw fail(`resume point ${pc} is not one of the old code's`);
  const newLocals = now.locals ?? [];
  const hasThis = f.length === 3 + oldNames.length;
  // the old frame's variables by name, temporaries left out
  const encoded = new Map<string, unknown>();
  const seen = new Map<string, number>();
  const keyOf = (name: string, n: number) => (n === 0 ? name : `${name}#${n}`);
  for (let k = 0; k < oldNames.length; k++) {
    const name = oldNames[k];
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (/^\$t\d/.test(name)) continue;
    encoded.set(keyOf(name, n), 2 + k < f.length ? f[2 + k] : [0]);
  }
  const oldFrame: OldFrame = { fn: m.fn, line: here.line, column: here.column, locals: {} };
  for (const [k, v] of encoded) if (!k.startsWith('$') && !k.includes('#')) oldFrame.locals[k] = codec.decode(v);
  // where it resumes
  let target: ResumeAt | undefined;
  if (typeof m.resume === 'function') target = m.resume(oldFrame);
  else if (m.resume !== undefined) target = m.resume[here.line];
  if (target === undefined) throw fail(`no new resume point for the frame stopped at line ${here.line} of the old code (add ${here.line} to resume)`);
  if (!isAt(target)) throw fail(`resume gave ${JSON.stringify(target)} for old line ${here.line}: a line number or { line, column } is needed`);
  const line = typeof target === 'number' ? target : target.line;
  const column = typeof target === 'number' ? undefined : target.column;
  const candidates = resumePoints(now.pcs ?? []).filter((p) => p.line === line && (column === undefined || p.column === column));
  let to: { pc: number; line: number; column: number };
  if (candidates.length === 1) to = candidates[0];
  else if (candidates.length === 0) {
    const lines = [...new Set(resumePoints(now.pcs ?? []).map((p) => p.line))].join(', ');
    throw fail(`line ${line}${column === undefined ? '' : `, column ${column}`} of the new code (${now.file}) has no call a frame can resume at (lines with one: ${lines})`);
  } else {
    // several calls start there (a.b().c()): the same position among the old line's calls
    const sameOld = oldPoints.filter((p) => p.line === here.line && p.column === here.column);
    const distinct = new Set(candidates.map((p) => p.column));
    if (distinct.size > 1) throw fail(`line ${line} of the new code has calls at columns ${[...distinct].join(', ')}: give { line: ${line}, column }`);
    const i = sameOld.indexOf(here);
    if (sameOld.length !== candidates.length) throw fail(`line ${line} of the new code has ${candidates.length} nested calls at one position and the old line ${here.line} ${sameOld.length}`);
    to = candidates[i];
  }
  // its variables
  let values: Map<string, unknown>;
  if (m.locals !== undefined) {
    const given = m.locals(oldFrame, { line: to.line, column: to.column });
    if (given === null || typeof given !== 'object') throw fail('locals() must return an object of variables by name');
    values = new Map();
    for (const [k, v] of Object.entries(given)) values.set(k, codec.encode(v, `local '${k}'`, fail));
    // environment records ($e, $b…) are carried by key: they hold variables closures share
    for (const [k, v] of encoded) if (k.startsWith('$') && !values.has(k)) values.set(k, v);
  } else values = encoded;
  const names = new Set(newLocals.map((l) => l[1]));
  if (m.locals !== undefined) {
    for (const k of values.keys()) if (!k.startsWith('$') && !names.has(k)) throw fail(`locals() gave '${k}', which is not a variable of ${now.name} in the new code`);
  }
  const out: unknown[] = [f[0], to.pc];
  const taken = new Map<string, number>();
  for (const [, name] of newLocals) {
    const n = taken.get(name) ?? 0;
    taken.set(name, n + 1);
    const key = keyOf(name, n);
    out.push(/^\$t\d/.test(name) || !values.has(key) ? [0] : values.get(key));
  }
  if (hasThis) out.push(f[f.length - 1]);
  else while (out.length > 2 && isUndefined(out[out.length - 1])) out.pop();
  return out;
}

function isUndefined(v: unknown): boolean {
  return Array.isArray(v) && v.length === 1 && v[0] === 0;
}

/** A stored value a migration can pass on but not read (a tasklet, a channel, a class instance...). */
export class StoredValue {
  constructor(readonly encoded: unknown) {
    Object.freeze(this);
  }
}

/** Reads plain data out of a snapshot's encoding and writes values back into it. */
class Codec {
  private readonly decoded = new Map<number, unknown>();
  private readonly origin = new Map<unknown, unknown>();
  constructor(private readonly data: Snap) {}

  decode(v: unknown): unknown {
    if (v === null || typeof v !== 'object') return v;
    if (!Array.isArray(v)) return new StoredValue(v);
    switch (v[0]) {
      case 0:
        return undefined;
      case 2:
        return v[1] === 'NaN' ? NaN : v[1] === 'Infinity' ? Infinity : v[1] === '-Infinity' ? -Infinity : v[1] === '-0' ? -0 : new StoredValue(v);
      case 3:
        return typeof v[1] === 'string' && /^-?\d+$/.test(v[1]) ? BigInt(v[1]) : new StoredValue(v);
      case 6:
        return typeof v[1] === 'string' ? Symbol.for(v[1]) : new StoredValue(v);
      case 1:
        return this.object(v[1] as number, v);
      default:
        return new StoredValue(v);
    }
  }

  private object(i: number, ref: unknown): unknown {
    if (this.decoded.has(i)) return this.decoded.get(i);
    const e = this.data.objs[i];
    let out: unknown;
    if (!Array.isArray(e)) out = new StoredValue(ref);
    else if (e[0] === 'O' || e[0] === 'N') {
      const o: Record<string, unknown> = e[0] === 'N' ? Object.create(null) : {};
      this.decoded.set(i, o);
      for (let k = 1; k + 1 < e.length; k += 2) if (typeof e[k] === 'string') o[e[k] as string] = this.decode(e[k + 1]);
      out = Object.freeze(o);
    } else if (e[0] === 'A') {
      const a: unknown[] = [];
      this.decoded.set(i, a);
      for (let k = 1; k < e.length; k++) a.push(Array.isArray(e[k]) && (e[k] as unknown[])[0] === 7 ? undefined : this.decode(e[k]));
      out = Object.freeze(a);
    } else if (e[0] === 'D' && typeof e[1] === 'number') out = new Date(e[1]);
    else if (e[0] === 'M') {
      const mp = new Map<unknown, unknown>();
      this.decoded.set(i, mp);
      for (let k = 1; k + 1 < e.length; k += 2) mp.set(this.decode(e[k]), this.decode(e[k + 1]));
      out = mp;
    } else if (e[0] === 'S') {
      const s = new Set<unknown>();
      this.decoded.set(i, s);
      for (let k = 1; k < e.length; k++) s.add(this.decode(e[k]));
      out = s;
    } else out = new StoredValue(ref);
    this.decoded.set(i, out);
    if (typeof out === 'object' && out !== null && !(out instanceof StoredValue)) this.origin.set(out, ref);
    return out;
  }

  encode(v: unknown, where: string, fail: (why: string) => Error, memo = new Map<object, unknown>()): unknown {
    if (v === undefined) return [0];
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return [2, 'NaN'];
      if (v === Infinity) return [2, 'Infinity'];
      if (v === -Infinity) return [2, '-Infinity'];
      if (Object.is(v, -0)) return [2, '-0'];
      return v;
    }
    if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
    if (typeof v === 'bigint') return [3, v.toString()];
    if (typeof v === 'symbol') {
      const key = Symbol.keyFor(v);
      if (key === undefined) throw fail(`${where}: a unique symbol cannot be stored`);
      return [6, key];
    }
    if (v instanceof StoredValue) return v.encoded;
    if (typeof v !== 'object') throw fail(`${where}: a ${typeof v} cannot be stored by a migration (pass on a value of the old frame instead)`);
    const from = this.origin.get(v);
    if (from !== undefined) return from; // an old value passed on unchanged: the same stored object
    const again = memo.get(v);
    if (again !== undefined) return again;
    const objs = this.data.objs;
    const i = objs.length;
    const ref = [1, i];
    memo.set(v, ref);
    const entry: unknown[] = [];
    objs.push(entry);
    if (Array.isArray(v)) {
      entry.push('A');
      for (let k = 0; k < v.length; k++) entry.push(k in v ? this.encode(v[k], `${where}[${k}]`, fail, memo) : [7]);
    } else if (v instanceof Date) entry.push('D', Number.isNaN(v.getTime()) ? [2, 'NaN'] : v.getTime());
    else if (v instanceof Map) {
      entry.push('M');
      for (const [k, x] of v) entry.push(this.encode(k, `${where} key`, fail, memo), this.encode(x, `${where} value`, fail, memo));
    } else if (v instanceof Set) {
      entry.push('S');
      for (const x of v) entry.push(this.encode(x, `${where} item`, fail, memo));
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw fail(`${where}: an instance of ${(v as object).constructor?.name ?? 'a class'} cannot be stored by a migration (plain data, Date, Map, Set, or a value of the old frame)`);
      }
      entry.push(proto === null ? 'N' : 'O');
      for (const [k, x] of Object.entries(v)) {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw fail(`${where}: the key '${k}' cannot be stored`);
        entry.push(k, this.encode(x, `${where}.${k}`, fail, memo));
      }
    }
    return ref;
  }
}

/**
 * The fingerprint a run's workflow function is pinned to, after the migrations: `fp` itself,
 * or the loaded code's when a migration from `fp` to it exists.
 */
export function migratedPin(fn: string, fp: string, migrations: readonly Migration[], lookup: (id: string) => LoadedMeta | undefined = loaded): string {
  const now = lookup(fn);
  if (now === undefined || now.fp === fp) return fp;
  return migrations.some((m) => m.fn === fn && m.from === fp && m.to === now.fp) ? now.fp : fp;
}

/**
 * A store whose claimed runs come back migrated: give it to createEngine({ store }). Runs whose
 * pinned workflow function or saved frames match a migration's `from` (while this process has
 * loaded its `to`) are rewritten before the engine restores them; their next checkpoint is saved
 * in the new layout. A migration that cannot map a frame fails the run (its checkpoint is kept:
 * fix the migration and `retry` it).
 *
 * The run's pin (the workflow function's fingerprint at start) is not rewritten in the store
 * (the Store interface has no write for it): keep a migration of a workflow function
 * registered while runs pinned to its `from` exist.
 */
export function withMigrations<S extends EngineStore>(store: S, migrations: readonly Migration[]): S {
  const list = migrations.map(migration);
  const claim = async (...args: Parameters<EngineStore['claim']>): Promise<Claimed[]> => {
    const rows = await store.claim(...args);
    const out: Claimed[] = [];
    for (const row of rows) {
      const applied: Applied[] = [];
      const m = migrateClaimed(row, list, applied);
      // the run's journal says which migrations rewrote its checkpoint (the timeline shows it)
      if (applied.length > 0 && m.corrupt === undefined) {
        const fence = store.leases ? { worker: args[0].worker, lease: row.lease } : null;
        await store.appendJournalFenced(row.id, [{ kind: 'migrated', data: { migrations: applied } }], fence);
      }
      out.push(m);
    }
    return out;
  };
  return new Proxy(store, {
    get(target, key) {
      if (key === 'claim') return claim;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** One claimed row, migrated (or failed with the migration's error, as a corrupt row). */
export function migrateClaimed(row: Claimed, migrations: readonly Migration[], applied: Applied[] = []): Claimed {
  if (row.corrupt !== undefined) return row;
  const fp = migratedPin(row.fn, row.fp, migrations);
  let snapshot = row.snapshot;
  if (snapshot !== null) {
    try {
      const m = migrateSnapshot(snapshot, migrations, `run '${row.id}'`);
      if (m !== null) {
        snapshot = m.json;
        applied.push(...m.applied);
      }
    } catch (e) {
      if (!(e instanceof WorkflowError)) throw e;
      return { id: row.id, lease: row.lease, corrupt: e.message };
    }
  }
  return fp === row.fp && snapshot === row.snapshot ? row : { ...row, fp, snapshot };
}
