// Building a checked snapshot (check.ts has validated every field): object shells first,
// then their contents, then tasklets and channels, and only at the very end the links
// into the live scheduler (channel queues of restored channels, timers). Nothing here
// evaluates code: functions come from the registry or the runtime's builtin table.
import {
  Bomb, K_BOUND, K_PAUSED, K_BLOCKED, K_WAITING, K_DONE, F_NEW, F_ATOMIC, F_BTRAP, F_ERR, F_SEND,
  F_ITER, F_TIMED, W_SLEEP, W_SELECT, type Frame,
} from '../rt.js';
import { Tasklet } from '../tasklet.js';
import { Channel } from '../channel.js';
import { SelNode } from '../select.js';
import { qPush } from '../queue.js';
import { armSleep, armChannelTimeout, armSelectTimeout } from '../async.js';
import { builtinValue, errorClass, moduleChannel, TYPED } from './builtins.js';
import { closure } from '../compiled.js';
import { SlIter } from '../iter.js';
import { HELPER_KEYS, SPECIAL_NUMBERS, TF_ATOMIC, TF_BTRAP } from './format.js';
import type { Checked } from './check.js';
import { COLUMN, isRun, type PackLayout } from './pack.js';
import { lazyRecord } from '../lazy.js';
import type { Meta } from './errors.js';

export interface Restored {
  roots: unknown[];
  tasklets: Tasklet[];
  channels: Channel[];
}

interface Group {
  nodes: SelNode[];
  timer: unknown;
}

