// The durable workflow of the demo (demo/durable.mjs runs this file as a worker process):
//
//   node --import stackless/register demo/order.ts <store.db> <log file>
//
// It starts run 'order-A-17' (or finds it again in the store: start is idempotent by id) and
// drains it. Each step's function appends its name to the log file, so the demo can count how
// often each one really ran, across processes.
import { appendFileSync } from 'node:fs';
import { createEngine, sqliteStore, step } from 'stackless/workflow';

const [db, log] = process.argv.slice(2);
const STEP_MS = Number(process.env.DEMO_STEP_MS ?? 500);
// demo/durable.mjs makes one step of the first worker slow (a warehouse that takes its time),
// so that its kill -9 surely lands while that step runs, however loaded the machine is
const SLOW = process.env.DEMO_SLOW_STEP;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A side effect: what a real step would do with a payment API, a warehouse, a mail server. */
async function sideEffect<T>(name: string, result: T): Promise<T> {
  appendFileSync(log, `${process.pid} ${name}\n`);
  console.log(`  [worker ${process.pid}] step '${name}' runs`);
  await pause(name === SLOW ? 60_000 : STEP_MS);
  return result;
}

export function order(id: string, items: string[]): string {
  'use tasklet';
  const reserved = step('reserve stock', () => sideEffect('reserve stock', items.length));
  const charge = step('charge card', () => sideEffect('charge card', `ch_${id}`));
  const box = step('pack', () => sideEffect('pack', `box of ${reserved}`));
  const tracking = step('ship', () => sideEffect('ship', `TRACK-${id}`));
  step('email receipt', () => sideEffect('email receipt', true));
  return `${id}: ${box}, ${charge}, ${tracking}`;
}

const engine = createEngine({ store: sqliteStore(db) });
const run = await engine.start(order, ['A-17', ['lamp', 'desk']], { id: 'order-A-17' });
const found = await run.get();
if (found.checkpoints === 0) console.log(`  [worker ${process.pid}] started run '${run.id}' (5 steps)`);
else console.log(`  [worker ${process.pid}] found run '${run.id}' in the store: ${found.status}, ${found.steps} steps completed; resuming from its last checkpoint`);
await engine.drain();
const done = await run.get();
console.log(`  [worker ${process.pid}] run '${run.id}' ${done.status}: ${JSON.stringify(done.result ?? done.error)}`);
await engine.close();
