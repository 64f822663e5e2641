// A worker process for the kill -9 test (tests/workflow/crash.test.ts), run as
//   node --import stackless/register worker.ts <db> <log file> <steps>
// It starts (or finds again: start is idempotent by id) run 'job' and drains it. Every step
// appends "start i" and "done i" to the log file around a short wait, so the test sees
// which step functions ran and how often.
import { appendFileSync } from 'node:fs';
import { createEngine, sqliteStore, step } from 'stackless/workflow';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
// With HANG_AT=i the function of step i never finishes, so the test's SIGKILL surely lands
// while that step is in flight, however slow the machine is.
const hangAt = Number(process.env.HANG_AT ?? 0);

export function pipeline(log: string, n: number): number {
  'use tasklet';
  let sum = 0;
  for (let i = 1; i <= n; i++) {
    sum += step(`step ${i}`, async () => {
      appendFileSync(log, `start ${i}\n`);
      if (i === hangAt) await new Promise(() => {});
      await delay(15);
      appendFileSync(log, `done ${i}\n`);
      return i;
    });
  }
  return sum;
}

const [db, log, steps] = process.argv.slice(2);
const engine = createEngine({ store: sqliteStore(db) });
await engine.start(pipeline, [log, Number(steps)], { id: 'job' });
const report = await engine.drain();
const info = await engine.get('job');
console.log(JSON.stringify({ status: info.status, result: info.result, loaded: report.loaded }));
await engine.close();
