// select([...cases], { timeout }): wait on several channel operations at once (beyond
// Stackless). A blocked select puts one SelNode per case into the channels' queues;
// the partner that pops one fires the whole select and unlinks the other nodes.
import { rt, now, Bomb, K_PAUSED, K_WAITING, W_SELECT, W_MASK, SK_WAIT } from './rt.js';
import { StacklessError, M } from './errors.js';
import { setKind, ringRemove } from './ring.js';
import { qPush, qUnlink, type QNode } from './queue.js';
import { suspend } from './scheduler.js';
import { checkBlockTrap, checkBlock, checkSwitch } from './block.js';
import {
  CLOSED, C_CLOSING, popReceiver, popSender, taken, afterRendezvous, rendezvousSwitches, type Chan,
} from './chancore.js';
import { armSelectTimeout, cancelTimed, type Timed } from './async.js';
import { Channel } from './channel.js';
import type { Tasklet } from './tasklet.js';

/** A receive case is a channel (or `{ receive: ch }`); a send case is `{ send: ch, value }`. */
export type SelectCase<T = unknown> = Channel<T> | { receive: Channel<T> } | { send: Channel<T>; value: T };

export interface SelectResult<T = unknown> {
  /** index of the case that completed; -1 on timeout */
  index: number;
  /** the value received (undefined for a send case or a timeout) */
  value: T | undefined;
  /** true when a receive case found its channel closed and drained */
  done: boolean;
}

export interface SelectOptions {
  /** milliseconds; 0 polls without blocking. Needs runAsync or an event loop. */
  timeout?: number;
}

/** One case of a blocked select, linked into its channel's queue. */
export class SelNode implements QNode {
  _n: QNode | null = null;
  _p: QNode | null = null;
  constructor(
    readonly t: Tasklet,
    readonly i: number,
    readonly ch: Chan,
    readonly d: number,
    readonly v: unknown,
    readonly g: Group,
  ) {}
}

interface Group {
  nodes: SelNode[];
  timer: Timed | null;
}

export const SELECT_TIMEOUT = (): SelectResult => ({ index: -1, value: undefined, done: false });

function unlinkGroup(g: Group, except: SelNode | null): void {
  for (const n of g.nodes) {
    if (n === except || n._n === null) continue;
    qUnlink(n);
    n.ch._bal -= n.d;
  }
  cancelTimed(g.timer);
}

/** A partner popped node `n` (already unlinked) with `v`: complete the select. */
export function fireSelect(n: SelNode, v: unknown): Tasklet {
  unlinkGroup(n.g, n);
  const t = n.t;
  if (v instanceof Bomb) t._v = v;
  else if (v === CLOSED) t._v = { index: n.i, value: undefined, done: true };
  else t._v = { index: n.i, value: n.d < 0 ? v : undefined, done: false };
  t._st &= ~(3 << 12);
  setKind(t, K_PAUSED);
  return t;
}

/** Kill / timeout: take a blocked select off all its channels. */
export function cancelSelect(t: Tasklet): void {
  const g = t._v as Group;
  if (g && g.nodes) unlinkGroup(g, null);
}

function parse(c: SelectCase): [Channel<any>, number, unknown] {
  if (c instanceof Channel) return [c, -1, undefined];
  if (c && 'send' in c && c.send instanceof Channel) return [c.send, 1, c.value];
  if (c && 'receive' in c && c.receive instanceof Channel) return [c.receive, -1, undefined];
  throw new TypeError('select(): a case is a Channel, { receive: channel } or { send: channel, value }');
}

export function select<T = unknown>(cases: readonly SelectCase<T>[], options?: SelectOptions): SelectResult<T> {
  const ok = rt.tok === select;
  rt.tok = null;
  const t = now.cur as Tasklet;
  const parsed = cases.map(parse);
  // First ready case wins, in order (deterministic, unlike Go's random choice).
  for (let i = 0; i < parsed.length; i++) {
    const [ch, d, v] = parsed[i];
    const buf = ch._buf;
    const switchOk = ok || t === rt.main;
    if (d < 0) {
      if (ch.length > 0 || ch._bal > 0) {
        if (ch.length === 0 && switchOk && rt.strap !== 0 && rendezvousSwitches(ch, d)) throw new StacklessError(M.switchTrap);
        // buffered: the channel's own receive path never blocks here
        if (ch.length > 0) return { index: i, value: ch.receive() as T, done: false };
        const s = popSender(ch);
        const val = taken;
        const res = val instanceof Bomb ? val : { index: i, value: val, done: false };
        return afterRendezvous(ch, d, s, res, switchOk) as SelectResult<T>;
      }
      if (ch._fl & C_CLOSING) return { index: i, value: undefined, done: true };
    } else {
      if (ch._fl & C_CLOSING) throw new StacklessError(M.closed);
      if (ch._bal < 0) {
        if (switchOk && rt.strap !== 0 && rendezvousSwitches(ch, d)) throw new StacklessError(M.switchTrap);
        const r = popReceiver(ch, v);
        return afterRendezvous(ch, d, r, { index: i, value: undefined, done: false }, switchOk) as SelectResult<T>;
      }
      if (buf !== null && ch.length < ch._cap) {
        buf.push(v);
        return { index: i, value: undefined, done: false };
      }
    }
  }
  const timeout = options?.timeout;
  if (timeout !== undefined && timeout <= 0) {
    checkSwitch(t, true, 'select()');
    return SELECT_TIMEOUT() as SelectResult<T>;
  }
  checkBlockTrap(t);
  checkBlock(t, ok, 'select()');
  for (let i = 0; i < parsed.length; i++)
    for (let j = 0; j < i; j++)
      if (parsed[i][0] === parsed[j][0] && parsed[i][1] !== parsed[j][1])
        throw new StacklessError('select(): cannot both send and receive on the same channel');
  const g: Group = { nodes: [], timer: null };
  for (let i = 0; i < parsed.length; i++) {
    const [ch, d, v] = parsed[i];
    const n = new SelNode(t, i, ch, d, v, g);
    g.nodes.push(n);
    qPush(ch, n);
    ch._bal += d;
  }
  if (timeout !== undefined && t !== rt.main) g.timer = armSelectTimeout(t, timeout);
  ringRemove(t);
  t._st = (t._st & ~(7 | W_MASK)) | K_WAITING | W_SELECT;
  t._v = g;
  return suspend(SK_WAIT, now.head) as SelectResult<T>;
}
