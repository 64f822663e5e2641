import { spawn, run } from "stackless";

// Spawn `count` tasklets that each do a little work and finish, then run them all.

function work(box: { n: number }, i: number): void {
  "use tasklet";
  box.n += i;
}

/** Returns the sum 0 + 1 + ... + (count - 1) computed by the tasklets. */
export function spawnAndFinish(count: number): number {
  const box = { n: 0 };
  for (let i = 0; i < count; i++) spawn(work, box, i);
  run();
  return box.n;
}
