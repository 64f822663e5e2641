// A tight arithmetic loop that never blocks: what preemption tick counting costs.
export function spin(n: number): number {
  "use tasklet";
  let x = 0;
  let i = 0;
  while (i < n) {
    x = (x * 31 + i) % 1000003;
    i++;
  }
  return x;
}
