// Reading stored rows back, the same for every store: a runs row (snake_case columns) as a
// RunRecord, and a journal entry's data. Each store decodes only what it stores its own way
// (the list of signal names a run waits for).
import { WorkflowError } from './errors.js';
import { STATUSES, type CancelState, type RunRecord } from './store.js';

/** A runs row as a RunRecord; an unknown status is a corrupt row. */
export function toRecord(r: Record<string, unknown>, waitingFor: string[]): RunRecord {
  const status = r.status as string;
  if (!(STATUSES as readonly string[]).includes(status)) {
    throw new WorkflowError('CORRUPT', `run '${String(r.id)}' has an unknown status ${JSON.stringify(status)} in the store`);
  }
  return {
    id: r.id as string,
    fn: r.fn as string,
    fp: r.fp as string,
    status: status as RunRecord['status'],
    input: r.input as string,
    snapshot: r.snapshot as string | null,
    wakeAt: (r.wake_at as number | null) ?? null,
    waitingFor,
    cancel: Number(r.cancel) as CancelState,
    result: r.result as string | null,
    error: r.error as string | null,
    frames: r.frames as string | null,
    steps: r.steps as number,
    checkpoints: r.checkpoints as number,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    parent: (r.parent as string | null | undefined) ?? null,
    // columns of the leased stores only
    ...('owner' in r ? { owner: (r.owner as string | null) ?? null, leaseUntil: (r.lease_until as number | null) ?? null } : {}),
  };
}

/** A journal entry's data: JSON when it parses, else the text itself. */
export function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
