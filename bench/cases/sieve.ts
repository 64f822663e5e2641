// A loop kernel that never blocks: sieve of Eratosthenes, counting primes <= n.
export function sieve(n: number): number {
  "use tasklet";
  const composite = new Uint8Array(n + 1);
  let count = 0;
  for (let i = 2; i <= n; i++) {
    if (composite[i] === 0) {
      count++;
      for (let j = i * i; j <= n; j += i) composite[j] = 1;
    }
  }
  return count;
}
