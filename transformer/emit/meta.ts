/**
 * Static description of a compiled function, one module-level constant each,
 * referenced by every frame record it saves (`record.m`). The runtime reads it
 * to show frames (`tasklet.frames`, logical stack traces) and snapshots use its
 * id and fingerprint to find the function again and to refuse changed code.
 */
import * as t from '../ast.js';
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

export function buildMeta(input: MetaInput): { node: t.ObjectExpression; fingerprint: string } {
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
  const str = (v: string) => t.stringLiteral(v);
  const num = (v: number) => t.numericLiteral(v);
  const node = t.objectExpression([
    t.objectProperty(t.identifier('id'), str(input.id)),
    t.objectProperty(t.identifier('name'), str(input.name)),
    t.objectProperty(t.identifier('file'), str(input.file)),
    t.objectProperty(t.identifier('line'), num(input.line)),
    t.objectProperty(t.identifier('column'), num(input.column)),
    t.objectProperty(t.identifier('fp'), str(fingerprint)),
    t.objectProperty(t.identifier('states'), num(ctx.em.count)),
    t.objectProperty(t.identifier('locals'), t.arrayExpression(locals.map(([k, n]) => t.arrayExpression([str(k), str(n)])))),
    t.objectProperty(t.identifier('pcs'), t.arrayExpression(pcs.flat().map(num))),
    t.objectProperty(t.identifier('th'), num(input.usesThis ? 1 : 0)),
  ]);
  if (input.live !== null) {
    const live = [...input.live].map(([pc, slots]) => t.objectProperty(num(pc), t.arrayExpression(slots.map(num))));
    node.properties.push(t.objectProperty(t.identifier('live'), t.objectExpression(live)));
  }
  return { node, fingerprint };
}
