// class Channel: Stackless channels (synchronous rendezvous, preference, schedule_all,
// close/open, iteration, exceptions over channels) plus buffered channels and
// receive timeouts. Blocked tasklets are linked into the channel itself (queue.ts).
import { rt, now, Bomb, K_BLOCKED, F_SEND, F_ITER, F_TIMED, SK_CHANNEL, type Frame } from './rt.js';
import { StacklessError, M } from './errors.js';
import { ringRemove, ringAppend } from './ring.js';
import { qPush, type QNode } from './queue.js';
import { suspend } from './scheduler.js';
import { checkBlockTrap, checkBlock, checkSwitch } from './block.js';
import {
  CLOSED, C_PREF_MASK, C_SCHEDALL, C_CLOSING, popReceiver, popSender, taken,
  rendezvousSwitches, afterRendezvous, type Chan,
} from './chancore.js';
import { armChannelTimeout } from './async.js';
import { fastSend, fastReceive, SLOW, missed, clearMissed } from './chanfast.js';
import type { Tasklet } from './tasklet.js';

export type ChannelCallback = (ch: Channel<any>, t: Tasklet, sending: boolean, willBlock: boolean) => void;
let channelCallback: ChannelCallback | null = null;
let inChannelCallback = false;
export function setChannelCb(cb: ChannelCallback | null): ChannelCallback | null {
  const old = channelCallback;
  channelCallback = cb;
  return old;
}

function callback(ch: Channel<any>, t: Tasklet, sending: boolean, willBlock: boolean): void {
  const cb = channelCallback as ChannelCallback;
  inChannelCallback = true;
  rt.incb++;
  try {
    cb(ch, t, sending, willBlock);
  } finally {
    rt.incb--;
    inChannelCallback = false;
  }
}

export interface ChannelOptions {
  /** Buffer size: sends complete without a receiver while fewer than this are buffered. */
  capacity?: number;
}
export interface ReceiveOptions {
  /** Milliseconds to wait (needs runAsync or an event loop); then StacklessError. */
  timeout?: number;
}
export interface CloseOptions {
  /**
   * Beyond Stackless: also wake the receivers already blocked (Stackless leaves them
   * blocked). Iterating receivers end their loop; plain receive() throws the
   * closed-channel error.
   */
  wake?: boolean;
}

export class Channel<T = unknown> implements Chan, Iterable<T>, Iterator<T> {
  _n: QNode | null;
  _p: QNode | null;
  _bal = 0;
  _fl = 0; // preference -1, no schedule_all, open
  _buf: unknown[] | null = null;
  _bh = 0;
  _cap = 0;

  constructor(options?: ChannelOptions) {
    this._n = this._p = this;
    const cap = options?.capacity ?? 0;
    if (!(cap >= 0)) throw new RangeError('capacity must be a non-negative number');
    if (cap > 0) {
      this._cap = cap;
      this._buf = [];
    }
  }

  /** Positive: that many senders wait; negative: that many receivers wait. */
  get balance(): number {
    return this._bal;
  }
  /** -1 (default): receiver runs on; 1: sender runs on; 0: the caller runs on. */
  get preference(): number {
    return (this._fl & C_PREF_MASK) - 1;
  }
  set preference(p: number) {
    if (typeof p !== 'number' || !Number.isInteger(p)) throw new TypeError(M.preference);
    this._fl = (this._fl & ~C_PREF_MASK) | (Math.sign(p) + 1);
  }
  get scheduleAll(): boolean {
    return (this._fl & C_SCHEDALL) !== 0;
  }
  set scheduleAll(v: boolean) {
    this._fl = v ? this._fl | C_SCHEDALL : this._fl & ~C_SCHEDALL;
  }
  /** The first waiting tasklet, or null. */
  get queue(): Tasklet | null {
    const w = this._n as QNode;
    if (w === this) return null;
    return ('t' in w ? (w as { t: Tasklet }).t : w) as Tasklet;
  }
  get closing(): boolean {
    return (this._fl & C_CLOSING) !== 0;
  }
  /** Closing and drained: no waiting senders, nothing buffered. */
  get closed(): boolean {
    return (this._fl & C_CLOSING) !== 0 && this._bal === 0 && this.length === 0;
  }
  /** Values in the buffer (always 0 for an unbuffered channel). */
  get length(): number {
    return this._buf === null ? 0 : this._buf.length - this._bh;
  }
  get capacity(): number {
    return this._cap;
  }

  send(value: T): void {
    const ok = rt.tok === SEND;
    rt.tok = null;
    if (ok && channelCallback === null && this._buf === null && fastSend(this, value) !== SLOW) return;
    action(this, 1, value, ok, 'send()', 0, undefined);
  }

  receive(options?: ReceiveOptions): T {
    const ok = rt.tok === RECEIVE;
    rt.tok = null;
    if (ok && options === undefined && channelCallback === null && this._buf === null) {
      const v = fastReceive(this);
      if (!missed) return v as T;
      clearMissed();
    }
    return action(this, -1, undefined, ok, 'receive()', 0, options?.timeout) as T;
  }

  /** The receiver raises `new Cls(...args)`. */
  sendException(Cls: new (...a: any[]) => unknown, ...args: unknown[]): void {
    const ok = rt.tok === SENDEXC;
    rt.tok = null;
    action(this, 1, new Bomb(new Cls(...args)), ok, 'sendException()', 0, undefined);
  }

