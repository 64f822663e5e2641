// Errors of the workflow engine. Every engine refusal is a WorkflowError with a stable
// `code` (so scripts and the CLI can tell them apart) and a message that names the run.

export type WorkflowErrorCode =
  | 'UNKNOWN_RUN' // no run with that id
  | 'NOT_A_WORKFLOW' // start() got a function that is not a module-level tasklet function
  | 'RUN_ENDED' // signal()/cancel() to a run that has finished, failed or been cancelled
  | 'CONFLICT' // start() with an existing id but another function
  | 'NOT_IN_WORKFLOW' // step()/sleep()/signal() outside a workflow's own tasklet
  | 'CODE_CHANGED' // the run's functions changed since it started (fingerprints differ)
  | 'CORRUPT' // a stored row cannot be read back
  | 'CHECKPOINT' // the run's state cannot be saved (a value that snapshots refuse)
  | 'NOT_RETRYABLE' // retry() of a run that is not failed or cancelled
  | 'STEP_TIMEOUT' // one attempt of a step took longer than its timeout
  | 'CHILD_FAILED' // a child workflow failed or was cancelled (thrown at the parent's child() call)
  | 'STORE' // the store cannot be reached or set up (Postgres)
  | 'BAD_ARGUMENT' // a malformed argument (duration, step name, options)
  | 'CLOSED'; // the engine was closed

export class WorkflowError extends Error {
  readonly code: WorkflowErrorCode;
  constructor(code: WorkflowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
Object.defineProperty(WorkflowError.prototype, 'name', { value: 'WorkflowError', configurable: true, writable: true });

/**
 * Thrown by a step's function to say "retrying will not help" (a declined card, a 404):
 * the step fails at once and the error is thrown into the workflow at the step() call.
 */
export class NonRetryableError extends Error {}
Object.defineProperty(NonRetryableError.prototype, 'name', { value: 'NonRetryableError', configurable: true, writable: true });

/** The error as stored and shown: plain data, never the live object. */
export interface StoredError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export function toStoredError(e: unknown): StoredError {
  if (e instanceof Error) {
    const out: StoredError = { name: e.name, message: e.message };
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    if (typeof e.stack === 'string') out.stack = e.stack;
    return out;
  }
  return { name: 'Error', message: `a non-Error value was thrown: ${safeString(e)}` };
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
