// The ring of demo/ring.ts written with async/await over promise channels.
import { PromiseChannel } from '../bench/baselines/promise-channel.mjs';

async function node(left, right, laps, exit) {
  for (let lap = 0; lap < laps; lap++) {
    const token = await left.receive();
    if (exit !== null && lap === laps - 1) await exit.send(token + 1);
    else await right.send(token + 1);
  }
}

/** Creates the ring; every async function runs until it awaits its first receive. */
export function setupRingAsync(n, laps) {
  const channels = [];
  for (let i = 0; i < n; i++) channels.push(new PromiseChannel());
  const exit = new PromiseChannel();
  const done = new Array(n);
  for (let i = 0; i < n; i++) done[i] = node(channels[i], channels[(i + 1) % n], laps, i === n - 1 ? exit : null);
  return { channels, exit, done };
}

/** Sends the token around the ring; resolves to the token that comes out (n * laps). */
export async function passTokenAsync(ring) {
  ring.channels[0].send(0); // node 0 is waiting in receive: the hand-over is immediate
  return ring.exit.receive();
}

/** Resolves when every node has returned. */
export function finishedAsync(ring) {
  return Promise.all(ring.done);
}
