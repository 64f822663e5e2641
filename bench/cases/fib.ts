// fib(30) as a tasklet function. The baseline is this same file with the
// directive removed (compiled as ordinary code).
export function fib(n: number): number {
  "use tasklet";
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}
