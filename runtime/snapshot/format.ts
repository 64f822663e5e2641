// Constants of the snapshot format (docs/snapshot-format.md), shared by save and load.

export const FORMAT = 'stackless-snapshot';
export const VERSION = 3;
/** Versions restore() reads (1: no closures, no saveable iterators; 2: no tasklet packs). */
export const READS = [1, 2, 3];

// Value tags: anything that is not a JSON number/string/boolean/null is [tag, ...].
export const V_UNDEF = 0;
export const V_REF = 1;
export const V_NUM = 2;
export const V_BIGINT = 3;
export const V_BUILTIN = 4;
export const V_FN = 5;
export const V_SYMFOR = 6;
export const V_HOLE = 7;

export const SPECIAL_NUMBERS: Record<string, number> = {
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  '-0': -0,
};

/** The most items a saved `arguments` object may have ("G" entries: restored through a call). */
export const MAX_ARGUMENTS = 10_000;

/** Keys no restored object may have (prototype pollution, SPEC "Snapshots"). */
export const PROTO_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Frames of runtime helpers (not compiled functions): the record keys saved, in order.
 * The array-callback helpers (runtime/arrays.ts) share one layout; $sort keeps one state.
 */
const LOOP = ['md', 'a', 'cb', 't', 'i', 'n', 'acc', 'x'];
export const HELPER_KEYS: Record<string, string[]> = {
  $forEach: LOOP, $map: LOOP, $filter: LOOP, $reduce: LOOP, $some: LOOP, $every: LOOP,
  $find: LOOP, $findIndex: LOOP, $flatMap: LOOP, $sort: ['s'], $ret: [],
  'Channel.sendSequence': ['th', 'it', 'n'],
  atomic: ['t', 'old'],
};
/** The one resume point each helper saves. */
export const HELPER_PC: Record<string, number> = { 'Channel.sendSequence': 1, atomic: 1 };

/** Tasklet states as saved (the `state` field of a "K" entry). */
export const STATES = ['dead', 'bound', 'new', 'done', 'paused', 'runnable', 'blocked', 'sleep', 'wait', 'join', 'select'] as const;
export type State = (typeof STATES)[number];

/** Tasklet flag bits of a "K" entry. */
export const TF_ATOMIC = 1;
export const TF_BTRAP = 2;

/** Readable description of a saved function, for `stackless inspect` (restore ignores it). */
export interface FnInfo {
  name: string;
  file: string;
  line: number;
  /** original local names, in the order of the frames' slots */
  locals: string[];
  /** flat (resume point, line, column) triples */
  pcs: number[];
}

export interface SnapshotData {
  format: typeof FORMAT;
  version: number;
  time: number;
  fns: Array<[string, string, FnInfo?]>;
  /** closure factories (version 2): [id, fingerprint, info?]; info only for tasklet closures */
  factories?: Array<[string, string, FnInfo?]>;
  classes: string[];
  roots: unknown[];
  /** the object table; in version 3 a number is a tasklet stored in that pack */
  objs: unknown[][];
  /** version 3: tasklets of one shape, [template, member runs, ...columns] (pack.ts) */
  packs?: unknown[][];
}
