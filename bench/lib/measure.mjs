// Timing helpers: every variant of a figure is run in the same process,
// warmed up first, then sampled in interleaved rounds (order alternates
// each round so neither side always runs right after the other).

export const now = () => performance.now();

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { best: s[0], median, worst: s[s.length - 1], samples };
}

/**
 * variants: { name: () => number | Promise<number> } — each call performs one
 * sample and returns its elapsed milliseconds. Returns { name: { best, median, ... } }
 * (best = smallest time).
 */
export async function interleave(variants, { warmup = 3, rounds = 9 } = {}) {
  const keys = Object.keys(variants);
  const samples = Object.fromEntries(keys.map((k) => [k, []]));
  for (let i = 0; i < warmup; i++) for (const k of keys) await variants[k]();
  for (let r = 0; r < rounds; r++) {
    // rotate the order so each variant takes each position
    const order = keys.map((_, i) => keys[(i + r) % keys.length]);
    if (r % 2) order.reverse();
    for (const k of order) samples[k].push(await variants[k]());
  }
  return Object.fromEntries(keys.map((k) => [k, stats(samples[k])]));
}

/** Times `fn` `reps` times in a row; returns elapsed ms. */
export function timeSync(fn, reps = 1) {
  const t0 = now();
  for (let i = 0; i < reps; i++) fn();
  return now() - t0;
}

/** How many repetitions of `fn` take about `targetMs` (at least 1). */
export function calibrate(fn, targetMs) {
  let reps = 1;
  for (;;) {
    const ms = timeSync(fn, reps);
    if (ms >= targetMs / 4 || reps >= 1 << 20) return Math.max(1, Math.round((reps * targetMs) / Math.max(ms, 0.001)));
    reps *= 4;
  }
}

export function assertEqual(actual, expected, what) {
  if (!Object.is(actual, expected)) throw new Error(`${what}: expected ${expected}, got ${actual}`);
}