export function build(c: Checked): Restored {
  used = new Set();
  const objs = c.data.objs;
  const out: unknown[] = new Array(objs.length);
  const val = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    const a = v as unknown[];
    switch (a[0]) {
      case 0: return undefined;
      case 1: return out[a[1] as number];
      case 2: return SPECIAL_NUMBERS[a[1] as string];
      case 3: return BigInt(a[1] as string);
      case 4: return builtinValue(a[1] as string);
      case 5: return c.fns[a[1] as number].fn;
      default: return Symbol.for(a[1] as string);
    }
  };

  // 1. shells
  for (let i = 0; i < objs.length; i++) {
    const e = objs[i];
    if (typeof e === 'number') {
      out[i] = new Tasklet(); // packed
      continue;
    }
    switch (e[0]) {
      case 'O': out[i] = {}; break;
      case 'N': out[i] = Object.create(null); break;
      case 'A': out[i] = new Array(e.length - 1); break;
      case 'G': out[i] = argumentsOf(e.length - 1); break;
      case 'AX': out[i] = new Array((e[1] as unknown[]).length); break;
      case 'D': out[i] = new Date(typeof e[1] === 'number' ? e[1] : SPECIAL_NUMBERS[(e[1] as string[])[1]]); break;
      case 'R': out[i] = new RegExp(e[1] as string, e[2] as string); break;
      case 'M': out[i] = new Map(); break;
      case 'S': out[i] = new Set(); break;
      case 'B': out[i] = (c.bytes.get(i) as Uint8Array).slice().buffer; break;
      case 'E': out[i] = Object.create(errorClass(e[1] as string).prototype); break;
      case 'C': out[i] = Object.create(c.classes[e[1] as number].prototype); break;
      case 'X': out[i] = new Bomb(undefined); break;
      case 'K': out[i] = new Tasklet(); break;
      case 'H': out[i] = liveChannel(e) ?? new Channel(e[2] as number > 0 ? { capacity: e[2] as number } : undefined); break;
      case 'I': out[i] = new SlIter(undefined, e[1] as number, e[3] as number, null); break;
    }
  }
  // closures: the registered factory re-creates each one over its (already created)
  // environments and values; instances of local classes once their class exists (c.order:
  // each entry after the closures and instances it is made from)
  for (const i of c.order) {
    const e = objs[i];
    if (e[0] === 'L') {
      out[i] = Object.create((val(e[1]) as { prototype: object }).prototype);
      continue;
    }
    const f = c.factories[e[1] as number];
    const envs: object[] = [];
    const n = f.make.length;
    for (let j = 2; j < 2 + n; j++) envs.push(val(e[j]) as object);
    out[i] = closure(f.make(...envs), f.meta, ...envs);
  }
  for (let i = 0; i < objs.length; i++) {
    const e = objs[i];
    if (typeof e === 'number' || e[0] !== 'T') continue; // a number: a packed tasklet
    const buf = out[e[2] as number] as ArrayBuffer;
    out[i] = e[1] === 'DataView' ? new DataView(buf, e[3] as number, e[4] as number) : new TYPED[e[1] as string](buf, e[3] as number, e[4] as number);
  }

  // 2. contents
  const items = (a: unknown[], from: number, arr: unknown[]) => {
    for (let j = from; j < a.length; j++) {
      const x = a[j];
      if (!(Array.isArray(x) && x[0] === 7)) arr[j - from] = val(x);
    }
  };
  for (let i = 0; i < objs.length; i++) {
    const e = objs[i];
    if (typeof e === 'number') continue;
    const o = out[i] as any;
    switch (e[0]) {
      case 'O': case 'N':
        for (let j = 1; j < e.length; j += 2) {
          const k = e[j];
          if (typeof k === 'string') o[k] = val(e[j + 1]);
          else {
            // an accessor written in a tasklet function: [getter, setter] (check.ts: functions or absent)
            const [g, s] = e[j + 1] as unknown[];
            Object.defineProperty(o, (k as string[])[0], { get: val(g) as () => unknown, set: val(s) as (v: unknown) => void, enumerable: true, configurable: true });
          }
        }
        break;
      case 'C': case 'E': case 'L':
        for (let j = 2; j < e.length; j += 2) {
          const k = e[j];
          const hidden = Array.isArray(k);
          // define, not assign: a setter on the class must not run, and fields are own data
          Object.defineProperty(o, hidden ? (k[0] as string) : (k as string), { value: val(e[j + 1]), writable: true, enumerable: !hidden, configurable: true });
        }
        break;
      case 'A': case 'G': items(e, 1, o); break;
      case 'AX':
        items(e[1] as unknown[], 0, o);
        for (let j = 2; j < e.length; j += 2) o[e[j] as string] = val(e[j + 1]);
        break;
      case 'R': o.lastIndex = val(e[3]); break;
      case 'M': for (let j = 1; j < e.length; j += 2) o.set(val(e[j]), val(e[j + 1])); break;
      case 'S': for (let j = 1; j < e.length; j++) o.add(val(e[j])); break;
      case 'X': o.e = val(e[1]); break;
      case 'I': o.s = val(e[2]); break;
    }
  }

  // properties assigned to closures and classes (defined, not assigned: no setter runs)
  for (const i of c.order) {
    const e = objs[i];
    if (e[0] !== 'F' || e.length !== 3 + c.factories[e[1] as number].make.length) continue;
    const props = val(e[e.length - 1]) as Record<string, unknown>;
    for (const k of Object.keys(props)) Object.defineProperty(out[i] as object, k, { value: props[k], writable: true, enumerable: true, configurable: true });
  }

  // 3. tasklets and channels (not linked to anything live yet); packs first, a pack at a time
  const tasklets: Tasklet[] = [];
  const channels: Channel[] = [];
  const groups = new Map<number, Group>();
  if (c.packs !== null) for (const p of c.packs.packs) buildPack(c, p, out, val, groups);
  for (let i = 0; i < objs.length; i++) {
    const e = objs[i];
    if (typeof e === 'number') tasklets.push(out[i] as Tasklet); // built with its pack above
    else if (e[0] === 'K') tasklets.push(buildTasklet(c, e, out[i] as Tasklet, val, groups, i));
    else if (e[0] === 'H') {
      const ch = out[i] as Channel;
      ch._fl = e[1] as number;
      if (ch._buf !== null) for (const v of e[3] as unknown[]) ch._buf.push(val(v));
      channels.push(ch);
    }
  }

  // 4. links: queues in saved order, then timers (the only effects outside the new objects)
  for (let i = 0; i < objs.length; i++) {
    const e = objs[i];
    if (typeof e === 'number' || e[0] !== 'H') continue; // a number: a packed tasklet
    const ch = out[i] as Channel;
    for (const q of e[4] as number[][]) {
      if (isRun(q)) {
        for (let k = q[1]; k < q[1] + q[2]; k++) qPush(ch, out[k] as Tasklet);
        ch._bal += q[2] * q[3];
        continue;
      }
      const t = out[q[0]] as Tasklet;
      if (q.length === 2) qPush(ch, t);
      else {
        const g = groups.get(q[0]) as Group;
        const cs = (objs[q[0]][4] as unknown[][])[q[2]];
        const n = new SelNode(t, q[2], ch, q[1], val(cs[2]), g as never);
        g.nodes[q[2]] = n;
        qPush(ch, n);
      }
      ch._bal += q[1];
    }
  }
  const now = Date.now();
  for (let i = 0; i < objs.length; i++) {
    let e = objs[i];
    if (typeof e === 'number') {
      const p = (c.packs as PackLayout).packs[e];
      // only sleepers and receivers with a timeout have timers (a constant null: none)
      if (p.template[1] !== 'sleep' && (p.template[1] !== 'blocked' || p.template[8] === null)) continue;
      e = memberView(p, (c.packs as PackLayout).memberOf[i]);
    } else if (e[0] !== 'K') continue;
    const t = out[i] as Tasklet;
    if (e[1] === 'sleep') t._v = armSleep(t, (e[4] as number) - now);
    else if (e[1] === 'blocked' && e[8] !== null) t._v = armChannelTimeout(t, (e[8] as number) - now, 'receive()');
    else if (e[1] === 'select' && e[5] !== null) (groups.get(i) as Group).timer = armSelectTimeout(t, (e[5] as number) - now);
  }
  return { roots: c.data.roots.map(val), tasklets, channels };
}

