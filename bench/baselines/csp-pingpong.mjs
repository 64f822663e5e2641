// The ping-pong of cases/pingpong.ts on js-csp (CSP channels on native generators,
// Clojure core.async style): two goroutines, `yield put(ch, v)` / `yield take(ch)` on
// unbuffered channels. js-csp runs its goroutines from its own dispatcher (batches of
// tasks, resumed from setImmediate), so a run is asynchronous: pingpongCsp returns a
// promise of the checksum.
import csp from 'js-csp';

function* pingerCsp(ping, pong, n, out) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    yield csp.put(ping, i);
    sum += yield csp.take(pong);
  }
  out.sum = sum;
}

function* pongerCsp(ping, pong, n) {
  for (let i = 0; i < n; i++) {
    const v = yield csp.take(ping);
    yield csp.put(pong, v + 1);
  }
}

export function pingpongCsp(n) {
  const ping = csp.chan();
  const pong = csp.chan();
  const out = { sum: -1 };
  const a = csp.go(pingerCsp, [ping, pong, n, out]);
  const b = csp.go(pongerCsp, [ping, pong, n]);
  // go() returns a channel that is closed (or given the return value) when the goroutine ends
  return new Promise((resolve) => {
    csp.takeAsync(a, () => csp.takeAsync(b, () => resolve(out.sum)));
  });
}
