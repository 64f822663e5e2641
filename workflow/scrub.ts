// What the engine does to a failed step's error before it goes into a checkpoint, so that
// snapshots accept it.
import { snapshot } from '../runtime/index.js';
import { toStoredError } from './errors.js';

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
