// Validation of tasklet packs (format version 3, pack.ts) for check.ts: the packs' own
// structure (pack.ts layoutPacks), the template as a tasklet entry (checked with the first
// member's slots filled in), then every other member's slots one by one. After this, a
// packed tasklet is as well checked as a plain "K" entry.
import { layoutPacks, memberEntry, type PackLayout } from './pack.js';

/** What check.ts lends the pack checks. */
export interface PackChecker {
  cur: number;
  bad(code: string, what: string): never;
  val(v: unknown): void;
  idx(i: unknown, tag: string): number;
  num(v: unknown): number;
  tasklet(e: unknown[]): void;
}

export function checkPacks(ch: PackChecker, objs: unknown[], packs: unknown): PackLayout {
  ch.cur = -1;
  const layout = layoutPacks(objs, packs, (what) => ch.bad('BAD_PACK', what));
  for (const p of layout.packs) {
    const { template, ids, cols } = p;
    ch.cur = ids[0];
    // the template with the first member's slots: everything a plain entry must be
    ch.tasklet(memberEntry(template, cols, p.markers, 0));
    const state = template[1];
    for (const [c, frame, slot] of p.markers) {
      const at = frame < 0 ? slot : -1;
      const col = cols[c];
      // a frame's local and the tempval are values; a blocked tasklet's channel an index;
      // deadlines numbers (null: a receive without a timeout)
      const kind = at === 5 && state === 'blocked' ? 'channel' : (at === 8 && state === 'blocked') || (at === 4 && state === 'sleep') ? 'deadline' : 'value';
      for (let m = 1; m < ids.length; m++) {
        const v = col[m];
        ch.cur = ids[m];
        if (kind === 'value') ch.val(v);
        else if (kind === 'channel') ch.idx(v, 'H');
        else if (v !== null || state === 'sleep') ch.num(v);
      }
    }
  }
  ch.cur = -1;
  return layout;
}
