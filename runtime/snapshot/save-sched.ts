// The serializer's scheduler side: tasklets (state, frames, tempval, what they wait on)
// and channels (flags, buffer, waiting queue in order). See docs/snapshot-format.md.
import {
  rt, K_MASK, K_DEAD, K_BOUND, K_PAUSED, K_SCHED, K_BLOCKED, K_WAITING, K_DONE, F_NEW, F_ATOMIC,
  F_BTRAP, F_ERR, F_SEND, F_ITER, F_TIMED, W_MASK, W_SLEEP, W_PROMISE, W_JOIN, W_SELECT, type Frame,
} from '../rt.js';
import type { Tasklet } from '../tasklet.js';
import type { Channel } from '../channel.js';
import { SelNode } from '../select.js';
import { qSentinel, type QNode } from '../queue.js';
import { builtinName } from './builtins.js';
import { closureInfo, factoryRegistry } from '../compiled.js';
import { fail, where, type Meta } from './errors.js';
import { HELPER_KEYS, TF_ATOMIC, TF_BTRAP } from './format.js';
import type { Saver } from './save.js';
import { chainOf } from '../lazy.js';
import { QueueItems, put, type PackGroup } from './pack-build.js';

function isChannel(x: QNode): boolean {
  return (x as Channel)._bal !== undefined;
}

/** Absolute deadline (ms since the epoch) of a live timer entry (async.ts Timed), or null. */
function deadline(e: unknown): number | null {
  const d = e as { t: unknown; at: number } | null;
  return d !== null && typeof d === 'object' && d.t !== null && typeof d.at === 'number' && d.at === d.at ? d.at : null;
}

export function encodeTasklet(s: Saver, t: Tasklet): unknown[] {
  if (t === rt.cur) fail('CURRENT_TASKLET', 'You cannot __reduce__ the tasklet which is current.');
  const st = t._st;
  const k = st & K_MASK;
  const flags = (st & F_ATOMIC ? TF_ATOMIC : 0) | (st & F_BTRAP ? TF_BTRAP : 0);
  s.at(`<tasklet>`);
  switch (k) {
    case K_DEAD:
      return ['K', 'dead', flags];
    case K_BOUND:
      s.at('<tasklet function>');
      return ['K', 'bound', flags, s.val(t._top)];
    case K_DONE:
      s.at('<tasklet result>');
      return ['K', 'done', flags, s.val(t._top), st & F_ERR ? 1 : 0];
  }
  if (st & F_NEW) {
    s.at('<tasklet function>');
    const fn = s.val(t._top);
    s.at('<tasklet arguments>');
    return ['K', 'new', flags, fn, s.val(t._v)];
  }
  chainOf(t); // a restored chain not built yet is built now
  // wait() and join() are restored at their call's retry entry (pc - 1): what is live there counts
  const retry = k === K_WAITING && ((st & W_MASK) === W_PROMISE || (st & W_MASK) === W_JOIN);
  if (k !== K_WAITING || (st & W_MASK) !== W_SELECT) {
    const packed = filed(s, t, k, st, flags, retry);
    if (packed) return packed;
  }
  const frames = encodeFrames(s, t._top as Frame, retry);
  s.at('<tempval>');
  if (k === K_PAUSED || k === K_SCHED) return ['K', k === K_PAUSED ? 'paused' : 'runnable', flags, frames, s.val(t._v)];
  if (k === K_BLOCKED) {
    const ch = channelOf(s, t);
    const dir = st & F_SEND ? 1 : -1;
    const value = dir > 0 ? s.val(t._v) : s.val(undefined);
    const at = st & F_TIMED ? deadline(t._v) : null;
    return ['K', 'blocked', flags, frames, value, s.ref(ch), dir, st & F_ITER ? 1 : 0, at];
  }
  if (k !== K_WAITING) return fail('UNSUPPORTED_VALUE', `cannot save ${s.here()}: tasklet in an unknown state ${st}`);
  const w = st & W_MASK;
  if (w === W_SLEEP) return ['K', 'sleep', flags, frames, deadline(t._v)];
  if (w === W_PROMISE || w === W_JOIN) {
    // Restored by re-running the call (retry entry pc - 1): wait(thunk) calls the thunk again,
    // join() joins the restored tasklet again. Only a compiled caller has such an entry.
    const top = t._top as Frame;
    const m = top.m as Meta | undefined;
    const what = w === W_PROMISE ? 'wait()' : 'join()';
    if (m === undefined || !hasPc(m, top.pc - 1)) {
      fail('NOT_RESTORABLE', `cannot save a tasklet in ${what}: it was not called from a tasklet function`);
    }
    return ['K', w === W_PROMISE ? 'wait' : 'join', flags, frames];
  }
  // select: one case per node, in case order
  const g = t._v as { nodes: SelNode[]; timer: unknown };
  const cases: unknown[] = [];
  for (const n of g.nodes) {
    s.at(`<select case ${n.i}>`);
    cases.push([s.ref(n.ch), n.d, s.val(n.v)]);
  }
  return ['K', 'select', flags, frames, cases, deadline(g.timer)];
}

