// The public `stackless` entry point (SPEC.md "Runtime API").
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