/** A (strict, unmapped) `arguments` object of `n` items, filled in afterwards. */
function argumentsOf(n: number): IArguments {
  const capture = function (): IArguments {
    return arguments; // eslint-disable-line prefer-rest-params
  } as (...items: unknown[]) => IArguments;
  return capture(...new Array<unknown>(n));
}

/**
 * A channel saved from a module variable is restored into the channel that variable holds
 * now, when it has the same capacity and nobody uses it (no waiters, nothing buffered), so
 * module code and restored tasklets meet on one channel. Otherwise: a new channel.
 */
function liveChannel(e: unknown[]): Channel | undefined {
  if (e.length !== 6) return undefined;
  const ch = moduleChannel(e[5] as string);
  if (ch === undefined || ch._cap !== e[2] || ch._bal !== 0 || ch.length !== 0 || used.has(ch)) return undefined;
  used.add(ch);
  return ch;
}
/** Live channels taken by the restore in progress (two entries must not share one). */
let used = new Set<Channel>();

/**
 * The tasklets of a pack. Each frame of the template becomes a prototype record with the
 * pack's constant slots decoded once; a member's record is a copy of it (same hidden class
 * as the records compiled code makes) with only its column slots written, made when the
 * member's chain is first needed (runtime/lazy.ts). Everything was checked before: building
 * later cannot fail.
 */
function buildPack(c: Checked, p: PackLayout['packs'][number], out: unknown[], val: (v: unknown) => unknown, groups: Map<number, Group>): void {
  const { template, ids, cols } = p;
  const retry = template[1] === 'wait' || template[1] === 'join';
  const frames = template[3] as unknown[][];
  const protos: Frame[] = [];
  const plans: Array<Array<[string, number]>> = [];
  for (let j = 0; j < frames.length; j++) {
    const f = frames[j];
    const entry = c.fns[f[0] as number];
    const m = entry.meta as Meta;
    const proto: Frame = { f: entry.fn, pc: (f[1] as number) - (retry && j === 0 ? 1 : 0), up: null, m };
    const plan: Array<[string, number]> = [];
    const slot = (key: string, v: unknown) => {
      const marked = Array.isArray(v) && v[0] === COLUMN;
      if (marked) plan.push([key, v[1] as number]);
      // an own "__proto__" is a plain slot here, never the prototype
      Object.defineProperty(proto, key, { value: marked ? undefined : val(v), writable: true, enumerable: true, configurable: true });
    };
    const locals = m.locals;
    // `th` right after `m`, as compiled code writes its records: one hidden class for both
    if (f.length === 3 + locals.length) slot('th', f[2 + locals.length]);
    for (let k = 0; k < locals.length; k++) slot(locals[k][0], f[2 + k]);
    protos.push(proto);
    plans.push(plan);
  }
  // one builder per pack; a member's records are made when its chain is first needed (runtime/lazy.ts)
  const build = (n: number): Frame => {
    let below: Frame | null = null;
    for (let j = frames.length - 1; j >= 0; j--) {
      const rec: Frame = { ...protos[j] };
      rec.up = below;
      const plan = plans[j];
      for (let k = 0; k < plan.length; k++) {
        const [key, col] = plan[k];
        setSlot(rec, key, val(cols[col][n]));
      }
      below = rec;
    }
    return below as Frame;
  };
  for (let n = 0; n < ids.length; n++) {
    const i = ids[n];
    buildTasklet(c, memberView(p, n), out[i] as Tasklet, val, groups, i, lazyRecord(build, n));
  }
}

