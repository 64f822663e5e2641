// The README's first command: `npm ci && npm run demo`. The demo runs real worker processes
// (the built package), SIGKILLs the first one mid-workflow and resumes the run in a second
// one; this test runs it as a user would (node demo/run.mjs, dist/ built by the global setup)
// and checks what it prints against what the demo's own log and store say.
import { describe, expect, it } from 'vitest';
import { runNode } from './plugins/helpers/index.js';

describe('npm run demo', () => {
  it('a durable workflow is killed with kill -9 mid-way and resumes in a fresh process; no completed step runs again', () => {
    const r = runNode(['demo/run.mjs']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    const pid1 = /\[worker (\d+)\] started run 'order-A-17' \(5 steps\)\n/.exec(out)?.[1];
    expect(pid1).toBeDefined();
    expect(out).toContain(`$ kill -9 ${pid1}   # while step 'pack' runs\n  worker 1 ended by SIGKILL\n`);
    // the first worker ran up to 'pack' and no further
    const w1 = [...out.matchAll(new RegExp(`\\[worker ${pid1}\\] step '([^']+)' runs`, 'g'))].map((m) => m[1]);
    expect(w1).toEqual(['reserve stock', 'charge card', 'pack']);
    // the store, read by the CLI between the two workers: running, two steps completed, the stack and journal
    expect(out).toMatch(/\$ stackless workflows show order-A-17 .*\n {2}run order-A-17\n {4}workflow {3}demo\/order\.ts#order\n {4}status {5}running\n {4}steps {6}2 completed, 2 checkpoints\n/);
    expect(out).toMatch(/ {6}order {2}demo\/order\.ts:\d+:\d+\n/);
    expect(out).toMatch(/ {8}reserved = 2\n/);
    expect(out).toMatch(/step 'charge card' \(attempt 1\) -> "ch_A-17"\n/);
    // the second worker is another process, found the run and ran only what was left
    const pid2 = /\[worker (\d+)\] found run 'order-A-17' in the store: running, 2 steps completed; resuming from its last checkpoint\n/.exec(out)?.[1];
    expect(pid2).toBeDefined();
    expect(pid2).not.toBe(pid1);
    const w2 = [...out.matchAll(new RegExp(`\\[worker ${pid2}\\] step '([^']+)' runs`, 'g'))].map((m) => m[1]);
    expect(w2).toEqual(['pack', 'ship', 'email receipt']);
    expect(out).toContain(`[worker ${pid2}] run 'order-A-17' finished: "A-17: box of 2, ch_A-17, TRACK-A-17"\n`);
    expect(out).toContain(
      '  reserve stock  1x  worker 1               completed before the kill: not run again\n' +
        '  charge card    1x  worker 1               completed before the kill: not run again\n' +
        '  pack           2x  worker 1 and worker 2  in flight at the kill: run again (steps run at least once)\n' +
        '  ship           1x  worker 2               run after the restart\n' +
        '  email receipt  1x  worker 2               run after the restart\n',
    );
    expect(out).toContain('worker 1 was killed with 2 of 5 steps completed;');
  });

  it("'ring' runs the token ring instead; an unknown part is a usage error", () => {
    const ring = runNode(['demo/run.mjs', 'ring', '--n=2000', '--laps=2', '--runs=1']);
    expect(ring.stderr).toBe('');
    expect(ring.status).toBe(0);
    expect(ring.stdout).toMatch(/^stackless demo: 2,000 tasklets pass a token around a ring of channels, 2 laps \(4,000 hand-overs\), best of 1\n/);
    expect(ring.stdout).toMatch(/ {2}tasklets vs async\/await: [\d.]+x the hand-overs\/s/);
    const bad = runNode(['demo/run.mjs', 'rings']);
    expect([bad.status, bad.stderr]).toEqual([2, "demo: unknown part 'rings' (use: npm run demo -- workflow | ring | all)\n"]);
  });
});
