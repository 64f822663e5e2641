import { Channel, spawn, run } from "stackless";

// A ring of tasklets: tasklet i receives the token from channel i (its left)
// and sends token + 1 to channel i + 1 (its right); the last one closes the
// ring back to channel 0. After `laps` laps the last tasklet hands the token
// to `exit` instead, so the final token equals n * laps.

function node(left: Channel<number>, right: Channel<number>, laps: number, exit: Channel<number> | null): void {
  "use tasklet";
  for (let lap = 0; lap < laps; lap++) {
    const token = left.receive();
    if (exit !== null && lap === laps - 1) exit.send(token + 1);
    else right.send(token + 1);
  }
}

function driver(first: Channel<number>, exit: Channel<number>, out: { token: number }): void {
  "use tasklet";
  first.send(0);
  out.token = exit.receive();
}

export interface Ring {
  channels: Channel<number>[];
  exit: Channel<number>;
}

/** Creates the ring and runs every tasklet until it blocks in its first receive. */
export function setupRing(n: number, laps: number): Ring {
  const channels: Channel<number>[] = [];
  for (let i = 0; i < n; i++) channels.push(new Channel<number>());
  const exit = new Channel<number>();
  for (let i = 0; i < n; i++) spawn(node, channels[i], channels[(i + 1) % n], laps, i === n - 1 ? exit : null);
  run();
  return { channels, exit };
}

/** Sends the token around the ring; returns the token that comes out (n * laps). */
export function passToken(ring: Ring): number {
  const out = { token: -1 };
  spawn(driver, ring.channels[0], ring.exit, out);
  run();
  return out.token;
}
