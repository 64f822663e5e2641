// Two things the engine does to a step's outcome before it goes into a checkpoint, so that
// snapshots accept it (see workflow/NEEDS.md 1).
import { snapshot, type Tasklet } from '../runtime/index.js';
import { toStoredError } from './errors.js';

/**
 * The compiled caller of step() keeps the step's function in a temporary ($t1) after the
 * call. That temporary is dead, but snapshots save every temporary, and an arrow function
 * cannot be saved yet (runtime/snapshot/NEEDS.md 1 and 3): the checkpoint after the step
 * would be refused. So the caller's record (the innermost one: step() has none) forgets it.
 * Only compiler temporaries are touched, never a variable of the user's.
 */
export function dropDeadTemporaries(t: Tasklet, fn: unknown): void {
  const top = (t as unknown as { _top: Record<string, unknown> | null })._top;
  if (top === null || typeof top !== 'object') return;
  for (const k of Object.keys(top)) if (/^\$t\d/.test(k) && top[k] === fn) top[k] = undefined;
}

/**
 * The error a failed step throws into the workflow is saved with the checkpoint; one that
 * snapshots refuse (an instance of an unregistered class) goes in as a plain Error with the
 * same name, message, code and stack (registerClass keeps `instanceof` working).
 */
export function saveable(e: unknown): unknown {
  try {
    snapshot(e);
    return e;
  } catch {
    const s = toStoredError(e);
    const copy = new Error(s.message);
    Object.defineProperty(copy, 'name', { value: s.name, writable: true, configurable: true, enumerable: false });
    if (s.code !== undefined) (copy as Error & { code?: string }).code = s.code;
    if (s.stack !== undefined) copy.stack = s.stack;
    return copy;
  }
}