/**
 * The channel `t` waits on. Finding it walks the queue, so the first walk maps every
 * waiter of that channel: 100,000 tasklets in one queue cost one walk, not 100,000.
 */
function channelOf(s: Saver, t: Tasklet): QNode {
  // tasklets are mostly found through their channel's queue, in queue order: the one before
  // this one in the queue was the last one looked up
  if (s.lastWaiter !== null && t._p === s.lastWaiter) {
    s.lastWaiter = t;
    return s.lastChannel as QNode;
  }
  let ch = s.chanOf.get(t);
  if (ch === undefined) {
    ch = qSentinel(t, isChannel);
    if (t._p === ch) s.chanOf.set(t, ch); // first in its queue: the rest follow it
    else for (let n = ch._n as QNode; n !== ch; n = n._n as QNode) s.chanOf.set(n, ch);
  }
  s.lastWaiter = t;
  s.lastChannel = ch;
  return ch;
}

/**
 * Compiler temporaries dead at resume point `pc`, when the metadata says which are live there
 * (`m.live[pc]`: indexes into `m.locals` of the temporaries read again after that point; see
 * runtime/snapshot/NEEDS.md §3). A dead one is saved as undefined, so whatever it still holds
 * (a method of an unregistered object, a native function) neither costs bytes nor refuses the
 * snapshot. Only temporaries (`$t…`) are dropped: the user's variables are always saved.
 */
const deadCache = new WeakMap<object, Map<number, Uint8Array | null>>();
function deadSlots(m: Meta, pc: number): Uint8Array | null {
  const live = (m as Meta & { live?: Record<string, number[]> }).live;
  if (live === undefined || live === null || typeof live !== 'object') return null;
  let byPc = deadCache.get(m);
  if (byPc === undefined) deadCache.set(m, (byPc = new Map()));
  let dead = byPc.get(pc);
  if (dead === undefined) {
    const list = live[pc];
    dead = null;
    if (Array.isArray(list)) {
      dead = new Uint8Array(m.locals.length);
      for (let i = 0; i < m.locals.length; i++) if (/^\$t\d/.test(m.locals[i][0])) dead[i] = 1;
      for (const i of list) if (Number.isInteger(i) && i >= 0 && i < dead.length) dead[i] = 0;
    }
    byPc.set(pc, dead);
  }
  return dead;
}

export function hasPc(m: Meta, pc: number): boolean {
  const pcs = m.pcs;
  for (let i = 0; i < pcs.length; i += 3) if (pcs[i] === pc) return true;
  return false;
}

const STATE_NAME: Record<number, string> = { [K_PAUSED]: 'paused', [K_SCHED]: 'runnable', [K_BLOCKED]: 'blocked' };

/**
 * Files a tasklet into its pack (pack.ts PackBuilder) when its stack is made of compiled
 * functions only: its per-tasklet slots go straight into the pack's columns. Returns the
 * placeholder the object table holds until the saver finishes, or null (saved as a plain entry).
 */
