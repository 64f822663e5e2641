// Tasklet functions that block, directly or through others, and some that never do.
// A comment "expect SLxxxx" marks each line where `stackless check` must report; the test
// asserts that it reports exactly those.
import { Channel, schedule, sleep } from 'stackless';

export function producer(channel: Channel<number>, n: number): void {
  'use tasklet';
  for (let i = 0; i < n; i++) channel.send(i);
}

/** Blocks only through producer. */
export function relay(channel: Channel<number>, n: number): void {
  'use tasklet';
  producer(channel, n);
}

/** Blocks through relay, called with .call(). */
export function viaCall(channel: Channel<number>): void {
  'use tasklet';
  relay.call(null, channel, 1);
}

/** A tasklet function that never blocks: callable from anywhere. */
export function sum(values: number[]): number {
  'use tasklet';
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Iterating a channel receives. */
export function drain(channel: Channel<number>): number {
  'use tasklet';
  let total = 0;
  for (const v of channel) total += v;
  return total;
}

export class Agent {
  constructor(readonly inbox: Channel<string>) {}

  next(): string {
    'use tasklet';
    return this.inbox.receive();
  }

  label(): string {
    'use tasklet';
    return `agent (${sum([1, 2])})`;
  }
}

export function yielder(): void {
  'use tasklet';
  schedule();
}

export const napper = (): void => {
  'use tasklet';
  sleep(1);
};

/** Blocks through a callback that the array helper runs resumably. */
export function receiveEach(channels: Channel<number>[]): number[] {
  'use tasklet';
  return channels.map(function (c) {
    'use tasklet';
    return c.receive();
  });
}

export function outer(channel: Channel<number>, values: number[]): void {
  'use tasklet';
  values.forEach(function (v) {
    'use tasklet';
    channel.send(v);
  });
  values.forEach((v) => channel.send(v)); // expect SL2003
  values.map(relayOne); // an array method called from a tasklet function: fine
  new Map<number, number>().forEach(relayOne); // expect SL2002
  Reflect.apply(relay, null, [channel, 1]);
  const later = () => sum(values); // ordinary, but nothing in it blocks
  later();
  function helper(): void {
    yielder(); // expect SL2001
  }
  helper();
}

/** Ordinary code, called from main and from a tasklet function: inside the tasklet it throws. */
export function logAndTake(channel: Channel<number>): number {
  const value = drain(channel); // expect SL2001
  console.log(value);
  return value;
}

export function consumer(channel: Channel<number>): void {
  'use tasklet';
  logAndTake(channel);
  setTimeout(() => logAndTake(channel), 10); // a timer callback runs in the main tasklet: fine
  setTimeout(napper, 10); // expect SL2004
  setTimeout(yielder, 10);
  [channel].forEach(drain);
  [channel].forEach((c) => drain(c)); // expect SL2001
}

export function relayOne(value: number): void {
  'use tasklet';
  const channel = new Channel<number>({ capacity: 1 });
  channel.send(value);
}
