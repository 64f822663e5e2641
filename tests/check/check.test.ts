/**
 * `stackless check`'s static analysis (cli/check/blocking.ts): the places where a program would
 * throw StacklessError at run time, found with TypeScript's compiler API (ts-morph).
 *
 * tests/check/project holds a small program whose lines carry "expect SLxxxx" comments: the
 * analysis must report exactly those lines with those codes, nothing else. A second program is
 * run for real (node --import stackless/register) to show that what the check reports is what
 * the runtime throws, and that what it lets through runs.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkBlocking } from '../../cli/check/blocking.js';
import type { Diagnostic } from '../../transformer/types.js';
import { cliPath, outDir, registerUrl, repoRoot, runNode } from '../plugins/helpers/index.js';

const projectDir = join(repoRoot, 'tests', 'check', 'project');
const projectFiles = readdirSync(projectDir)
  .filter((name) => /\.[jt]s$/.test(name))
  .sort()
  .map((name) => join(projectDir, name));

/** "file:line CODE" for each "expect CODE" comment of the test project. */
function expectedFindings(): string[] {
  const expected: string[] = [];
  for (const file of projectFiles) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        for (const match of line.matchAll(/expect (SL\d{4})/g)) expected.push(`${relative(repoRoot, file)}:${index + 1} ${match[1]}`);
      });
  }
  return expected.sort();
}

const key = (d: Diagnostic) => `${d.file}:${d.start.line} ${d.code}`;

