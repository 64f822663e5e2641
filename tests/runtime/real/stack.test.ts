// Logical stack traces (runtime/stack.ts): an error that unwinds through frames that
// exist only as heap records gets one line per such record in its `stack`.
import { describe, it, expect, afterEach } from 'vitest';
import { Channel, spawn, run, schedule, getRunCount, getCurrent } from 'stackless';

afterEach(() => {
  expect(getRunCount()).toBe(1);
  expect(getCurrent().isMain).toBe(true);
});

const FILE = 'tests/runtime/real/stack.test.ts';

function leaf(ch: Channel<number>): number {
  'use tasklet';
  const v = ch.receive();
  if (v < 0) throw new Error(`negative: ${v}`);
  return v;
}

function middle(ch: Channel<number>): number {
  'use tasklet';
  return leaf(ch) + 1;
}

function top(ch: Channel<number>): number {
  'use tasklet';
  const r = middle(ch);
  return r * 2;
}

function catcher(ch: Channel<number>, log: string[]): number {
  'use tasklet';
  try {
    return middle(ch);
  } catch (e) {
    log.push((e as Error).stack as string);
    return -1;
  }
}

function rec(n: number): number {
  'use tasklet';
  if (n === 0) {
    schedule();
    throw new RangeError('bottom');
  }
  return rec(n - 1) + 1;
}

function eachThrows(xs: number[], ch: Channel<number>): void {
  'use tasklet';
  xs.forEach((x) => {
    'use tasklet';
    if (ch.receive() < 0) throw new Error(`bad ${x}`);
  });
}

const DEEP_LINE = 62; // the line of `return deepThrow(n - 1) + 1;` below
function deepThrow(n: number): number {
  'use tasklet';
  if (n === 0) throw new Error('deep');
  return deepThrow(n - 1) + 1;
}

function other(): void {
  'use tasklet';
}

/** The lines of `stack` that name tasklet functions of this file. */
function ours(stack: string): string[] {
  return stack.split('\n').filter((l) => l.includes(FILE) || / at (leaf|middle|top|catcher|rec) /.test(l));
}

