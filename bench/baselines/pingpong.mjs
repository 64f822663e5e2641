// The ping-pong of cases/pingpong.ts with async/await over a promise channel,
// and with native generators on a tiny scheduler.
import { PromiseChannel } from './promise-channel.mjs';
import { GenChannel, GenScheduler } from './gen-scheduler.mjs';

async function pingerAsync(ping, pong, n, out) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    await ping.send(i);
    sum += await pong.receive();
  }
  out.sum = sum;
}

async function pongerAsync(ping, pong, n) {
  for (let i = 0; i < n; i++) {
    const v = await ping.receive();
    await pong.send(v + 1);
  }
}

export async function pingpongAsync(n) {
  const ping = new PromiseChannel();
  const pong = new PromiseChannel();
  const out = { sum: -1 };
  await Promise.all([pingerAsync(ping, pong, n, out), pongerAsync(ping, pong, n)]);
  return out.sum;
}

export function* pingerGen(ping, pong, n, out) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    yield ping.send(i);
    sum += yield pong.receive();
  }
  out.sum = sum;
}

export function* pongerGen(ping, pong, n) {
  for (let i = 0; i < n; i++) {
    const v = yield ping.receive();
    yield pong.send(v + 1);
  }
}

export function pingpongGen(n) {
  const s = new GenScheduler();
  const ping = new GenChannel(s);
  const pong = new GenChannel(s);
  const out = { sum: -1 };
  s.spawn(pingerGen(ping, pong, n, out));
  s.spawn(pongerGen(ping, pong, n));
  s.run();
  return out.sum;
}
