// Durations for sleep(): milliseconds as a number, or text such as '3 days', '90s',
// '1.5 hours', '2 weeks'. Months and years are refused: their length depends on the
// calendar, and a silent 30-day guess would be a bug waiting to happen.
import { WorkflowError } from './errors.js';

const UNIT: Record<string, number> = {
  ms: 1, millisecond: 1, milliseconds: 1, msec: 1, msecs: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** Milliseconds in `d` (a number of ms or a text like '3 days'); throws WorkflowError BAD_ARGUMENT. */
export function parseDuration(d: number | string): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new WorkflowError('BAD_ARGUMENT', `bad duration ${d}: give a finite number of milliseconds >= 0`);
    return d;
  }
  if (typeof d !== 'string') throw new WorkflowError('BAD_ARGUMENT', `bad duration: expected milliseconds or a text like '3 days', got ${typeof d}`);
  // several parts add up: '1 day 2 hours', '1h30m'
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/giy;
  const text = d.trim();
  let total = 0;
  let parts = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const unit = UNIT[m[2].toLowerCase()];
    if (unit === undefined) {
      throw new WorkflowError('BAD_ARGUMENT', `bad duration '${d}': unknown unit '${m[2]}' (use ms, s, m, h, d or w, or their names)`);
    }
    total += Number(m[1]) * unit;
    parts++;
    if (re.lastIndex === text.length) return total;
  }
  if (parts === 0 && /^\d+(?:\.\d+)?$/.test(text)) {
    throw new WorkflowError('BAD_ARGUMENT', `bad duration '${d}': a number in text needs a unit ('${text} s'), or pass a number of milliseconds`);
  }
  throw new WorkflowError('BAD_ARGUMENT', `bad duration '${d}': expected something like '500 ms', '3 days' or '1h30m'`);
}
