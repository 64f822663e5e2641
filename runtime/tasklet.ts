// class Tasklet. Five fields, one fixed shape, no per-tasklet closures or arrays
// beyond the argument list: a blocked tasklet is this object plus its frame records.
import {
  rt, now, K_MASK, K_DEAD, K_BOUND, K_PAUSED, K_SCHED, K_BLOCKED, K_WAITING, K_DONE,
  F_NEW, F_ATOMIC, F_BTRAP, F_ERR, F_MAIN, F_WATCH, SK_SCHEDULE, SK_SWITCHED, type Frame,
} from './rt.js';
import { StacklessError, TaskletExit, M } from './errors.js';
import { kind, ringAppend, ringRemove } from './ring.js';
import { suspend, unblock, irqPending, wd } from './scheduler.js';
import { checkSwitch } from './block.js';
import { joinTasklet, donePromise, dropJoins } from './join.js';
import { describeFrames } from './frames.js';
import { chainOf } from './lazy.js';
import { throwTo } from './throw.js';

const ids = new WeakMap<Tasklet<any>, number>();
let nextId = 1;

export interface ThrowOptions {
  /** true: make it runnable with the error and carry on; false (default): switch to it now. */
  pending?: boolean;
}

export class Tasklet<R = unknown> {
  /** Ring or channel-queue links (runtime-private). */
  _n: any = null;
  _p: any = null;
  /** function (bound/new) | innermost frame record | result or error (done) */
  _top: any = null;
  /** tempval; the argument array while F_NEW; a wait entry while waiting */
  _v: any = undefined;
  /** kind and flags, see rt.ts */
  _st: number = K_DEAD;

  constructor(fn?: ((...args: any[]) => R) | null) {
    if (fn !== undefined && fn !== null) {
      if (typeof fn !== 'function') throw new TypeError(M.callable);
      this._top = fn;
      this._st = K_BOUND;
    }
  }

  /** Sets the function and/or arguments; `bind(null)` unbinds (frames dropped, no finally). */
  bind(fn?: ((...args: any[]) => R) | null, args?: readonly unknown[]): this {
    if (this === now.cur) throw new StacklessError(M.bindCurrent);
    const k = kind(this);
    if (k === K_SCHED || k === K_BLOCKED || k === K_WAITING) throw new StacklessError(M.bindScheduled);
    const flags = this._st & (F_ATOMIC | F_BTRAP | F_MAIN);
    if (fn === null && args === undefined) {
      if (this._st & F_MAIN) throw new StacklessError(M.unbindMain);
      this._top = null;
      this._v = undefined;
      this._st = K_DEAD | flags;
      return this;
    }
    if (fn !== undefined && fn !== null && typeof fn !== 'function') throw new TypeError(M.callable);
    const f = fn ?? functionOf(this);
    if (args === undefined) {
      this._top = f;
      this._v = undefined;
      this._st = (f === null ? K_DEAD : K_BOUND) | flags;
    } else {
      if (f === null) throw new StacklessError(M.notBound);
      this._top = f;
      this._v = Array.from(args);
      this._st = K_PAUSED | F_NEW | flags;
    }
    return this;
  }

  /** Binds the arguments and inserts it at the end of the runnables. */
  setup(...args: unknown[]): this {
    if (this.alive) throw new StacklessError(M.alive);
    if (kind(this) !== K_BOUND) throw new StacklessError(M.notBound);
    this._v = args;
    this._st = (this._st & ~K_MASK) | F_NEW;
    ringAppend(this);
    return this;
  }

  insert(): this {
    const k = kind(this);
    if (k === K_BLOCKED || k === K_WAITING) throw new StacklessError(M.runBlocked);
    if (!this.alive) throw new StacklessError(M.runDead);
    if (this._st & F_WATCH) unblock(this); // a watchdog inserted by hand leaves its run()
    if (k !== K_SCHED) ringAppend(this);
    return this;
  }

