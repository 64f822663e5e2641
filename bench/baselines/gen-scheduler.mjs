// A tiny round-robin scheduler for native generators with rendezvous channels:
// a task is a generator; it blocks with `yield ch.send(v)` / `const v = yield ch.receive()`.
// An operation that completes at once yields CONTINUE and the scheduler resumes the
// same generator immediately; one that blocks yields BLOCK and the next task runs.
import { Queue } from './queue.mjs';

const CONTINUE = 0;
const BLOCK = 1;

export class GenScheduler {
  constructor() {
    this.runnable = new Queue();
    this.current = null;
  }
  spawn(gen) {
    const task = { gen, value: undefined };
    this.runnable.push(task);
    return task;
  }
  run() {
    const q = this.runnable;
    while (q.length !== 0) {
      const task = q.shift();
      this.current = task;
      const gen = task.gen;
      for (;;) {
        const value = task.value;
        task.value = undefined;
        const r = gen.next(value);
        if (r.done || r.value === BLOCK) break;
      }
    }
    this.current = null;
  }
}

export class GenChannel {
  constructor(scheduler) {
    this.s = scheduler;
    this.receivers = new Queue(); // tasks blocked in receive
    this.senders = new Queue(); // tasks blocked in send (value kept in task.pending)
  }
  send(value) {
    const s = this.s;
    if (this.receivers.length !== 0) {
      const r = this.receivers.shift();
      r.value = value;
      s.runnable.push(r);
      return CONTINUE;
    }
    const me = s.current;
    me.pending = value;
    this.senders.push(me);
    return BLOCK;
  }
  receive() {
    const s = this.s;
    const me = s.current;
    if (this.senders.length !== 0) {
      const w = this.senders.shift();
      me.value = w.pending;
      w.pending = undefined;
      s.runnable.push(w);
      return CONTINUE;
    }
    this.receivers.push(me);
    return BLOCK;
  }
}
