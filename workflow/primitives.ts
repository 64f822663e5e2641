// What a workflow calls: step(), sleep(), signal(). They follow the runtime's protocol for
// primitives (docs/protocol.md): compiled code announces the callee in `rt.tok`; step() and
// sleep() block by receiving on the run's control channel, so the compiled caller saves its
// frame and the engine decides when and with what the call returns.
import { rt } from '../runtime/rt.js';
import { boundaryError } from '../runtime/errors.js';
import { Channel } from '../runtime/index.js';
import { current, signalChannel } from './context.js';
import { parseDuration } from './duration.js';
import { WorkflowError } from './errors.js';
import { checkStepOptions, type StepFn, type StepOptions } from './steps.js';

const RECEIVE = Channel.prototype.receive;

/**
 * Runs `fn` as a durable step: at least once, with retries; its result is saved in the
 * checkpoint taken as it completes, so a resumed workflow never runs a completed step again.
 * Returns `fn`'s result (awaited if it is a promise); throws its error once retries are spent
 * (at once for NonRetryableError). Must be called from a "use tasklet" workflow function.
 */
export function step<T>(name: string, fn: StepFn<T>, options?: StepOptions): T {
  const ok = rt.tok === step;
  rt.tok = null;
  const live = current('step()');
  if (typeof name !== 'string' || name === '') throw new WorkflowError('BAD_ARGUMENT', 'step() needs a name (a non-empty string) as its first argument');
  if (typeof fn !== 'function') throw new WorkflowError('BAD_ARGUMENT', `step('${name}') needs a function as its second argument`);
  const opts = checkStepOptions(name, options);
  if (!ok) throw boundaryError(`step('${name}')`);
  live.host.beginStep(live, name, fn as StepFn<unknown>, opts);
  rt.tok = RECEIVE;
  return live.ctx.ctl.receive() as T;
}

/**
 * Durable sleep: `ms`, a text such as '3 days' or '1h30m', or a Date to sleep until. The run
 * is checkpointed and unloaded (it holds no memory and no timer); a drain at or after the
 * deadline, in this process or another, resumes it.
 */
export function sleep(duration: number | string | Date): void {
  const ok = rt.tok === sleep;
  rt.tok = null;
  const live = current('sleep()');
  const until = duration instanceof Date ? duration.getTime() : Date.now() + parseDuration(duration);
  if (Number.isNaN(until)) throw new WorkflowError('BAD_ARGUMENT', 'sleep() got an invalid Date');
  if (!ok) throw boundaryError('sleep()');
  live.ctx.sleepUntil = until;
  rt.tok = RECEIVE;
  live.ctx.ctl.receive();
}

/**
 * The channel that signals named `name` arrive on (engine.signal(id, name, value)), in the
 * order they were sent. Receive from it to wait for one: the run is checkpointed and unloaded
 * while it waits. The same channel every time for the same name.
 */
export function signal<T = unknown>(name: string): Channel<T> {
  rt.tok = null; // never blocks; consume the token as every primitive does
  const live = current('signal()');
  checkSignalName(name);
  return signalChannel(live.ctx, name) as Channel<T>;
}

export function checkSignalName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '' || name.includes('\n') || name.includes('\u0001')) {
    throw new WorkflowError('BAD_ARGUMENT', `a signal name must be a non-empty string without line breaks (or \\u0001), got ${JSON.stringify(name)}`);
  }
}

export interface ChildOptions {
  /** The child run's id; default `<parent id>/<index of the call among the parent's steps>`. */
  id?: string;
}

/**
 * Starts `fn(...args)` as a child workflow run and waits for its end, durably: the parent is
 * checkpointed and unloaded while the child runs (in this process or another worker), and is
 * resumed with the child's result, or with WorkflowError CHILD_FAILED thrown at the call if the
 * child failed or was cancelled. Starting is idempotent: a parent resumed from a checkpoint
 * taken before the call finds the same child again. Must be called from a "use tasklet" workflow.
 */
export function child<A extends unknown[], R>(fn: (...args: A) => R, args?: A, options?: ChildOptions): R {
  const ok = rt.tok === child;
  rt.tok = null;
  const live = current('child()');
  if (typeof fn !== 'function') throw new WorkflowError('BAD_ARGUMENT', 'child() needs a workflow function as its first argument');
  const list = args ?? [];
  if (!Array.isArray(list)) throw new WorkflowError('BAD_ARGUMENT', 'child(fn, args): args must be an array');
  const id = options?.id;
  if (id !== undefined && (typeof id !== 'string' || id === '')) throw new WorkflowError('BAD_ARGUMENT', 'child(): options.id must be a non-empty string');
  if (!ok) throw boundaryError('child()');
  live.host.beginChild(live, fn, list, id);
  rt.tok = RECEIVE;
  return live.ctx.ctl.receive() as R;
}
