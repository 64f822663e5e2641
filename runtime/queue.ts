// Channel wait queues: intrusive circular lists through the waiters (tasklets, or
// select nodes) with the channel itself as the sentinel node. A blocked tasklet
// therefore costs no allocation, and unlinking it needs no search of the queue.

/** Anything that can sit in a channel queue. */
export interface QNode {
  _n: QNode | null;
  _p: QNode | null;
}

export function qPush(sentinel: QNode, w: QNode): void {
  const p = sentinel._p as QNode;
  w._p = p;
  w._n = sentinel;
  p._n = w;
  sentinel._p = w;
}

export function qUnlink(w: QNode): void {
  (w._p as QNode)._n = w._n;
  (w._n as QNode)._p = w._p;
  w._n = w._p = null;
}

/**
 * The sentinel (channel) of the queue `w` is in: walks both ways at once, so a
 * waiter near either end (the usual case: FIFO order) is found in a few steps.
 */
export function qSentinel(w: QNode, isSentinel: (x: QNode) => boolean): QNode {
  let a = w._n as QNode;
  let b = w._p as QNode;
  for (;;) {
    if (isSentinel(a)) return a;
    if (isSentinel(b)) return b;
    a = a._n as QNode;
    b = b._p as QNode;
  }
}
