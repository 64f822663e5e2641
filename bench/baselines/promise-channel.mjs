// A rendezvous channel for async/await code: `await ch.send(v)` completes when
// a receiver has taken v; `await ch.receive()` completes with the next value.
// Waiters are kept in FIFO order; a send that finds a waiting receiver hands
// the value over without allocating a promise (and vice versa).
export class PromiseChannel {
  constructor() {
    this.receivers = []; // resolve functions of blocked receivers
    this.senders = []; // { value, resolve } of blocked senders
  }
  send(value) {
    if (this.receivers.length !== 0) {
      this.receivers.shift()(value);
      return undefined;
    }
    return new Promise((resolve) => {
      this.senders.push({ value, resolve });
    });
  }
  receive() {
    if (this.senders.length !== 0) {
      const s = this.senders.shift();
      s.resolve();
      return s.value;
    }
    return new Promise((resolve) => {
      this.receivers.push(resolve);
    });
  }
}
