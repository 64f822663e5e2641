// Plain linear recursion: depth(n) recurses n deep and returns n.
// The 10,000-deep figure compares it with the same function untransformed;
// the 1,000,000-deep figure runs it as a tasklet (native JS overflows its
// stack at about 10,000-14,000 frames).
export function depth(n: number): number {
  "use tasklet";
  if (n === 0) return 0;
  return depth(n - 1) + 1;
}
