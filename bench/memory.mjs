// Child process for the memory figure; run as
//   node --expose-gc bench/memory.mjs <tasklet|async> <count> [compiled blocked.mjs URL]
// Prints one JSON line: { variant, count, bytes, perItem, ms }.
import { blockManyAsync } from './baselines/blocked.mjs';

const [variant, countArg, moduleURL] = process.argv.slice(2);
const count = Number(countArg);
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

function heap() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

let make;
let check;
if (variant === 'tasklet') {
  const mod = await import(moduleURL);
  // warm the code paths on a small batch (its tasklets stay blocked but are
  // allocated before the "before" reading)
  const warm = mod.blockMany(1000);
  make = () => mod.blockMany(count);
  check = (kept) => {
    const { channel, tasklets } = kept;
    if (channel.balance !== -count) throw new Error(`channel.balance is ${channel.balance}, expected ${-count}`);
    const t = tasklets[count - 1];
    if (!t.alive || !t.blocked) throw new Error(`last tasklet: alive=${t.alive} blocked=${t.blocked}`);
    if (warm.channel.balance !== -1000) throw new Error('warm-up tasklets are not blocked');
  };
} else if (variant === 'async') {
  blockManyAsync(1000);
  make = () => blockManyAsync(count);
  check = (kept) => {
    if (kept.resolvers.length !== count || typeof kept.resolvers[count - 1] !== 'function') throw new Error('resolvers missing');
  };
} else {
  throw new Error(`unknown variant ${variant}`);
}

await new Promise((r) => setTimeout(r, 0));
const before = heap();
const t0 = performance.now();
const kept = make();
await new Promise((r) => setTimeout(r, 0)); // let pending microtasks settle
const ms = performance.now() - t0;
const after = heap();
check(kept);
const bytes = after - before;
process.stdout.write(`${JSON.stringify({ variant, count, bytes, perItem: bytes / count, ms })}\n`);
// keep `kept` alive until after the reading
globalThis.__kept = kept;
