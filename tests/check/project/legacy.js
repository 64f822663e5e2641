// JavaScript is checked too; parameter types come from JSDoc (or from inference).
import { Channel } from 'stackless';

/** @param {Channel<number>} channel */
export function pump(channel) {
  'use tasklet';
  return channel.receive();
}

export function start() {
  const channel = new Channel();
  pump(channel); // expect SL2001
  return channel;
}

export function worker() {
  'use tasklet';
  start();
}
