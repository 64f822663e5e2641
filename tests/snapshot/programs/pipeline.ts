// A small workflow for the cross-process test (tests/snapshot/processes.test.ts):
//   full            run it to the end
//   save <file> <k> run k scheduler steps, write snapshot(...) as JSON to <file>, exit
//   resume <file>   restore it in this fresh process and run it to the end
// The lines printed by save + resume must equal those of full.
import { readFileSync, writeFileSync } from 'node:fs';
import { Channel, Tasklet, spawn, run, runAsync, schedule, sleep, snapshot, restore, registerClass } from 'stackless';

class Ledger {
  entries = new Map<string, bigint>();
  opened = new Date(Date.UTC(2020, 0, 1));
  add(name: string, v: bigint): void {
    this.entries.set(name, (this.entries.get(name) ?? 0n) + v);
  }
}
registerClass(Ledger);

function producer(out: Channel<number>, n: number): void {
  'use tasklet';
  for (let i = 1; i <= n; i++) {
    console.log(`produce ${i}`);
    out.send(i);
  }
  out.close({ wake: true });
  console.log('producer done');
}

function consumer(name: string, inp: Channel<number>, ledger: Ledger, done: Channel<string>): void {
  'use tasklet';
  let seen = 0;
  try {
    for (const v of inp) {
      seen++;
      switch (v % 3) {
        case 0:
          ledger.add(name, BigInt(v) ** 20n);
          break;
        default:
          ledger.add(name, BigInt(v));
          schedule();
      }
      console.log(`${name} got ${v}, total ${ledger.entries.get(name)}`);
    }
  } finally {
    console.log(`${name} finally after ${seen}`);
  }
  done.send(name);
}

function napper(done: Channel<string>, ms: number): void {
  'use tasklet';
  const started = -0;
  sleep(ms);
  console.log(`napper woke ${Object.is(started, -0) ? '(-0 kept)' : ''}`);
  done.send('napper');
}

function waiter(done: Channel<string>, ledger: Ledger): void {
  'use tasklet';
  const names: string[] = [];
  for (let i = 0; i < 3; i++) names.push(done.receive());
  names.sort();
  console.log(`all done: ${names.join(',')}; ledger from ${ledger.opened.toISOString()}`);
  for (const [k, v] of [...ledger.entries].sort()) console.log(`  ${k} = ${v}`);
}

function start(): Tasklet[] {
  const work = new Channel<number>();
  const done = new Channel<string>();
  const ledger = new Ledger();
  return [
    spawn(producer, work, 8),
    spawn(consumer, 'left', work, ledger, done),
    spawn(consumer, 'right', work, ledger, done),
    spawn(napper, done, 150),
    spawn(waiter, done, ledger),
  ];
}

const [mode, file, k] = process.argv.slice(2);
if (mode === 'full') {
  start();
  await runAsync();
} else if (mode === 'save') {
  const ts = start();
  for (let i = 0; i < Number(k); i++) schedule();
  writeFileSync(file, JSON.stringify(snapshot(...ts)));
  process.exit(0);
} else if (mode === 'resume') {
  const { tasklets } = restore(readFileSync(file, 'utf8'));
  for (const t of tasklets) if (t.paused) t.insert();
  await runAsync();
} else throw new Error(`unknown mode ${mode}`);
