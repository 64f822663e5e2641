import { Channel, spawn, run } from "stackless";

// Two tasklets bounce a counter over two channels, n round trips (2n messages).

function pinger(ping: Channel<number>, pong: Channel<number>, n: number, out: { sum: number }): void {
  "use tasklet";
  let sum = 0;
  for (let i = 0; i < n; i++) {
    ping.send(i);
    sum += pong.receive();
  }
  out.sum = sum;
}

function ponger(ping: Channel<number>, pong: Channel<number>, n: number): void {
  "use tasklet";
  for (let i = 0; i < n; i++) {
    const v = ping.receive();
    pong.send(v + 1);
  }
}

/** Runs n round trips; returns the sum of the replies (n * (n + 1) / 2). */
export function pingpong(n: number): number {
  const ping = new Channel<number>();
  const pong = new Channel<number>();
  const out = { sum: -1 };
  spawn(pinger, ping, pong, n, out);
  spawn(ponger, ping, pong, n);
  run();
  return out.sum;
}