describe('stackless check: blocking analysis', () => {
  let findings: Diagnostic[];
  beforeAll(() => {
    findings = checkBlocking(projectFiles, { cwd: repoRoot });
  }, 60_000);

  it('reports exactly the marked lines of the test project', () => {
    const expected = expectedFindings();
    expect(expected.length).toBeGreaterThanOrEqual(15);
    expect(findings.map(key).sort()).toEqual(expected);
    expect(findings.every((d) => d.severity === 'error')).toBe(true);
  });

  it('SL2001: gives the column, a code frame and the chain that makes the callee block', () => {
    const d = findings.find((f) => f.code === 'SL2001' && f.file.endsWith('legacy.js'));
    expect(d).toBeDefined();
    const line = 12; // pump(channel); in start()
    expect(d?.start).toEqual({ line, column: 2 });
    expect(d?.end).toEqual({ line, column: 15 });
    expect(d?.message).toBe(
      `ordinary function 'start' (not marked "use tasklet") runs inside a tasklet (it is called from tasklet function ` +
        `'worker' at tests/check/project/legacy.js:18) and calls tasklet function 'pump', which may block (it calls ` +
        `Channel#receive() at tests/check/project/legacy.js:7): ordinary code cannot be suspended, so this throws ` +
        `StacklessError when it blocks. Mark 'start' "use tasklet".`,
    );
    expect(d?.frame).toContain(`> ${line} |   pump(channel); // expect SL2001`);
    expect(d?.frame).toContain('     |   ^^^^^^^^^^^^^');
    expect(d?.url).toBe('stackless/docs/diagnostics.md#sl2001');
  });

  it('follows blocking through other tasklet functions, .call, channel iteration and array callbacks', () => {
    const at = (file: string, text: string) => {
      const line = readFileSync(join(projectDir, file), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
      expect(line).toBeGreaterThan(0);
      return { line, d: findings.find((f) => f.file === `tests/check/project/${file}` && f.start.line === line) };
    };
    const iterate = at('tasklets.ts', 'for (const v of channel)').line;
    const schedule = at('tasklets.ts', 'schedule();').line;
    // logAndTake -> drain, which blocks by iterating a channel
    expect(at('tasklets.ts', 'const value = drain(channel)').d?.message).toContain(
      `calls tasklet function 'drain', which may block (it iterates a Channel with for-of at tests/check/project/tasklets.ts:${iterate})`,
    );
    // a helper nested in a tasklet function -> yielder -> schedule()
    const helper = at('tasklets.ts', '    yielder(); // expect SL2001').d;
    expect(helper?.message).toContain(`'helper' (not marked "use tasklet") runs inside a tasklet (it is written inside tasklet function 'outer')`);
    expect(helper?.message).toContain(`(it calls schedule() at tests/check/project/tasklets.ts:${schedule})`);
    // viaCall blocks through relay.call(...) -> producer -> Channel#send (main may do that: no finding there)
    expect(findings.some((f) => f.message.includes("'viaCall'"))).toBe(false);
    // Map#forEach is no array method: its callback is called by ordinary code
    expect(at('tasklets.ts', 'new Map<number, number>().forEach(relayOne)').d?.message).toMatch(
      /^tasklet function 'relayOne' may block \(it calls Channel#send\(\) at tests\/check\/project\/tasklets\.ts:\d+\) but is passed as a callback to 'new Map<number, number>\(\)\.forEach', which is not transformed/,
    );
  });

  it('SL2004: the main tasklet cannot wait for the event loop, through any number of calls', () => {
    const main = findings.filter((f) => f.file === 'tests/check/project/main.ts' && f.code === 'SL2004');
    expect(main.length).toBe(7);
    const direct = main.find((f) => f.frame.includes('> 28 | sleep(5);'));
    expect(direct?.message).toMatch(/^sleep\(\) waits for the event loop, but this code runs in the main tasklet/);
  });

  it('finds nothing in a correct program (the plugin fixture and the browser example)', () => {
    const typed = ['demo.ts', 'main.ts', 'worker.ts'].map((f) => join(repoRoot, 'fixtures', 'projects', 'typed', f));
    const browser = ['agents.ts', 'main.ts'].map((f) => join(repoRoot, 'examples', 'browser', 'src', f));
    expect(checkBlocking([...typed, ...browser], { cwd: repoRoot })).toEqual([]);
  });
});

describe('stackless check agrees with the runtime', () => {
  // Each case runs in a fresh process; `flagged` says whether the check reports its marked line.
  const cases: { name: string; flagged: string | null; body: string }[] = [
    { name: 'main calls a tasklet function that blocks on a channel', flagged: null, body: 'take(ready());' },
    { name: 'main calls a tasklet function that sleeps', flagged: 'SL2004', body: 'nap(); // MARK' },
    { name: 'main hands a sleeping tasklet function to Array#forEach', flagged: 'SL2004', body: '[1].forEach(nap); // MARK' },
    {
      name: 'a tasklet calls ordinary code that calls a blocking tasklet function',
      flagged: 'SL2001',
      body: "function helper(c: Channel<number>) { return take(c); } // MARK\nspawn(function () { 'use tasklet'; helper(ready()); });\nrun();",
    },
    {
      name: 'a tasklet hands a blocking tasklet function to Map#forEach',
      flagged: 'SL2002',
      body: "spawn(function () { 'use tasklet'; new Map([[1, ready()]]).forEach(take); }); // MARK\nrun();",
    },
    {
      name: 'a tasklet hands a blocking tasklet function to Array#forEach',
      flagged: null,
      body: "spawn(function () { 'use tasklet'; [ready()].forEach(take); });\nrun();",
    },
    {
      name: 'an ordinary function spawned as a tasklet sends on a channel',
      flagged: 'SL2003',
      body: 'const c = new Channel<number>();\nspawn(() => { c.send(1); }); // MARK\nspawn(function () { \'use tasklet\'; schedule(); c.receive(); });\nrun();',
    },
    {
      name: 'a tasklet function spawned as a tasklet sends on a channel',
      flagged: null,
      body: "const c = new Channel<number>();\nspawn(function () { 'use tasklet'; c.send(1); });\nspawn(function () { 'use tasklet'; schedule(); c.receive(); });\nrun();",
    },
  ];
  const prelude = `import { Channel, StacklessError, run, schedule, sleep, spawn } from 'stackless';
function take(channel: Channel<number>): number {
  'use tasklet';
  return channel.receive();
}
function nap(): void {
  'use tasklet';
  sleep(1);
}
/** A channel whose sender is spawned but not yet waiting: receiving from it has to block. */
function ready(): Channel<number> {
  const channel = new Channel<number>();
  spawn(function () { 'use tasklet'; schedule(); channel.send(1); });
  return channel;
}
process.on('exit', () => console.log('finished'));
try {
`;
  const epilogue = `
} catch (error) {
  console.log(error instanceof StacklessError ? 'StacklessError' : 'other error', (error as Error).message);
}
`;

  // every case in its own file and process, all checked in one analysis and run side by side
  const outcomes: { found: string[]; mark: number; stdout: string; stderr: string }[] = [];
  beforeAll(async () => {
    const dir = outDir('check-runtime');
    const files = cases.map((c, i) => {
      const file = join(dir, `case${i}.ts`);
      writeFileSync(file, `${prelude}${c.body}${epilogue}`);
      return file;
    });
    const found = checkBlocking(files, { cwd: dir });
    const runs = await Promise.all(
      files.map(
        (file) =>
          new Promise<{ stdout: string; stderr: string }>((done) => {
            execFile(process.execPath, ['--import', registerUrl, file], { cwd: repoRoot, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } }, (_error, stdout, stderr) =>
              done({ stdout, stderr }),
            );
          }),
      ),
    );
    files.forEach((file, i) => {
      const name = relative(dir, file);
      const source = readFileSync(file, 'utf8');
      outcomes.push({
        found: found.filter((d) => d.file === name).map((d) => `${d.start.line} ${d.code}`),
        mark: source.split('\n').findIndex((line) => line.includes('// MARK')) + 1,
        ...runs[i],
      });
    });
  }, 120_000);

  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const { found, mark, stdout, stderr } = outcomes[i];
    expect(stderr).toBe('');
    if (c.flagged === null) {
      expect(found).toEqual([]);
      expect(stdout.trim()).toBe('finished');
    } else {
      expect(found).toEqual([`${mark} ${c.flagged}`]);
      expect(stdout).toMatch(/^StacklessError /);
      expect(stdout.trim().split('\n').at(-1)).toBe('finished');
    }
  });
});

