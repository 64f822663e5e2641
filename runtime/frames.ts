// Tasklet.frames: a readable view of a saved frame chain. Compiled code puts a
// static description of its function in every record (`record.m`, built by
// transformer/emit/meta.ts): { id, name, file, line, column, fp, states,
// locals: [[recordKey, originalName], ...], pcs: [pc, line, column, pc, ...] }.
// Records without it (runtime helpers, hand-written code) show the function's
// name, no position, and their own fields as locals.
import type { Frame } from './rt.js';

export interface FrameInfo {
  function: string;
  file: string | null;
  line: number | null;
  column: number | null;
  locals: Record<string, unknown>;
}

interface Meta {
  name?: string;
  file?: string;
  line?: number;
  column?: number;
  locals?: Array<[string, string]>;
  pcs?: number[];
}

const RESERVED = new Set(['f', 'pc', 'up', 'th', 'm']);

function metaOf(f: Frame): Meta | null {
  const m = f.m;
  return typeof m === 'object' && m !== null ? (m as Meta) : null;
}

/** [line, column] of resume point `pc` (pcs holds sorted triples). */
function position(meta: Meta, pc: number): [number, number] | null {
  const pcs = meta.pcs;
  if (pcs !== undefined) {
    for (let i = 0; i + 2 < pcs.length; i += 3) if (pcs[i] === pc) return [pcs[i + 1], pcs[i + 2]];
  }
  return meta.line !== undefined ? [meta.line, meta.column ?? 0] : null;
}

/** [line, column (0-based)] of the call a saved record's resume point stands for, or null. */
export function recordPosition(f: Frame): [number, number] | null {
  const meta = metaOf(f);
  return meta !== null ? position(meta, f.pc) : null;
}

export function describeFrames(top: Frame | null): FrameInfo[] {
  const out: FrameInfo[] = [];
  for (let f = top; f !== null; f = f.up) {
    const meta = metaOf(f);
    const locals: Record<string, unknown> = {};
    if (meta?.locals !== undefined) for (const [key, name] of meta.locals) locals[name] = f[key];
    else for (const key of Object.keys(f)) if (!RESERVED.has(key)) locals[key] = f[key];
    const pos = meta !== null ? position(meta, f.pc) : null;
    out.push({
      function: meta?.name ?? ((f.f as Function).name || '<anonymous>'),
      file: meta?.file ?? null,
      line: pos ? pos[0] : null,
      column: pos ? pos[1] : null,
      locals,
    });
  }
  return out.reverse();
}
