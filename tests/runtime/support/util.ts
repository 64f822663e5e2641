// Shorthands for hand-compiled test tasklets, and a check that a test left the
// runtime clean (only main runnable, no watchdogs, no pending waits).
import { expect } from 'vitest';
import { S, type Stmt, type Locals } from './hand.js';
import {
  Channel, schedule, getRunCount, getCurrent, getMain, setErrorHandler, setScheduleCallback,
  setChannelCallback, switchTrap,
} from '../../../runtime/index.js';
import { rt } from '../../../runtime/internal.js';

export const say = (log: unknown[], msg: string | ((L: Locals) => unknown)): Stmt =>
  S.do((L) => log.push(typeof msg === 'string' ? msg : msg(L)));
export const sched = (to?: (L: Locals, v: any) => void): Stmt => S.call(() => [schedule, undefined], to);
export const recv = (ch: Channel<any> | ((L: Locals) => Channel<any>), to?: (L: Locals, v: any) => void): Stmt =>
  S.call((L) => {
    const c = typeof ch === 'function' ? ch(L) : ch;
    return [c.receive, c];
  }, to);
export const send = (ch: Channel<any> | ((L: Locals) => Channel<any>), v: (L: Locals) => unknown): Stmt =>
  S.call((L) => {
    const c = typeof ch === 'function' ? ch(L) : ch;
    return [c.send, c, v(L)];
  });
/** A call of `fn(...args(L))` as a call site. */
export const call = (fn: Function, args: (L: Locals) => unknown[] = () => [], to?: (L: Locals, v: any) => void): Stmt =>
  S.call((L) => [fn, undefined, ...args(L)], to);

/** Asserts the scheduler is back to its resting state and resets global hooks. */
export function expectClean(): void {
  setErrorHandler(null);
  setScheduleCallback(null);
  setChannelCallback(null);
  const trap = switchTrap(0);
  if (trap !== 0) switchTrap(-trap);
  expect(getCurrent()).toBe(getMain());
  expect(rt.u).toBe(0);
  expect(rt.rf).toBe(null);
  expect(getRunCount()).toBe(1);
}
