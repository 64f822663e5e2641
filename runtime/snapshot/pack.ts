// Tasklet packs (format version 3, docs/snapshot-format.md "Packs"). A program that parks a
// million tasklets parks them in a few shapes: the same functions at the same resume points,
// most locals equal (the channel, a constant), a few differing (an id). Saving each as its
// own "K" entry costs a dozen JSON arrays per tasklet, and JSON.stringify / JSON.parse time
// is per value, not per byte. A pack stores one template entry for all tasklets of a shape
// and one column per slot that differs, so a million tasklets cost a few flat arrays.
//
// This file is the format: which slots of an entry a pack may hold in columns, the packs'
// own structure (layoutPacks), a member as the plain entry it stands for (memberEntry,
// which check-packs.ts checks exactly as a plain entry) and whole snapshots written out
// for tools (unpacked). The saver's side is pack-build.ts; restore builds packs in load.ts.
import { fail } from './errors.js';
import { VERSION, type SnapshotData } from './format.js';

/** Fewer tasklets of one shape than this stay plain entries (readable, no gain from a pack). */
export const PACK_MIN = 32;
/** Marker of a column slot in a pack's template: [COLUMN, column index]. Not a value tag. */
export const COLUMN = 8;

/** States whose entries have the frame layout packs know; the others stay plain entries. */
const PACKABLE = new Set(['paused', 'runnable', 'blocked', 'sleep', 'wait', 'join']);

/**
 * Calls `visit(container, index)` for every slot of a "K" entry that holds per-tasklet data
 * (frame locals, tempval, channel index, deadline), in a fixed order. Returns false for an
 * entry packs do not handle (other states, frames of closures).
 */
export function slots(e: unknown[], visit: (c: unknown[], i: number) => void): boolean {
  if (!PACKABLE.has(e[1] as string) || !Array.isArray(e[3])) return false;
  // frames of compiled functions only (those of closures and runtime helpers stay plain entries)
  for (const f of e[3] as unknown[]) if (!Array.isArray(f) || typeof f[0] !== 'number') return false;
  for (const f of e[3] as unknown[][]) for (let k = 2; k < f.length; k++) visit(f, k);
  const state = e[1];
  if (state === 'blocked') {
    visit(e, 4);
    visit(e, 5);
    visit(e, 8);
  } else if (state !== 'wait' && state !== 'join') visit(e, 4);
  return true;
}

/** Encoded values are primitives or short arrays of primitives ([1, 5], [0], [2, "NaN"]). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Member indexes as runs: [start, length, start, length, ...]. */
export function runs(ids: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i + 1;
    while (j < ids.length && ids[j] === ids[j - 1] + 1) j++;
    out.push(ids[i], j - i);
    i = j;
  }
  return out;
}

/** A queue item that stands for consecutive tasklets: ["run", start, count, direction]. */
export const isRun = (q: unknown): q is ['run', number, number, number] => Array.isArray(q) && q[0] === 'run';

const isIndex = (x: unknown, below: number): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < below;

/** A column's place in a pack's template: [column, frame index (-1: the entry itself), slot]. */
export type Marker = [column: number, frame: number, slot: number];

export interface PackLayout {
  /** per pack: its template, its member object indexes, its columns */
  packs: Array<{ template: unknown[]; ids: number[]; cols: unknown[][]; markers: Marker[] }>;
  /** per object index: its pack, or -1 */
  packOf: Int32Array;
  /** per object index: its position among its pack's members */
  memberOf: Int32Array;
}

const isMarker = (v: unknown): v is [number, number] => Array.isArray(v) && v[0] === COLUMN;

/**
 * The packs' own structure, checked: every member run in range, every member a placeholder
 * of its pack and in one pack only, every placeholder claimed, every column as long as its
 * pack and used by exactly one marker at a slot of the template. (What the template and the
 * columns hold is checked as entries and values: check-packs.ts.)
 */