  remove(): this {
    const k = kind(this);
    if (k === K_BLOCKED || k === K_WAITING) throw new StacklessError(M.removeBlocked);
    if (this === now.cur) throw new StacklessError(M.removeCurrent);
    if (k === K_SCHED) {
      ringRemove(this);
      this._st = (this._st & ~K_MASK) | K_PAUSED;
    }
    return this;
  }

  /** Switches to it now; the caller stays runnable where it is (upsets FIFO order). */
  run(): void {
    const ok = rt.tok === RUN;
    rt.tok = null;
    this.runOrSwitch(ok, false);
  }

  /** Switches to it now; the caller is paused until someone inserts or runs it. */
  switch(): void {
    const ok = rt.tok === SWITCH;
    rt.tok = null;
    this.runOrSwitch(ok, true);
  }

  private runOrSwitch(ok: boolean, pause: boolean): unknown {
    const k = kind(this);
    if (k === K_BLOCKED || k === K_WAITING) throw new StacklessError(M.runBlocked);
    if (!this.alive) throw new StacklessError(M.runDead);
    const t = now.cur as Tasklet;
    if (this === t) return undefined;
    checkSwitch(t, ok, pause ? 'switch()' : 'run()');
    if (this._st & F_WATCH) unblock(this);
    if (k !== K_SCHED) ringAppend(this);
    t._v = undefined;
    if (!pause) return suspend(SK_SCHEDULE, this);
    rt.back = t._n;
    ringRemove(t);
    t._st = (t._st & ~K_MASK) | K_PAUSED;
    return suspend(SK_SWITCHED, this);
  }

  kill(options?: ThrowOptions): void {
    const ok = rt.tok === KILL;
    rt.tok = null;
    throwTo(this, new TaskletExit(), options?.pending === true, ok);
  }

  throw(error: unknown, options?: ThrowOptions): void {
    const ok = rt.tok === THROW;
    rt.tok = null;
    throwTo(this, error, options?.pending === true, ok);
  }

  raiseException(Cls: new (...a: any[]) => unknown, ...args: unknown[]): void {
    const ok = rt.tok === RAISE;
    rt.tok = null;
    throwTo(this, new Cls(...args), false, ok);
  }

  /**
   * Beyond Stackless: forgets the tasklet without running anything in it. It is taken
   * off whatever it waits on (channel queue, sleep/receive/select timer, promise, join,
   * select, a nested run()) or off the runnables, its frames are dropped and it ends up
   * dead and unbound, as if never set up: no `finally` block runs, nothing is raised in
   * it, no error handler is called. Tasklets blocked in its `join()` and promises from
   * its `done()` get a StacklessError, since it will never end. Does nothing to a
   * tasklet that is not alive. The current tasklet and main cannot be dropped.
   */
  drop(): this {
    if (this._st & F_MAIN) throw new StacklessError(M.dropMain);
    if (this === now.cur) throw new StacklessError(M.dropCurrent);
    if (!this.alive) return this;
    const k = kind(this);
    if (k === K_BLOCKED || k === K_WAITING || this._st & F_WATCH) unblock(this);
    if (kind(this) === K_SCHED) ringRemove(this);
    this._top = null;
    this._v = undefined;
    this._st = K_DEAD | (this._st & (F_ATOMIC | F_BTRAP));
    dropJoins(this);
    return this;
  }

  /** Sets the atomic flag (never preempted while set); returns the previous value. */
  setAtomic(flag: boolean): boolean {
    const old = (this._st & F_ATOMIC) !== 0;
    this._st = flag ? this._st | F_ATOMIC : this._st & ~F_ATOMIC;
    if (!flag && irqPending && wd !== null && this === now.cur) rt.ticks = 0;
    return old;
  }

  /** Blocks the calling tasklet until this one ends; returns its result or throws its error. */
  join(): R {
    const ok = rt.tok === JOIN;
    rt.tok = null;
    return joinTasklet(this, ok) as R;
  }

  /** A promise of the result (or error), for ordinary async code. */
  done(): Promise<R> {
    return donePromise(this) as Promise<R>;
  }