function filed(s: Saver, t: Tasklet, k: number, st: number, flags: number, retry: boolean): unknown[] | null {
  const top = t._top as Frame;
  // most tasklets have the shape of the one saved just before: compare without building a key
  const bits = shapeBits(st);
  let g = s.lastPack;
  if (g === null || !sameShape(g.shape as Shape, top, bits)) {
    g = findGroup(s, top, k, st, flags, retry);
    if (g === null) return null;
    s.lastPack = g;
  }
  const shape = g.shape as Shape;
  g.ids.push(s.objs.length);
  let c = 0;
  let j = 0;
  const undef = s.undef;
  for (let f: Frame | null = top; f !== null; f = f.up, j++) {
    const m = f.m as Meta;
    const keys = shape.keys[j];
    s.inFrame(m, m.name, f.pc, '');
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === null) {
        put(g, c++, undef); // a compiler temporary dead at this resume point
        continue;
      }
      const v = f[key];
      // small integers and undefined are most locals: no call for them
      if (typeof v === 'number' && (v | 0) === v && (v !== 0 || 1 / v > 0)) put(g, c++, v);
      else if (v === undefined) put(g, c++, undef);
      else {
        s.inLocal(m.locals[i][1]);
        put(g, c++, s.val(v));
      }
    }
    if (shape.ths[j]) {
      s.inLocal('this');
      put(g, c++, s.val(f.th));
    }
  }
  s.outOfFrame();
  s.at('<tempval>');
  const name = g.template[1];
  if (name === 'blocked') {
    put(g, c++, st & F_SEND ? s.val(t._v) : s.undef);
    put(g, c++, s.ref(channelOf(s, t)));
    put(g, c++, st & F_TIMED ? deadline(t._v) : null);
  } else if (name === 'sleep') put(g, c++, deadline(t._v));
  else if (name !== 'wait' && name !== 'join') put(g, c++, s.val(t._v));
  return PENDING;
}

/** The state bits that change a tasklet's entry beyond its slots (others may be stale). */
function shapeBits(st: number): number {
  const k = st & K_MASK;
  let bits = k | (st & (F_ATOMIC | F_BTRAP));
  if (k === K_WAITING) bits |= st & W_MASK;
  if (k === K_BLOCKED) bits |= st & (F_SEND | F_ITER);
  return bits;
}

/** What a pack's members have in common, as live objects (for sameShape). */
interface Shape {
  bits: number;
  fs: unknown[];
  ms: unknown[];
  pcs: number[];
  ths: boolean[];
  /** per frame: the record key of each local, null for a compiler temporary dead at its resume point (deadSlots) */
  keys: Array<Array<string | null>>;
}

function sameShape(sh: Shape, top: Frame, bits: number): boolean {
  if (sh.bits !== bits) return false;
  const n = sh.fs.length;
  let j = 0;
  for (let f: Frame | null = top; f !== null; f = f.up, j++) {
    if (j === n || f.f !== sh.fs[j] || f.m !== sh.ms[j] || f.pc !== sh.pcs[j] || 'th' in f !== sh.ths[j]) return false;
  }
  return j === n;
}

/** The pack of a tasklet's shape (made on first use), or null when it cannot be packed. */
function findGroup(s: Saver, top: Frame, k: number, st: number, flags: number, retry: boolean): PackGroup | null {
  let key = '';
  for (let f: Frame | null = top; f !== null; f = f.up) {
    const m = f.m as Meta | undefined;
    if (m === undefined) return null;
    const e = s.entryOf(f.f);
    if (e === undefined || e.meta.id !== m.id) return null; // a closure's frame: plain entry
    key += `${s.fnIndex(m)}:${f.pc}${'th' in f ? 't' : ''}|`;
  }
  const w = st & W_MASK;
  const name = k === K_WAITING ? (w === W_SLEEP ? 'sleep' : w === W_PROMISE ? 'wait' : 'join') : STATE_NAME[k];
  if (name === undefined) return null;
  if (retry && !hasPc(top.m as Meta, top.pc - 1)) return null; // the plain path reports it
  const dir = st & F_SEND ? 1 : -1;
  const iter = st & F_ITER ? 1 : 0;
  key += name === 'blocked' ? `${name}|${flags}|${dir}|${iter}` : `${name}|${flags}`;
  const found = s.packs.get(key);
  if (found !== undefined) return found;
  const frames: unknown[][] = [];
  const th: boolean[] = [];
  for (let f: Frame | null = top; f !== null; f = f.up) {
    const m = f.m as Meta;
    const n = m.locals.length + ('th' in f ? 1 : 0);
    frames.push([s.fnIndex(m), f.pc, ...new Array(n).fill(null)]);
    th.push('th' in f);
  }
  const template: unknown[] =
    name === 'blocked' ? ['K', name, flags, frames, null, null, dir, iter, null]
    : name === 'wait' || name === 'join' ? ['K', name, flags, frames]
    : ['K', name, flags, frames, null];
  const g = s.packs.create(key, template, th);
  const shape: Shape = { bits: shapeBits(st), fs: [], ms: [], pcs: [], ths: th, keys: [] };
  for (let f: Frame | null = top; f !== null; f = f.up) {
    shape.fs.push(f.f);
    shape.ms.push(f.m);
    shape.pcs.push(f.pc);
    const dead = deadSlots(f.m as Meta, retry && f === top ? f.pc - 1 : f.pc);
    shape.keys.push((f.m as Meta).locals.map(([key], i) => (dead !== null && dead[i] === 1 ? null : key)));
  }
  g.shape = shape;
  return g;
}
/** What the object table holds for a tasklet filed into a pack until PackBuilder.finish(). */
const PENDING: unknown[] = [];

