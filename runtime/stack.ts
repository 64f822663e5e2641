// Logical stack traces. A suspended tasklet's callers live as heap records, not on
// the JS stack, so an error thrown after a resume has a native `stack` that stops at
// the runtime's driver. When the driver re-enters a record with an error and the
// record throws that same error on (it did not catch it), the record was a frame the
// error unwound through: its line is added to the error's `stack`, at the place where
// the native trace reaches the driver that re-entered it:
//
//     Error: boom
//         at leaf (src/app.ts:3:11)                <- native: the running segment
//         at middle (src/app.ts:8:10)              <- added: a heap record, at its call
//         at top (src/app.ts:12:10)                <- added
//         at driveAll (.../runtime/driver.js:...)  <- native again: the runtime, main
//
// Positions come from the record's metadata (`record.m`, transformer/emit/meta.ts):
// the line and column of the call its resume point stands for (columns printed
// 1-based, as V8 prints them). Records without metadata (runtime helpers such as the
// array methods' callback loops) show their function's name and `(stackless runtime)`.
// Only `Error` objects are annotated. The lines are kept on the side and rendered
// when `stack` is read, so an error unwinding through a million records costs O(1)
// per record; at most HEAD + TAIL lines are shown per place, the rest elided.
import type { Frame } from './rt.js';
import { recordPosition } from './frames.js';

const HEAD = 50;
const TAIL = 20;

interface Group {
  /** Index of the native line the group goes before (-1: after the last line). */
  at: number;
  head: string[];
  tail: string[];
  more: number;
}

interface Trail {
  native: string[];
  groups: Group[];
}

const trails = new WeakMap<object, Trail>();

/** A record's line in a stack trace. */
export function frameLine(f: Frame): string {
  const m = f.m as { name?: string; file?: string } | undefined;
  const pos = recordPosition(f);
  const name = (m?.name ?? (f.f as Function).name) || '<anonymous>';
  if (m?.file !== undefined && pos !== null) return `    at ${name} (${m.file}:${pos[0]}:${pos[1] + 1})`;
  return `    at ${name} (stackless runtime)`;
}

/** Where the native trace reaches `driver` (a function name): the first such line. */
function findDriver(native: string[], driver: string): number {
  const re = new RegExp(`^\\s*at (?:[\\w$.]*\\.)?${driver.replace(/\$/g, '\\$')} `);
  for (let i = 1; i < native.length; i++) if (re.test(native[i])) return i;
  return -1;
}

function render(tr: Trail): string {
  const out: string[] = [];
  const put = (g: Group) => {
    out.push(...g.head);
    if (g.more > 0) out.push(`    ... ${g.more} more tasklet frame${g.more === 1 ? '' : 's'}`);
    out.push(...g.tail);
  };
  for (let i = 0; i < tr.native.length; i++) {
    for (const g of tr.groups) if (g.at === i) put(g);
    out.push(tr.native[i]);
  }
  for (const g of tr.groups) if (g.at === -1) put(g);
  return out.join('\n');
}

/**
 * Error `e` unwound through record `f`, which the driver named `driver` (the name of
 * the runtime function that re-entered it) had resumed.
 */
export function noteUnwound(e: unknown, f: Frame, driver: string): void {
  if (!(e instanceof Error)) return;
  let tr = trails.get(e);
  if (tr === undefined) {
    let text: string;
    try {
      text = String(e.stack);
    } catch {
      return;
    }
    const t: Trail = { native: text.split('\n'), groups: [] };
    try {
      Object.defineProperty(e, 'stack', {
        configurable: true,
        enumerable: false,
        get: () => render(t),
        set(v: unknown) {
          Object.defineProperty(e, 'stack', { value: v, writable: true, configurable: true, enumerable: false });
          trails.delete(e);
        },
      });
    } catch {
      return; // frozen or otherwise locked: leave it alone
    }
    trails.set(e, (tr = t));
  }
  const at = findDriver(tr.native, driver);
  let g = tr.groups.find((x) => x.at === at);
  if (g === undefined) tr.groups.push((g = { at, head: [], tail: [], more: 0 }));
  const line = frameLine(f);
  if (g.head.length < HEAD) g.head.push(line);
  else {
    g.tail.push(line);
    if (g.tail.length > TAIL) {
      g.tail.shift();
      g.more++;
    }
  }
}
