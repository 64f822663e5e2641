// The public `stackless` entry point (SPEC.md "Runtime API").
//
// Where neither SPEC.md nor Stackless says, the runtime does this (for the README):
// - All Stackless RuntimeError/ValueError cases are StacklessError with Stackless's text.
// - A tasklet sleeping, waiting for a promise, joining or in select() is `blocked`
//   and `scheduled` (not `paused`), like a tasklet blocked on a channel.
// - A killed tasklet's `error` is its TaskletExit; join() rethrows it, done() rejects.
// - receive({ timeout }) throws StacklessError('receive() timed out'); select()
//   returns { index: -1 } on timeout and { index, done: true } for a receive case
//   on a closed, drained channel. Timeouts are milliseconds and need runAsync or an
//   event loop; main (ordinary code) cannot wait for timers or promises, so
//   sleep()/wait() throw there and a timeout given by main is ignored.
// - Buffered channels: balance counts blocked tasklets only; `length` counts
//   buffered values. Preference applies to rendezvous with a waiting partner.
// - A rendezvous preference or an immediate throw/kill reached from ordinary code
//   (or found behind a boundary) does the operation without the switch.
// - runAsync() yields to the event loop every ~10 ms of tasklet work (batchMs).
export { Tasklet, type ThrowOptions } from './tasklet.js';
export { Channel, type ChannelOptions, type ReceiveOptions, type CloseOptions, type ChannelCallback } from './channel.js';
export {
  run, schedule, scheduleRemove, getCurrent, getMain, getRunCount, atomic, switchTrap,
  setErrorHandler, setScheduleCallback, setChannelCallback, spawn, type RunOptions,
} from './api.js';
export { runAsync, wait, sleep, type RunAsyncOptions } from './async.js';
export { select, type SelectCase, type SelectResult, type SelectOptions } from './select.js';
export { StacklessError, TaskletExit, SnapshotError } from './errors.js';
import './driver.js'; // installs rt.boundary
export { snapshot, restore, registerClass, type Restored, type SnapshotData } from './snapshot/index.js';
