// A growable ring-buffer FIFO (O(1) push and shift), used by the baselines.
export class Queue {
  constructor(capacity = 16) {
    this.buf = new Array(capacity);
    this.mask = capacity - 1; // capacity is a power of two
    this.head = 0;
    this.length = 0;
  }
  push(x) {
    if (this.length > this.mask) this.grow();
    this.buf[(this.head + this.length) & this.mask] = x;
    this.length++;
  }
  shift() {
    if (this.length === 0) return undefined;
    const x = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    return x;
  }
  grow() {
    const old = this.buf;
    const n = old.length;
    const buf = new Array(n * 2);
    for (let i = 0; i < this.length; i++) buf[i] = old[(this.head + i) & this.mask];
    this.buf = buf;
    this.mask = n * 2 - 1;
    this.head = 0;
  }
}