export function layoutPacks(objs: unknown[], packs: unknown, bad: (what: string) => never): PackLayout {
  if (!Array.isArray(packs)) bad('packs is not an array');
  const packOf = new Int32Array(objs.length).fill(-1);
  const memberOf = new Int32Array(objs.length);
  const out: PackLayout['packs'] = [];
  for (let p = 0; p < (packs as unknown[]).length; p++) {
    const pack = (packs as unknown[])[p];
    if (!Array.isArray(pack) || pack.length < 2 || !Array.isArray(pack[0]) || !Array.isArray(pack[1])) bad(`pack ${p} is not [template, members, ...columns]`);
    const [template, members] = pack as [unknown[], unknown[]];
    const cols = (pack as unknown[][]).slice(2);
    const ids: number[] = [];
    if (members.length === 0 || members.length % 2 !== 0) bad(`pack ${p}: members are not [start, length] pairs`);
    for (let r = 0; r < members.length; r += 2) {
      const start = members[r];
      const len = members[r + 1];
      if (!isIndex(start, objs.length) || !isIndex(len, objs.length + 1) || start + len > objs.length) bad(`pack ${p}: member run out of range`);
      for (let i = start; i < start + len; i++) {
        if (objs[i] !== p) bad(`pack ${p}: objs[${i}] is not a placeholder of this pack`);
        if (packOf[i] !== -1) bad(`pack ${p}: objs[${i}] is a member twice`);
        packOf[i] = p;
        memberOf[i] = ids.push(i) - 1;
      }
    }
    if (template[0] !== 'K' || !Array.isArray(template[3])) bad(`pack ${p}: the template is not a tasklet entry with frames`);
    const used = new Uint8Array(cols.length);
    const markers: PackLayout['packs'][number]['markers'] = [];
    const ok = slots(template, (c, i) => {
      const v = c[i];
      if (!isMarker(v)) return;
      if (v.length !== 2 || !isIndex(v[1], cols.length) || used[v[1]]++ !== 0) bad(`pack ${p}: bad column marker`);
      if (!Array.isArray(cols[v[1]]) || cols[v[1]].length !== ids.length) bad(`pack ${p}: column ${v[1]} does not have one item per member`);
      markers.push([v[1], c === template ? -1 : (template[3] as unknown[]).indexOf(c), i]);
    });
    if (!ok) bad(`pack ${p}: tasklets in this state or with these frames cannot be packed`);
    if (used.includes(0)) bad(`pack ${p}: a column is not used by the template`);
    out.push({ template, ids, cols, markers });
  }
  for (let i = 0; i < objs.length; i++) if (typeof objs[i] === 'number' && packOf[i] === -1) bad(`objs[${i}] is a pack placeholder no pack claims`);
  return { packs: out, packOf, memberOf };
}

/**
 * Member `m` of a pack as a plain entry (new arrays; the template is not changed). Only the
 * checked markers are filled in: anything else that looks like one stays, for the checks to refuse.
 */
export function memberEntry(template: unknown[], cols: unknown[][], markers: Marker[], m: number): unknown[] {
  const e = template.slice();
  const fs = (template[3] as unknown[][]).map((f) => f.slice());
  e[3] = fs;
  for (const [c, frame, slot] of markers) (frame < 0 ? e : fs[frame])[slot] = cols[c][m];
  return e;
}

/**
 * The object table with every packed tasklet written out as its plain "K" entry again (a
 * new array; `objs` and `packs` are not changed), for tools that read entries.
 */
function unpackTasklets(objs: unknown[], packs: unknown): unknown[][] {
  const layout = layoutPacks(objs, packs, (what) => fail('BAD_PACK', `bad snapshot (packs): ${what}`));
  const out = objs.slice() as unknown[][];
  for (const p of layout.packs) for (let m = 0; m < p.ids.length; m++) out[p.ids[m]] = memberEntry(p.template, p.cols, p.markers, m);
  return out;
}

/**
 * The snapshot with its tasklet packs written out as plain entries (version 3), or as it
 * is. What restore checks and builds, and what tools that read entries (inspect,
 * migrations) work on.
 */
export function unpacked(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data;
  const d = data as SnapshotData;
  if (!Array.isArray(d.objs)) return data; // check() reports it
  const packed = 'packs' in d;
  if (packed && d.version !== VERSION) fail('BAD_PACK', `bad snapshot (packs): packs need version ${VERSION}, the snapshot is version ${String(d.version)}`);
  const hasRuns = d.objs.some((e) => Array.isArray(e) && e[0] === 'H' && Array.isArray(e[4]) && (e[4] as unknown[]).some(isRun));
  if (!packed && !hasRuns) return data;
  const { packs, ...rest } = d;
  const objs = packed ? unpackTasklets(d.objs, packs) : d.objs.slice();
  for (let i = 0; i < objs.length; i++) {
    const e = objs[i];
    if (!Array.isArray(e) || e[0] !== 'H' || !Array.isArray(e[4])) continue;
    const queue: unknown[] = [];
    for (const q of e[4] as unknown[]) {
      if (!isRun(q)) queue.push(q);
      else if (Number.isInteger(q[1]) && Number.isInteger(q[2]) && q[2] >= 0 && q[2] <= objs.length) for (let k = 0; k < q[2]; k++) queue.push([q[1] + k, q[3]]);
      else fail('BAD_CHANNEL', `bad snapshot (objs[${i}]): queue run`);
    }
    objs[i] = [...e.slice(0, 4), queue, ...e.slice(5)];
  }
  return { ...rest, objs };
}
