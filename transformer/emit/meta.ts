/**
 * Static description of a compiled function, one module-level constant each,
 * referenced by every frame record it saves (`record.m`). The runtime reads it
 * to show frames (`tasklet.frames`, logical stack traces) and snapshots use its
 * id and fingerprint to find the function again and to refuse changed code.
 */
import type { FunctionContext } from '../lower/context.js';
import { frameKey } from './assemble.js';

export interface MetaInput {
  id: string;
  name: string;
  file: string;
  line: number;
  column: number;
  locals: string[];
  originalNames: Map<string, string>;
  ctx: FunctionContext;
  /** whether the records save `this` (restore checks a frame's slot count exactly) */
  usesThis: boolean;
  /** resume point -> slots of the temporaries live there (emit/liveness.ts), when known */
  live: Map<number, number[]> | null;
}

/** FNV-1a, 32 bit, as 8 hex digits: stable across runs and machines. */
export function fingerprintOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The metadata object literal, as text, and the function's fingerprint. */
export function buildMeta(input: MetaInput): { code: string; fingerprint: string } {
  const { ctx } = input;
  const locals = input.locals.map((l) => [frameKey(l), input.originalNames.get(l) ?? l] as const);
  // resume point -> [line, column] of the call it stands for
  const pcs: [number, number, number][] = [];
  for (const c of ctx.callSites) {
    const loc = c.loc?.start;
    pcs.push([c.value.id, loc?.line ?? input.line, loc?.column ?? input.column]);
    pcs.push([c.retry.id, loc?.line ?? input.line, loc?.column ?? input.column]);
  }
  pcs.sort((a, b) => a[0] - b[0]);
  // the layout a saved frame depends on: its locals and its resume points
  const layout = JSON.stringify([locals.map((l) => l[0]), ctx.em.count, ctx.callSites.map((c) => c.value.id), ctx.tries.map((r) => [r.start.id, r.catchLabel?.id ?? -1, r.finallyLabel?.id ?? -1, r.after.id])]);
  const fingerprint = fingerprintOf(layout);
  // written as text (one node to print; nothing in the compiler reads it again)
  const str = JSON.stringify;
  let code = `{ id: ${str(input.id)}, name: ${str(input.name)}, file: ${str(input.file)}, line: ${input.line}, column: ${input.column}, fp: "${fingerprint}", states: ${ctx.em.count}`;
  code += `, locals: [${locals.map(([k, n]) => `[${str(k)}, ${str(n)}]`).join(', ')}], pcs: [${pcs.flat().join(', ')}], th: ${input.usesThis ? 1 : 0}`;
  if (input.live !== null) code += `, live: { ${[...input.live].map(([pc, slots]) => `${pc}: [${slots.join(', ')}]`).join(', ')} }`;
  code += ' }';
  return { code, fingerprint };
}
