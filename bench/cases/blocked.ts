import { Channel, Tasklet, spawn, run } from "stackless";

// `count` tasklets, each blocked in a receive on one shared channel.

function waiter(ch: Channel<number>): number {
  "use tasklet";
  const v = ch.receive();
  return v;
}

/** Spawns and runs the waiters; returns them and the channel (both retained by the caller). */
export function blockMany(count: number): { channel: Channel<number>; tasklets: Tasklet<number>[] } {
  const channel = new Channel<number>();
  const tasklets: Tasklet<number>[] = new Array(count);
  for (let i = 0; i < count; i++) tasklets[i] = spawn(waiter, channel);
  run();
  return { channel, tasklets };
}