  get blockTrap(): boolean {
    return (this._st & F_BTRAP) !== 0;
  }
  set blockTrap(v: boolean) {
    this._st = v ? this._st | F_BTRAP : this._st & ~F_BTRAP;
  }
  get tempval(): unknown {
    return this._st & F_NEW ? undefined : this._v;
  }
  set tempval(v: unknown) {
    if (!(this._st & F_NEW) && kind(this) !== K_WAITING) this._v = v;
  }
  get alive(): boolean {
    const k = kind(this);
    return k === K_PAUSED || k === K_SCHED || k === K_BLOCKED || k === K_WAITING;
  }
  get paused(): boolean {
    return kind(this) === K_PAUSED;
  }
  /** Blocked on a channel (or, beyond Stackless, sleeping/waiting/joining/selecting). */
  get blocked(): boolean {
    const k = kind(this);
    return k === K_BLOCKED || k === K_WAITING;
  }
  get scheduled(): boolean {
    const k = kind(this);
    return k === K_SCHED || k === K_BLOCKED || k === K_WAITING;
  }
  /** Every suspended chain is made of compiled frames, so any live tasklet can be restored. */
  get restorable(): boolean {
    return this.alive;
  }
  get isMain(): boolean {
    return (this._st & F_MAIN) !== 0;
  }
  get isCurrent(): boolean {
    return this === now.cur;
  }
  get atomic(): boolean {
    return (this._st & F_ATOMIC) !== 0;
  }
  get next(): Tasklet | null {
    return neighbour(this, this._n);
  }
  get prev(): Tasklet | null {
    return neighbour(this, this._p);
  }
  get id(): number {
    let id = ids.get(this);
    if (id === undefined) ids.set(this, (id = nextId++));
    return id;
  }
  get result(): R | undefined {
    return kind(this) === K_DONE && !(this._st & F_ERR) ? (this._top as R) : undefined;
  }
  get error(): unknown {
    return kind(this) === K_DONE && this._st & F_ERR ? this._top : undefined;
  }
  /** Saved frames (heap chain) plus the running one for the current tasklet. */
  get recursionDepth(): number {
    if (!this.alive || this._st & (F_NEW | F_MAIN)) return 0;
    let n = this === now.cur ? 1 : 0;
    for (let f = chainOf(this); f !== null; f = f.up) n++;
    return n;
  }
  /**
   * The frames saved as heap records, outermost first: { function, file, line, column,
   * locals }, the position being the call each frame waits in. For a suspended tasklet
   * that is its whole stack. For the current tasklet it is only the callers that are
   * still records (frames resumed one by one since its last suspension live on the JS
   * stack and are not listed; `new Error().stack` shows those). Empty for main (it never
   * has records), for a tasklet not started yet, and for a dead one.
   */
  get frames(): ReturnType<typeof describeFrames> {
    if (!this.alive || this._st & (F_NEW | F_MAIN)) return [];
    return describeFrames(chainOf(this));
  }
}

const RUN = Tasklet.prototype.run;
const SWITCH = Tasklet.prototype.switch;
const KILL = Tasklet.prototype.kill;
const THROW = Tasklet.prototype.throw;
const RAISE = Tasklet.prototype.raiseException;
const JOIN = Tasklet.prototype.join;

function neighbour(t: Tasklet, x: any): Tasklet | null {
  const k = kind(t);
  if (k === K_SCHED) return x;
  if (k === K_BLOCKED) return x instanceof Tasklet ? x : null;
  return null;
}

/** The function a tasklet runs: bound, not yet started, or its outermost frame's. */
function functionOf(t: Tasklet<any>): Function | null {
  const k = kind(t);
  if (k === K_BOUND || t._st & F_NEW) return t._top as Function;
  if (k === K_DEAD || k === K_DONE || t._top === null) return null;
  let f = chainOf(t) as Frame;
  while (f.up !== null) f = f.up;
  return f.f;
}

// The main tasklet: the ordinary code that calls the runtime. It is alive and
// runnable from the start, alone in the ring.
const main = new Tasklet();
main._st = K_SCHED | F_MAIN;
rt.main = now.cur = main;
ringAppend(main);
