// Tasklet.frames: a readable view of a saved frame chain. Source positions come
// from optional metadata the transformer may attach to a compiled function:
//   fn.$sl = { id?: string, file?: string, name?: string, pcs?: { [pc]: [line, column] } }
// (see docs/protocol.md). Without it, the function's name and no position.
import type { Frame } from './rt.js';

export interface FrameInfo {
  function: string;
  file: string | null;
  line: number | null;
  column: number | null;
  locals: Record<string, unknown>;
}

interface Meta {
  file?: string;
  name?: string;
  pcs?: Record<number, [number, number]>;
}

const RESERVED = new Set(['f', 'pc', 'up', 'th']);

export function describeFrames(top: Frame | null): FrameInfo[] {
  const out: FrameInfo[] = [];
  for (let f = top; f !== null; f = f.up) {
    const fn = f.f as Function & { $sl?: Meta };
    const meta = fn.$sl;
    const pos = meta?.pcs?.[f.pc];
    const locals: Record<string, unknown> = {};
    for (const key of Object.keys(f)) if (!RESERVED.has(key)) locals[key.startsWith('$') && RESERVED.has(key.slice(1)) ? key.slice(1) : key] = f[key];
    out.push({
      function: meta?.name ?? (fn.name || '<anonymous>'),
      file: meta?.file ?? null,
      line: pos ? pos[0] : null,
      column: pos ? pos[1] : null,
      locals,
    });
  }
  return out.reverse();
}