function buildTasklet(c: Checked, e: unknown[], t: Tasklet, val: (v: unknown) => unknown, groups: Map<number, Group>, i: number, top?: Frame): Tasklet {
  const flags = ((e[2] as number) & TF_ATOMIC ? F_ATOMIC : 0) | ((e[2] as number) & TF_BTRAP ? F_BTRAP : 0);
  switch (e[1]) {
    case 'dead':
      t._st = flags;
      return t;
    case 'bound':
      t._top = val(e[3]);
      t._st = K_BOUND | flags;
      return t;
    case 'new':
      t._top = val(e[3]);
      t._v = val(e[4]);
      t._st = K_PAUSED | F_NEW | flags;
      return t;
    case 'done':
      t._top = val(e[3]);
      t._st = K_DONE | (e[4] === 1 ? F_ERR : 0);
      return t;
  }
  const retry = e[1] === 'wait' || e[1] === 'join';
  t._top = top ?? buildFrames(c, e[3] as unknown[][], val, retry);
  switch (e[1]) {
    case 'paused': case 'runnable': case 'wait': case 'join':
      // Stackless: a restored tasklet comes back paused; wait/join re-run their call
      t._v = retry ? undefined : val(e[4]);
      t._st = K_PAUSED | flags;
      return t;
    case 'blocked':
      t._v = e[6] === 1 ? val(e[4]) : undefined;
      t._st = K_BLOCKED | flags | (e[6] === 1 ? F_SEND : 0) | (e[7] === 1 ? F_ITER : 0) | (e[8] !== null ? F_TIMED : 0);
      return t;
    case 'sleep':
      t._st = K_WAITING | W_SLEEP | flags;
      return t;
    default: {
      const g: Group = { nodes: new Array((e[4] as unknown[]).length), timer: null };
      groups.set(i, g);
      t._v = g;
      t._st = K_WAITING | W_SELECT | flags;
      return t;
    }
  }
}

/**
 * The items of a pack member's entry outside its frames (one scratch array, overwritten by
 * the next call: buildTasklet and the timers read it and keep nothing of it).
 */
function memberView(p: PackLayout['packs'][number], m: number): unknown[] {
  const template = p.template;
  for (let k = 0; k < template.length; k++) scratch[k] = template[k];
  scratch.length = template.length;
  for (const [c, frame, slot] of p.markers) if (frame < 0) scratch[slot] = p.cols[c][m];
  return scratch;
}
const scratch: unknown[] = [];

/** A record slot; a local named `__proto__` is an own slot, never the record's prototype. */
function setSlot(rec: Frame, key: string, v: unknown): void {
  if (key === '__proto__') Object.defineProperty(rec, key, { value: v, writable: true, enumerable: true, configurable: true });
  else rec[key] = v;
}

/** Records from the saved frames (innermost first), linked through `up`. */
function buildFrames(c: Checked, fs: unknown[][], val: (v: unknown) => unknown, retry: boolean): Frame {
  let below: Frame | null = null;
  for (let j = fs.length - 1; j >= 0; j--) {
    const f = fs[j];
    const fn = f[0];
    let rec: Frame;
    if (typeof fn === 'string') {
      rec = { f: builtinValue(fn) as Function, pc: f[1] as number, up: below };
      const keys = HELPER_KEYS[fn];
      for (let k = 0; k < keys.length; k++) rec[keys[k]] = val(f[2 + k]);
    } else {
      let m: Meta;
      let fun: Function;
      if (typeof fn === 'number') {
        const entry = c.fns[fn];
        m = entry.meta as Meta;
        fun = entry.fn;
      } else {
        // a tasklet closure: the function re-created from its "F" entry
        fun = val(fn) as Function;
        m = c.factories[c.data.objs[(fn as number[])[1]][1] as number].fn as Meta;
      }
      const pc = (f[1] as number) - (retry && j === 0 ? 1 : 0);
      rec = { f: fun, pc, up: below, m };
      const locals = m.locals;
      // `th` right after `m`, as compiled code writes its records: one hidden class for both
      if (f.length === 3 + locals.length) rec.th = val(f[2 + locals.length]);
      for (let k = 0; k < locals.length; k++) {
        const key = locals[k][0];
        setSlot(rec, key, val(f[2 + k]));
      }
    }
    below = rec;
  }
  return below as Frame;
}