  /** The receiver raises `error` itself. */
  sendThrow(error: unknown): void {
    const ok = rt.tok === SENDTHROW;
    rt.tok = null;
    action(this, 1, new Bomb(error), ok, 'sendThrow()', 0, undefined);
  }

  /** Sends every value of `iterable`; returns how many were sent. Resumable (protocol). */
  sendSequence(iterable: Iterable<T>): number {
    const tk = rt.tok;
    rt.tok = null;
    let it: Iterator<T>;
    let n = 0;
    if (rt.rf !== null) {
      const F = rt.rf;
      rt.rf = null;
      if (rt.rk) throw rt.rv;
      it = F.it as Iterator<T>;
      n = (F.n as number) + 1;
    } else it = iterable[Symbol.iterator]();
    for (;;) {
      const r = it.next();
      if (r.done) return n;
      const send = this.send;
      rt.tok = send;
      const sent: unknown = send.call(this, r.value);
      if (rt.u !== 0) {
        const rec: Frame = { f: SENDSEQ, pc: 1, up: null, th: this, it, n };
        if (sent !== undefined) (sent as Frame).up = rec;
        else rt.inner = rec;
        if (tk !== SENDSEQ) return rt.boundary(rec) as number;
        return rec as unknown as number;
      }
      n++;
    }
  }

  /** Iterator protocol: receives until the channel is closing and drained. */
  next(): IteratorResult<T> {
    const ok = rt.tok === NEXT;
    rt.tok = null;
    if (this._fl & C_CLOSING && this._bal <= 0 && this.length === 0) return { value: undefined, done: true };
    return action(this, -1, undefined, ok, 'iteration', F_ITER, undefined) as IteratorResult<T>;
  }

  [Symbol.iterator](): Iterator<T> {
    return this;
  }

  close(options?: CloseOptions): void {
    this._fl |= C_CLOSING;
    if (options?.wake) {
      while (this._bal < 0) ringAppend(popReceiver(this, CLOSED));
    }
  }

  open(): void {
    this._fl &= ~C_CLOSING;
  }
}

const SEND = Channel.prototype.send;
const RECEIVE = Channel.prototype.receive;
const SENDEXC = Channel.prototype.sendException;
const SENDTHROW = Channel.prototype.sendThrow;
const SENDSEQ = Channel.prototype.sendSequence;
const NEXT = Channel.prototype.next;

/**
 * One channel operation by the current tasklet: `dir` 1 sends `value`, -1 receives.
 * `iter` (F_ITER) makes the result an IteratorResult.
 */
function action(ch: Channel<any>, dir: number, value: unknown, ok: boolean, what: string, iter: number, timeout: number | undefined): unknown {
  const t = now.cur as Tasklet;
  if (channelCallback !== null) {
    if (inChannelCallback) throw new StacklessError(M.recursiveCb);
    const willBlock = dir > 0 ? ch._bal >= 0 && !(ch.length < ch._cap) : ch._bal <= 0 && ch.length === 0;
    if (dir > 0) t._v = value;
    callback(ch, t, dir > 0, willBlock);
    if (dir > 0) t._v = undefined;
  }
  const buf = ch._buf;
  if (dir > 0) {
    if (ch._bal < 0) {
      const switches = rendezvousSwitches(ch, dir);
      if (switches && rt.strap !== 0 && (ok || t === rt.main)) throw new StacklessError(M.switchTrap);
      const r = popReceiver(ch, value);
      return afterRendezvous(ch, dir, r, undefined, ok || t === rt.main);
    }
    if (buf !== null && buf.length - ch._bh < ch._cap) {
      buf.push(value);
      return undefined;
    }
  } else {
    if (buf !== null && buf.length > ch._bh) {
      let v = buf[ch._bh];
      buf[ch._bh++] = undefined;
      if (ch._bh === buf.length) {
        buf.length = 0;
        ch._bh = 0;
      } else if (ch._bh > 64 && ch._bh * 2 > buf.length) {
        buf.splice(0, ch._bh);
        ch._bh = 0;
      }
      if (ch._bal > 0) {
        // A sender waited for room: its value moves into the buffer, it runs on later.
        const s = popSender(ch);
        buf.push(taken);
        ringAppend(s);
      }
      if (v instanceof Bomb) throw v.e;
      return iter ? { value: v, done: false } : v;
    }
    if (ch._bal > 0) {
      const switches = rendezvousSwitches(ch, dir);
      if (switches && rt.strap !== 0 && (ok || t === rt.main)) throw new StacklessError(M.switchTrap);
      const s = popSender(ch);
      let v = taken;
      if (iter && !(v instanceof Bomb)) v = { value: v, done: false };
      return afterRendezvous(ch, dir, s, v, ok || t === rt.main);
    }
  }
  // Nobody to pair with: block (Stackless's checks, in Stackless's order).
  checkBlockTrap(t);
  if (ch._fl & C_CLOSING) throw new StacklessError(M.closed);
  if (timeout !== undefined && timeout <= 0) {
    checkSwitch(t, true, what);
    throw new StacklessError(`${what} timed out`);
  }
  checkBlock(t, ok, what);
  ringRemove(t);
  qPush(ch, t);
  ch._bal += dir;
  t._st = (t._st & ~7) | K_BLOCKED | iter | (dir > 0 ? F_SEND : 0);
  t._v = dir > 0 ? value : undefined;
  if (timeout !== undefined && t !== rt.main) {
    t._st |= F_TIMED;
    t._v = armChannelTimeout(t, timeout, what);
  }
  return suspend(SK_CHANNEL, now.head);
}
