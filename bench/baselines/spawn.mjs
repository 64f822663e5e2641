// Baseline for cases/spawn.ts: create `count` native-generator tasks on the
// tiny scheduler, each doing the same little work, and run them to completion.
import { GenScheduler } from './gen-scheduler.mjs';

function* work(box, i) {
  box.n += i;
}

export function spawnAndFinishGen(count) {
  const s = new GenScheduler();
  const box = { n: 0 };
  for (let i = 0; i < count; i++) s.spawn(work(box, i));
  s.run();
  return box.n;
}
