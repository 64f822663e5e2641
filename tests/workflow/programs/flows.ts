// Workflows for the in-process tests (tests/workflow/*.test.ts). `calls` records every run
// of a step's function, so the tests can tell what ran how often.
import { NonRetryableError, signal, sleep, step } from '../../../workflow/index.js';

export const calls: string[] = [];
export const cleanups: string[] = [];

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function order(item: string, qty: number): string {
  'use tasklet';
  const price = step('price', () => {
    calls.push(`price ${item}`);
    return 7;
  });
  const total = step('charge', async () => {
    calls.push(`charge ${item}`);
    await tick(1);
    return price * qty;
  });
  step('ship', () => {
    calls.push(`ship ${item}`);
  });
  return `${item} x${qty}: ${total}`;
}

/** Fails twice, then succeeds: three attempts of one step. */
export function flaky(failures: number): number {
  'use tasklet';
  let attempts = 0;
  const v = step(
    'flaky',
    (ctx) => {
      attempts = ctx.attempt;
      calls.push(`flaky attempt ${ctx.attempt}`);
      if (ctx.attempt <= failures) throw new Error(`boom ${ctx.attempt}`);
      return ctx.attempt * 10;
    },
    { retries: 3, backoff: 1 },
  );
  return v + attempts;
}

/** NonRetryableError stops retries; the workflow catches the step's error and goes on. */
export function declined(): string {
  'use tasklet';
  try {
    step(
      'charge',
      () => {
        calls.push('declined charge');
        throw new NonRetryableError('card declined');
      },
      { retries: 5, backoff: 1 },
    );
    return 'charged';
  } catch (e) {
    return `caught ${(e as Error).name}: ${(e as Error).message}`;
  }
}

export function slowStep(): string {
  'use tasklet';
  return step('slow', () => tick(200).then(() => 'late'), { timeout: 20, retries: 1, backoff: 1 });
}

export function napper(ms: number | string): string {
  'use tasklet';
  const before = step('before', () => {
    calls.push('before sleep');
    return Date.now();
  });
  sleep(ms);
  const after = step('after', () => {
    calls.push('after sleep');
    return Date.now();
  });
  return after - before >= 0 ? 'rested' : 'time went backwards';
}

export function approval(amount: number): string {
  'use tasklet';
  const decision = signal<{ ok: boolean; by: string }>('decision').receive();
  if (!decision.ok) return `rejected by ${decision.by}`;
  step('pay', () => {
    calls.push(`pay ${amount}`);
  });
  return `paid ${amount}, approved by ${decision.by}`;
}

/** Collects `n` signals named 'item', in order. */
export function collector(n: number): string[] {
  'use tasklet';
  const items: string[] = [];
  const ch = signal<string>('item');
  while (items.length < n) items.push(ch.receive());
  return items;
}

export function cancellable(): string {
  'use tasklet';
  try {
    step('reserve', () => {
      calls.push('reserve');
    });
    signal('never').receive();
    return 'not reached';
  } finally {
    // a compensation step in finally runs on cancel
    step('release', () => {
      calls.push('release');
    });
    cleanups.push('finally ran');
  }
}

export function thrower(): never {
  'use tasklet';
  step('ok', () => 1);
  throw new TypeError('bad input in the workflow');
}

/** A step that takes a while (for cancel and signals while a drain is running). */
export function longStep(ms: number): string {
  'use tasklet';
  try {
    return step('long', () => tick(ms).then(() => 'long result'));
  } finally {
    cleanups.push('long finally');
  }
}

/** Keeps a closure in a variable across a step: saved since snapshots save closures (workflow/NEEDS.md 1). */
export function holdsClosure(): number {
  'use tasklet';
  const f = () => 41;
  step('a', () => 1);
  return f() + 1;
}

/** Keeps a Proxy (which snapshots refuse) in a variable across a step. */
export function holdsProxy(): number {
  'use tasklet';
  const handle = new Proxy({ n: 1 }, {});
  step('a', () => 1);
  return handle.n;
}

/** Step 'two' fails until `fragileState.fixed` is set: for retry from the last checkpoint. */
export const fragileState = { fixed: false };
export function fragile(): string {
  'use tasklet';
  const a = step('one', () => {
    calls.push('one');
    return 'a';
  });
  const b = step(
    'two',
    () => {
      calls.push('two');
      if (!fragileState.fixed) throw new Error('service down');
      return 'b';
    },
    { retries: 0 },
  );
  return a + b;
}

/** Many short steps, for a cancel that arrives while it runs. */
export function manySteps(n: number): number {
  'use tasklet';
  let done = 0;
  try {
    for (let i = 0; i < n; i++) done += step(`s${i}`, () => tick(5).then(() => 1));
  } finally {
    cleanups.push(`stopped after ${done}`);
  }
  return done;
}
