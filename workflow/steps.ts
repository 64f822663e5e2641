// Running a step's function: attempts, backoff, per-attempt timeout. This part is ordinary
// async code in the engine's process; only its outcome is durable (saved with the checkpoint
// taken when it completes). A process that dies while a step runs runs it again on resume:
// steps are at-least-once, so their side effects should be idempotent.
import { parseDuration } from './duration.js';
import { NonRetryableError, WorkflowError } from './errors.js';

export interface StepContext {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when the attempt times out (pass it to fetch and friends). */
  signal: AbortSignal;
  /** The step's name and the run's id, e.g. for an idempotency key. */
  name: string;
  runId: string;
  /** The step's index in its run (0-based): with runId, a key unique to this step. */
  index: number;
}

export type StepFn<T> = (ctx: StepContext) => T | PromiseLike<T>;

export interface StepOptions {
  /** Attempts after the first one failed (default 3). */
  retries?: number;
  /** Delay before retry n (1-based): ms doubled each time from this base (default 200), or a function of n. */
  backoff?: number | ((retry: number) => number);
  /** Longest time one attempt may take: ms or a text like '30s' (default: no limit). */
  timeout?: number | string;
}

export interface CheckedOptions {
  retries: number;
  backoff: (retry: number) => number;
  timeout: number | null;
}

const MAX_BACKOFF = 5 * 60_000;

export function checkStepOptions(name: string, o: StepOptions | undefined): CheckedOptions {
  if (o !== undefined && (o === null || typeof o !== 'object')) throw new WorkflowError('BAD_ARGUMENT', `step('${name}'): options must be an object`);
  const retries = o?.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) throw new WorkflowError('BAD_ARGUMENT', `step('${name}'): retries must be an integer >= 0, got ${String(retries)}`);
  const b = o?.backoff ?? 200;
  let backoff: (retry: number) => number;
  if (typeof b === 'function') backoff = b;
  else if (typeof b === 'number' && Number.isFinite(b) && b >= 0) backoff = (n) => Math.min(MAX_BACKOFF, b * 2 ** (n - 1));
  else throw new WorkflowError('BAD_ARGUMENT', `step('${name}'): backoff must be a number of ms >= 0 or a function`);
  const timeout = o?.timeout === undefined ? null : parseDuration(o.timeout);
  return { retries, backoff, timeout };
}

export type Outcome = { ok: true; value: unknown; attempts: number } | { ok: false; error: unknown; attempts: number };

/**
 * Runs the attempts. `onRetry` hears of each failed attempt that will be retried (for the
 * journal); `stillWanted` is asked before each retry (false once the run was cancelled or
 * unloaded: no point in going on).
 */
export async function runStep(
  fn: StepFn<unknown>,
  o: CheckedOptions,
  base: Omit<StepContext, 'attempt' | 'signal'>,
  onRetry: (attempt: number, error: unknown, delay: number) => void,
  stillWanted: () => boolean,
): Promise<Outcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await attemptOnce(fn, o.timeout, { ...base, attempt });
      return { ok: true, value, attempts: attempt };
    } catch (error) {
      if (attempt > o.retries || isNonRetryable(error) || !stillWanted()) return { ok: false, error, attempts: attempt };
      const delay = Math.max(0, Number(o.backoff(attempt)) || 0);
      onRetry(attempt, error, delay);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (!stillWanted()) return { ok: false, error, attempts: attempt };
    }
  }
}

function isNonRetryable(e: unknown): boolean {
  // by name too: an error class from another copy of this package is still meant that way
  return e instanceof NonRetryableError || (e instanceof Error && e.name === 'NonRetryableError');
}

async function attemptOnce(fn: StepFn<unknown>, timeout: number | null, ctx: Omit<StepContext, 'signal'>): Promise<unknown> {
  const ac = new AbortController();
  const run = Promise.resolve().then(() => fn({ ...ctx, signal: ac.signal }));
  if (timeout === null) return run;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new WorkflowError('STEP_TIMEOUT', `step '${ctx.name}' attempt ${ctx.attempt} took longer than ${timeout} ms`);
      ac.abort(e);
      reject(e);
    }, timeout);
  });
  try {
    return await Promise.race([run, expired]);
  } finally {
    clearTimeout(timer);
    run.catch(() => {}); // a late failure of a timed-out attempt is not an unhandled rejection
  }
}
