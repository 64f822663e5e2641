// Frame chains restored but not built yet. restore() of a million packed tasklets
// (runtime/snapshot/pack.ts) would build three million records before anything runs, and
// V8 copies every one of them twice through the young generation. Instead each tasklet gets
// one small record standing for its chain, built from its pack when something first needs
// the frames: the driver resuming it, its `frames`/`recursionDepth`, a new snapshot.
import type { Frame } from './rt.js';

/** The `f` of a record that stands for a chain not built yet. Never called: the driver builds the chain first. */
export function lazyChain(): never {
  throw new Error('stackless internal error: a restored frame chain was resumed before it was built');
}

export interface LazyRecord extends Frame {
  /** builds member `n`'s chain from its pack; returns the innermost record */
  build: (n: number) => Frame;
  n: number;
}

export function lazyRecord(build: (n: number) => Frame, n: number): LazyRecord {
  return { f: lazyChain, pc: 0, up: null, build, n };
}

/** The innermost record of a suspended tasklet's chain, built first if it was restored lazily. */
export function chainOf(t: { _top: unknown }): Frame | null {
  const F = t._top as Frame | null;
  if (F !== null && F.f === lazyChain) return (t._top = (F as LazyRecord).build((F as LazyRecord).n));
  return F;
}