describe('logical stack of an error escaping a tasklet', () => {
  it('adds a line per heap record the error unwound through, at the call each stands for', () => {
    const ch = new Channel<number>();
    const t = spawn(top, ch);
    run(); // top -> middle -> leaf, blocked in receive: three records
    let err: Error | null = null;
    try {
      ch.send(-5); // leaf runs at once (preference -1) and throws; the error reaches main here
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toBe('negative: -5');
    expect(t.error).toBe(err);
    const stack = err!.stack as string;
    const lines = stack.split('\n');
    expect(lines[0]).toBe('Error: negative: -5');
    // the native part starts with leaf itself (the running segment), then the records
    expect(lines[1]).toMatch(/^ {4}at leaf \(/);
    const i = lines.indexOf(`    at middle (${FILE}:22:10)`);
    expect(i).toBe(2);
    expect(lines[3]).toBe(`    at top (${FILE}:27:13)`);
    // then the native trace goes on with the runtime's driver
    expect(lines[4]).toMatch(/^ {4}at driveAll /);
    expect(ours(stack).filter((l) => / at (middle|top) /.test(l))).toEqual([
      `    at middle (${FILE}:22:10)`,
      `    at top (${FILE}:27:13)`,
    ]);
  });

  it('does not add the frame that catches the error, nor anything after it', () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const t = spawn(catcher, ch, log);
    run();
    ch.send(-1);
    expect(t.result).toBe(-1);
    expect(log).toHaveLength(1);
    const lines = log[0].split('\n');
    expect(lines[2]).toBe(`    at middle (${FILE}:22:10)`);
    expect(lines.some((l) => l.includes(' at catcher '))).toBe(false);
    expect(lines[3]).toMatch(/^ {4}at driveAll /);
  });

  it('elides the middle of a very deep logical stack', () => {
    const t = spawn(rec, 500);
    spawn(other); // so that schedule() switches and all 500 frames become records
    expect(() => run()).toThrow('bottom');
    const err = t.error as RangeError;
    expect(err).toBeInstanceOf(RangeError);
    const lines = (err.stack as string).split('\n');
    const recLines = lines.filter((l) => l === `    at rec (${FILE}:47:10)`);
    // 500 records unwound: 50 shown innermost first, 20 outermost, 430 elided
    expect(recLines).toHaveLength(70);
    expect(lines).toContain('    ... 430 more tasklet frames');
    const at = lines.indexOf('    ... 430 more tasklet frames');
    expect(lines[at - 1]).toBe(`    at rec (${FILE}:47:10)`);
    expect(lines[at + 1]).toBe(`    at rec (${FILE}:47:10)`);
  });

  it('leaves an error that never crossed a heap record alone', () => {
    const ch = new Channel<number>();
    const t = spawn(leaf, ch); // one record: resumed, it throws from its own native frame
    run();
    expect(() => ch.send(-2)).toThrow('negative: -2');
    const err = t.error as Error;
    expect(Object.getOwnPropertyDescriptor(err, 'stack')?.get).toBeUndefined();
    expect(err.stack).not.toContain(`(${FILE}:`);
  });

  it('an error thrown into a blocked tasklet lists the records it unwinds through', () => {
    const ch = new Channel<number>();
    const t = spawn(top, ch);
    run();
    const e = new TypeError('from outside');
    expect(() => t.throw(e)).toThrow(e);
    const lines = (e.stack as string).split('\n');
    // leaf, middle and top are all records: leaf is re-entered with the error first.
    // The error was made in main, whose native trace (10 lines) never reaches the
    // driver: the tasklet's frames follow it.
    expect(lines.slice(-3)).toEqual([
      `    at leaf (${FILE}:15:13)`,
      `    at middle (${FILE}:22:10)`,
      `    at top (${FILE}:27:13)`,
    ]);
  });

  it('records driven from ordinary code (a spilled deep recursion) are listed too', () => {
    let err: Error | null = null;
    try {
      deepThrow(60_000);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toBe('deep');
    const lines = (err!.stack as string).split('\n');
    const ours = lines.filter((l) => l === `    at deepThrow (${FILE}:${DEEP_LINE}:10)`);
    expect(ours.length).toBe(70);
    const more = lines.findIndex((l) => /^ {4}\.\.\. \d+ more tasklet frames$/.test(l));
    expect(more).toBeGreaterThan(0);
    // the native trace (10 frames of deepThrow) is cut before it reaches the runtime's
    // boundary driver: the records follow it, innermost first
    expect(lines.length).toBe(more + 21);
    expect(lines[1]).toMatch(/^ {4}at deepThrow \(/);
  });

  it('a runtime helper record (an array method running a callback) is listed by name', () => {
    const ch = new Channel<number>();
    const t = spawn(eachThrows, [7], ch);
    run();
    expect(() => ch.send(-1)).toThrow('bad 7');
    const lines = ((t.error as Error).stack as string).split('\n');
    const i = lines.indexOf('    at $forEach (stackless runtime)');
    expect(i).toBeGreaterThan(1);
    expect(lines[i + 1]).toMatch(new RegExp(`^ {4}at eachThrows \\(${FILE.replace(/\./g, '\\.')}:\\d+:\\d+\\)$`));
    expect(lines[i + 2]).toMatch(/^ {4}at driveAll /);
  });

  it('a stack assigned by the user replaces the logical one', () => {
    const ch = new Channel<number>();
    const t = spawn(top, ch);
    run();
    expect(() => ch.send(-3)).toThrow('negative: -3');
    const err = t.error as Error;
    expect(err.stack).toContain(`    at top (${FILE}:27:13)`);
    err.stack = 'replaced';
    expect(err.stack).toBe('replaced');
  });
});
