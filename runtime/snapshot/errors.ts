// SnapshotError helpers: every refusal carries a stable `code` (docs/snapshot-format.md
// lists them) and names what it could: the value's path, the local, the function, the line.
import { SnapshotError } from '../errors.js';

export { SnapshotError };

export function fail(code: string, message: string): never {
  throw new SnapshotError(code, message);
}

/** Static metadata of a compiled function (transformer/emit/meta.ts). */
export interface Meta {
  id: string;
  name: string;
  file: string;
  line: number;
  column: number;
  fp: string;
  states: number;
  locals: Array<[string, string]>;
  pcs: number[];
}

/** [line, column] of resume point `pc`, from the flat (pc, line, column) triples. */
export function lineOf(meta: Meta, pc: number): [number, number] {
  const pcs = meta.pcs;
  if (Array.isArray(pcs)) for (let i = 0; i + 2 < pcs.length; i += 3) if (pcs[i] === pc) return [pcs[i + 1], pcs[i + 2]];
  return [meta.line, meta.column];
}

/** "name (file:line)" for messages. */
export function where(meta: Meta, pc: number): string {
  const [line] = lineOf(meta, pc);
  return `function ${meta.name} (${meta.file}:${line})`;
}