describe('stackless check (CLI)', () => {
  it('prints the findings after the transform diagnostics and exits with 1', () => {
    const run = runNode([cliPath, 'check', 'tests/check/project']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const heads = run.stdout.split('\n').filter((line) => / - (error|warning) SL\d{4}: /.test(line));
    expect(heads.map((line) => line.replace(/:(\d+):\d+ - \w+ (SL\d{4}):.*$/, ':$1 $2')).sort()).toEqual(expectedFindings());
    expect(run.stdout).toContain('tests/check/project/legacy.js:12:3 - error SL2001: ');
    expect(run.stdout.trim().split('\n').at(-1)).toBe(`checked 4 files (3 with tasklet functions): ${expectedFindings().length} errors, 0 warnings`);
  });

  it('warns when the runtime cannot be resolved, instead of finding nothing in silence', () => {
    // outside the repository, where `stackless` is not installed
    const dir = mkdtempSync(join(tmpdir(), 'stackless-check-'));
    writeFileSync(join(dir, 'main.ts'), "import { Channel } from 'stackless';\nexport function f(c: Channel<number>) {\n  'use tasklet';\n  return c.receive();\n}\nf(new Channel());\n");
    const run = runNode([cliPath, 'check', '.'], { cwd: dir });
    expect(run.stdout).toContain("main.ts:1:25 - warning SL2000: cannot resolve 'stackless' from main.ts");
    expect(run.stdout.trim().split('\n').at(-1)).toBe('checked 1 file (1 with tasklet functions): 0 errors, 1 warning');
    expect(run.status).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('README "Check" section', () => {
  it('shows what stackless check prints for its example, word for word', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## Check\n');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const source = /```ts\n\/\/ src\/feed\.ts\n([\s\S]*?)```/.exec(section)?.[1];
    const shown = /```text\n\$ npx stackless check src\n([\s\S]*?)```/.exec(section)?.[1];
    expect(source).toBeDefined();
    expect(shown).toBeDefined();
    const dir = outDir('check-readme');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'feed.ts'), source as string);
    const run = runNode([cliPath, 'check', 'src'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stdout.trim()).toBe((shown as string).trim());
  });
});
