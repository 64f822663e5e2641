// Public error classes. Stackless raises RuntimeError/ValueError for misuse; here all
// of those are StacklessError, with Stackless's message texts word for word.

/** Misuse of the runtime, deadlocks, and blocking across an ordinary-code boundary. */
export class StacklessError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = 'StacklessError';
  }
}

/** Raised inside a tasklet by `kill()`; ends the tasklet silently if not caught. */
export class TaskletExit extends Error {
  constructor(message?: string) {
    super(message);
    this.name = 'TaskletExit';
  }
}

/** Snapshot/restore failures; `code` is a stable machine-readable reason. */
export class SnapshotError extends Error {
  readonly code: string;
  constructor(code: string, message?: string) {
    super(message);
    this.name = 'SnapshotError';
    this.code = code;
  }
}

// Stackless's message texts (research/stackless-semantics.md §3.10), in one place.
export const M = {
  deadlock: 'Deadlock: the last runnable tasklet cannot be blocked.',
  mainRecv: 'the main tasklet is receiving without a sender available.',
  mainSend: 'the main tasklet is sending without a receiver available.',
  blockTrap: 'this tasklet does not like to be blocked.',
  closed: 'Send/receive operation on a closed channel',
  switchTrap: 'switch_trap',
  runBlocked: 'You cannot run a blocked tasklet',
  runDead: 'You cannot run an unbound(dead) tasklet',
  removeBlocked: 'You cannot remove a blocked tasklet.',
  removeCurrent: 'The current tasklet cannot be removed.',
  bindCurrent: "can't (re)bind the current tasklet",
  bindScheduled: 'tasklet is scheduled',
  unbindMain: "can't unbind the main tasklet",
  alive: 'tasklet is alive',
  notBound: 'the tasklet was not bound to a function',
  throwDead: 'You cannot throw to a dead tasklet',
  callable: 'tasklet function must be a callable or None',
  recursiveCb: 'Recursive channel call due to callbacks!',
  preference: 'preference must be set to an integer',
  // beyond Stackless (tasklet.drop())
  dropMain: 'The main tasklet cannot be dropped.',
  dropCurrent: 'The current tasklet cannot be dropped.',
  dropped: 'the tasklet was dropped before it ended',
} as const;

/** The error for a blocking primitive reached from ordinary (untransformed) code. */
export function boundaryError(what: string): StacklessError {
  return new StacklessError(
    `${what} cannot block here: it was called from ordinary (untransformed) code, ` +
      `not from a "use tasklet" function, so the tasklet cannot be suspended`,
  );
}