/** The frame chain, innermost first: [function, pc, ...locals in meta order, (this)]. */
function encodeFrames(s: Saver, top: Frame, retry: boolean): unknown[] {
  const out: unknown[] = [];
  for (let f: Frame | null = top; f !== null; f = f.up) {
    const m = f.m as Meta | undefined;
    if (m !== undefined) {
      const e = s.entryOf(f.f);
      let fn: unknown;
      if (e !== undefined && e.meta.id === m.id) fn = s.fnIndex(m);
      else {
        // a tasklet closure made through a registered factory: saved as a reference to its "F" entry
        const info = typeof f.f === 'function' ? closureInfo.get(f.f as Function) : undefined;
        const fe = info !== undefined ? factoryRegistry.get(info.meta.id) : undefined;
        if (fe === undefined || fe.fn === undefined || fe.fn.id !== m.id) {
          fail(
            'UNSUPPORTED_CLOSURE',
            `cannot save a frame of ${where(m, f.pc)} (id ${m.id}): the function is a closure the compiler ` +
              `could not re-create (it captures something other than module-level names and locals of tasklet ` +
              `functions) or a frame entered from ordinary code`,
          );
        }
        s.at('<frame function>');
        fn = s.val(f.f);
      }
      const rec: unknown[] = [fn, f.pc];
      const locals = m.locals;
      const dead = deadSlots(m, retry && f === top ? f.pc - 1 : f.pc);
      for (let i = 0; i < locals.length; i++) {
        if (dead !== null && dead[i] === 1) {
          rec.push(s.undef); // a compiler temporary not read again from this resume point
          continue;
        }
        s.inFrame(m, m.name, f.pc, locals[i][1]);
        rec.push(s.val(f[locals[i][0]]));
      }
      if ('th' in f) {
        s.inFrame(m, m.name, f.pc, 'this');
        rec.push(s.val(f.th));
      } else {
        // trailing undefined locals are left out (a frame without `this` is never longer than 2 + locals)
        let n = rec.length;
        while (n > 2 && rec[n - 1] === s.undef) n--;
        rec.length = n;
      }
      s.outOfFrame();
      out.push(rec);
      continue;
    }
    const name = builtinName(f.f);
    const keys = name !== undefined ? HELPER_KEYS[name] : undefined;
    if (name === undefined || keys === undefined) {
      return fail('UNSUPPORTED_FRAME', `cannot save a frame of ${(f.f as Function).name || 'an anonymous function'}: not a compiled tasklet function`);
    }
    const rec: unknown[] = [name, f.pc];
    for (const k of keys) {
      s.inFrame(null, name, f.pc, k);
      rec.push(s.val(f[k]));
    }
    s.outOfFrame();
    out.push(rec);
  }
  return out;
}

export function encodeChannel(s: Saver, ch: Channel): unknown[] {
  const buf: unknown[] = [];
  if (ch._buf !== null) {
    for (let i = ch._bh; i < ch._buf.length; i++) {
      s.at(`<buffer ${i - ch._bh}>`);
      buf.push(s.val(ch._buf[i]));
    }
  }
  const items = new QueueItems();
  const main = rt.main;
  for (let n = ch._n as QNode; n !== (ch as QNode); n = n._n as QNode) {
    const t = n instanceof SelNode ? n.t : (n as Tasklet);
    if (t === main) fail('MAIN_TASKLET', 'cannot save a channel the main tasklet is blocked on: main is ordinary code and cannot be saved');
    if (n instanceof SelNode) items.select(s.ref(t), n.d, n.i);
    else items.waiter(s.ref(t), t._st & F_SEND ? 1 : -1);
  }
  const name = s.channelName(ch);
  return name === undefined ? ['H', ch._fl, ch._cap, buf, items.done()] : ['H', ch._fl, ch._cap, buf, items.done(), name];
}
