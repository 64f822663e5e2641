// Child workflows for tests/workflow/postgres.test.ts and children.test.ts.
import { child, step, WorkflowError } from '../../../workflow/index.js';
import { approval, order, thrower } from './flows.js';

export function square(k: number): number {
  'use tasklet';
  return step('square', () => k * k);
}

/** Starts `n` children one after the other (ids <parent>/0, /1, ...) and adds up their results. */
export function family(n: number): number {
  'use tasklet';
  let sum = 0;
  for (let k = 1; k <= n; k++) sum += child(square, [k]);
  return sum;
}

export function parentOfFailing(): string {
  'use tasklet';
  try {
    child(thrower, []);
    return 'not reached';
  } catch (e) {
    return `caught ${(e as WorkflowError).code}: ${(e as Error).message}`;
  }
}

export function parentWithId(id: string): string {
  'use tasklet';
  try {
    return child(order, ['y', 2], { id });
  } catch (e) {
    return `caught ${(e as WorkflowError).code}: ${(e as Error).message}`;
  }
}

/** A child that waits for a signal: the parent stays parked on it, across engines. */
export function waitsForApproval(): string {
  'use tasklet';
  return `child said: ${child(approval, [9])}`;
}
