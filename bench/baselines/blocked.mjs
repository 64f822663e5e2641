// Baseline for cases/blocked.ts: `count` async functions, each blocked awaiting
// its own pending promise; the resolvers are retained by the caller.
async function waiter(p) {
  const v = await p;
  return v;
}

export function blockManyAsync(count) {
  const resolvers = new Array(count);
  for (let i = 0; i < count; i++) {
    let resolve;
    const p = new Promise((r) => {
      resolve = r;
    });
    resolvers[i] = resolve;
    waiter(p);
  }
  return { resolvers };
}
