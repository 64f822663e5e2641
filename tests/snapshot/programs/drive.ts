// The command line of the cross-process programs (tests/snapshot/processes.test.ts):
//   full            run the tasklets `start()` makes to the end
//   save <file> <k> run k scheduler steps, write snapshot(...) of them as JSON to <file>, exit
//   resume <file>   restore it in this fresh process and run it to the end
import { readFileSync, writeFileSync } from 'node:fs';
import { run, schedule, snapshot, restore, type Tasklet } from 'stackless';

export function drive(start: () => Tasklet[], results: (ts: Tasklet[]) => void): void {
  const [mode, file, k] = process.argv.slice(2);
  if (mode === 'full') {
    const ts = start();
    run();
    results(ts);
  } else if (mode === 'save') {
    const ts = start();
    for (let i = 0; i < Number(k); i++) schedule();
    writeFileSync(file, JSON.stringify(snapshot(...ts)));
    process.exit(0);
  } else if (mode === 'resume') {
    const { roots } = restore(readFileSync(file, 'utf8'));
    const ts = roots as Tasklet[];
    for (const t of ts) if (t.paused) t.insert();
    run();
    results(ts);
  } else throw new Error(`unknown mode ${mode}`);
}
