// What get() and the CLI show: the stack of a parked run as plain data, and stored values
// read back. Compiled frames hold temporaries ($t0) and environment records ($e, $b) next
// to the user's variables; people want the variables, so environments are opened up and
// temporaries left out.
import { restore, type Tasklet } from '../runtime/index.js';
import { preview } from './preview.js';
import { WorkflowError } from './errors.js';

export interface FrameView {
  function: string;
  file: string | null;
  line: number | null;
  column: number | null;
  locals: Record<string, unknown>;
}

export function viewFrames(t: Tasklet): FrameView[] {
  return t.frames.map((f) => ({ function: f.function, file: f.file, line: f.line, column: f.column, locals: viewLocals(f.locals) }));
}

function viewLocals(locals: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => {
    if (k !== '__proto__') out[k] = preview(v);
  };
  for (const [k, v] of Object.entries(locals)) {
    if (!k.startsWith('$')) put(k, v);
    else if ((k === '$e' || /^\$b\d*$/.test(k)) && v !== null && typeof v === 'object') {
      // a binding renamed for a closure or loop iteration: `i$1` is the user's `i`
      for (const [name, x] of Object.entries(v)) if (!name.startsWith('$')) put(name.replace(/\$\d+$/, ''), x);
    }
  }
  return out;
}

/** A value stored as a one-root snapshot (results, signal payloads) read back. */
export function readValue(json: string, what: string): unknown {
  try {
    return restore(json).roots[0];
  } catch (e) {
    throw new WorkflowError('CORRUPT', `${what} cannot be read back: ${(e as Error).message}`, { cause: e });
  }
}

export function parseJson<T>(json: string | null, what: string): T | null {
  if (json === null) return null;
  try {
    return JSON.parse(json) as T;
  } catch (e) {
    throw new WorkflowError('CORRUPT', `${what} is not valid JSON in the store: ${(e as Error).message}`, { cause: e });
  }
}
