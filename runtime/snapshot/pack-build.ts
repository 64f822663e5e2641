// The saver's side of tasklet packs and queue runs (format version 3; the format itself,
// and reading it back, are pack.ts): tasklets are filed by shape while they are encoded,
// a channel's waiters collected into runs while its queue is walked.
import { COLUMN, PACK_MIN, runs, same, slots } from './pack.js';

export interface PackGroup {
  /** the entry of every member, with null in each per-tasklet slot */
  template: unknown[];
  /** per frame (innermost first): does it save `this` (then its slots are not trimmed) */
  th: boolean[];
  ids: number[];
  /**
   * one column per slot, in slots() order: null while every member so far had the first
   * member's value there (firsts), which is most slots (a million copies of one channel
   * reference would be 8 MB of column for nothing)
   */
  cols: Array<unknown[] | null>;
  firsts: unknown[];
  /** the saver's description of the members' live frames (save-sched.ts) */
  shape: unknown;
}

/**
 * The saver's side of packs: tasklets are filed by shape as they are encoded, their
 * per-tasklet slots straight into columns, so no entry is built per tasklet. finish()
 * then writes small groups out as plain entries and turns the rest into packs.
 */
export class PackBuilder {
  private readonly groups = new Map<string, PackGroup>();

  /** The group of shape `key`, or undefined the first time it is seen. */
  get(key: string): PackGroup | undefined {
    return this.groups.get(key);
  }

  create(key: string, template: unknown[], th: boolean[]): PackGroup {
    let n = 0;
    slots(template, () => n++);
    const g: PackGroup = { template, th, ids: [], cols: new Array(n).fill(null), firsts: new Array(n).fill(undefined), shape: null };
    this.groups.set(key, g);
    return g;
  }

  /** Fills the placeholders of `objs` (plain entries or pack numbers); returns the packs. */
  finish(objs: unknown[][], undef: unknown): unknown[][] {
    const packs: unknown[][] = [];
    for (const g of this.groups.values()) {
      if (g.ids.length < PACK_MIN) {
        for (let m = 0; m < g.ids.length; m++) objs[g.ids[m]] = this.plain(g, m, undef);
        continue;
      }
      const template = copyEntry(g.template);
      const columns: unknown[][] = [];
      let s = 0;
      slots(template, (c, i) => {
        const col = g.cols[s];
        c[i] = col === null ? g.firsts[s] : [COLUMN, columns.push(col) - 1];
        s++;
      });
      const p = packs.length;
      for (const i of g.ids) objs[i] = p as never;
      packs.push([template, runs(g.ids), ...columns]);
    }
    return packs;
  }

  /** Member `m` as a plain entry; trailing undefined locals are left out as in any entry. */
  private plain(g: PackGroup, m: number, undef: unknown): unknown[] {
    const e = copyEntry(g.template);
    let s = 0;
    slots(e, (c, i) => {
      const col = g.cols[s];
      c[i] = col === null ? g.firsts[s] : col[m];
      s++;
    });
    const fs = e[3] as unknown[][];
    for (let j = 0; j < fs.length; j++) {
      if (g.th[j]) continue;
      const f = fs[j];
      let n = f.length;
      while (n > 2 && f[n - 1] === undef) n--;
      f.length = n;
    }
    return e;
  }
}

/** Files slot `c` of the member added last (the last of `g.ids`). */
export function put(g: PackGroup, c: number, v: unknown): void {
  const col = g.cols[c];
  if (col !== null) {
    col.push(v);
    return;
  }
  const m = g.ids.length - 1;
  if (m === 0) g.firsts[c] = v;
  else if (!same(v, g.firsts[c])) {
    // the first member that differs here: the slot becomes a column
    const filled = new Array(m).fill(g.firsts[c]);
    filled.push(v);
    g.cols[c] = filled;
  }
}

function copyEntry(e: unknown[]): unknown[] {
  const out = e.slice();
  out[3] = (e[3] as unknown[][]).map((f) => f.slice());
  return out;
}

/**
 * A channel's queue items as they are found: [taskletIndex, direction], a select case's
 * [taskletIndex, direction, caseIndex], and each stretch of at least three consecutive
 * tasklets waiting in one direction as one run (no array is made per waiter of a run).
 */
export class QueueItems {
  private readonly out: unknown[] = [];
  private start = -1;
  private count = 0;
  private dir = 0;

  waiter(i: number, d: number): void {
    if (this.count > 0 && i === this.start + this.count && d === this.dir) {
      this.count++;
      return;
    }
    this.flush();
    this.start = i;
    this.count = 1;
    this.dir = d;
  }

  select(i: number, d: number, c: number): void {
    this.flush();
    this.out.push([i, d, c]);
  }

  done(): unknown[] {
    this.flush();
    return this.out;
  }

  private flush(): void {
    if (this.count >= 3) this.out.push(['run', this.start, this.count, this.dir]);
    else for (let k = 0; k < this.count; k++) this.out.push([this.start + k, this.dir]);
    this.count = 0;
  }
}
