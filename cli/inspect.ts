/**
 * `stackless inspect snapshot.json`: a snapshot (docs/snapshot-format.md) made readable:
 * every tasklet with its state and its stack (function names, original source lines,
 * locals by their original names), then every channel with its balance and queue.
 * It only reads the JSON: no program needs to be loaded and nothing is restored.
 */
import { readFileSync } from 'node:fs';
import { unpacked } from '../runtime/snapshot/pack.js';

type Entry = unknown[];
interface Info {
  name: string;
  file: string;
  line: number;
  locals: string[];
  pcs: number[];
}

const TAGS: Record<string, string> = {
  O: 'Object', N: 'Object(null)', A: 'Array', AX: 'Array', D: 'Date', R: 'RegExp', M: 'Map', S: 'Set',
  B: 'ArrayBuffer', T: 'TypedArray', E: 'Error', C: 'instance', X: 'pending error', K: 'tasklet', H: 'channel',
  F: 'closure', I: 'iterator',
};
const ITER_KINDS = ['values', 'keys', 'entries'];
const ITER_SOURCES = ['array', 'string', 'Map', 'Set'];

class Printer {
  private readonly fns: Array<[string, string, Info?]>;
  private readonly factories: Array<[string, string, Info?]>;
  private readonly objs: Entry[];
  private readonly classes: string[];
  private readonly out: string[] = [];

  constructor(private readonly d: any, private readonly all: boolean) {
    this.fns = d.fns;
    this.factories = Array.isArray(d.factories) ? d.factories : [];
    this.objs = d.objs;
    this.classes = d.classes;
  }

  /** A short one-line rendering of an encoded value (depth-limited). */
  val(v: unknown, depth = 0): string {
    if (v === null || typeof v !== 'object') return typeof v === 'string' ? JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v) : String(v);
    const a = v as unknown[];
    switch (a[0]) {
      case 0: return 'undefined';
      case 2: return String(a[1]);
      case 3: return `${a[1]}n`;
      case 4: return a[1] === 'TDZ' ? '<uninitialized>' : `<${a[1]}>`;
      case 5: return `<function ${this.fnName(a[1] as number)}>`;
      case 6: return `Symbol.for(${JSON.stringify(a[1])})`;
      case 7: return '<hole>';
      case 1: return this.ref(a[1] as number, depth);
    }
    return JSON.stringify(v);
  }

  fnName(i: number): string {
    const f = this.fns[i];
    return f?.[2]?.name ?? f?.[0] ?? `#${i}`;
  }

  ref(i: number, depth: number): string {
    const e = this.objs[i];
    if (!Array.isArray(e)) return `<bad ref ${i}>`;
    const tag = e[0] as string;
    if (tag === 'K') return `<tasklet #${i}>`;
    if (tag === 'H') return `<channel #${i}>`;
    if (depth >= 2) return `<${TAGS[tag] ?? tag} #${i}>`;
    const items = (from: number, step: number, show: (j: number) => string) => {
      const parts: string[] = [];
      for (let j = from; j < e.length && parts.length < 6; j += step) parts.push(show(j));
      if ((e.length - from) / step > 6) parts.push('...');
      return parts.join(', ');
    };
    const key = (k: unknown) => (Array.isArray(k) ? String(k[0]) : String(k));
    const isAccessor = (k: unknown) => Array.isArray(k) && k[1] === 1;
    switch (tag) {
      case 'O': case 'N': return `{ ${items(1, 2, (j) => `${key(e[j])}: ${isAccessor(e[j]) ? '<getter/setter>' : this.val(e[j + 1], depth + 1)}`)} }`;
      case 'C': return `${this.classes[e[1] as number]} { ${items(2, 2, (j) => `${key(e[j])}: ${this.val(e[j + 1], depth + 1)}`)} }`;
      case 'E': return `${e[1]}(${this.val(e[(e.indexOf('message') + 1) || e.findIndex((k) => Array.isArray(k) && k[0] === 'message') + 1], depth + 1)})`;
      case 'A': return `[${items(1, 1, (j) => this.val(e[j], depth + 1))}]`;
      case 'AX': return `[${(e[1] as unknown[]).slice(0, 6).map((x) => this.val(x, depth + 1)).join(', ')}]`;
      case 'D': return `Date(${typeof e[1] === 'number' ? new Date(e[1]).toISOString() : 'Invalid'})`;
      case 'R': return `/${e[1]}/${e[2]}`;
      case 'M': return `Map(${(e.length - 1) / 2}) { ${items(1, 2, (j) => `${this.val(e[j], depth + 1)} => ${this.val(e[j + 1], depth + 1)}`)} }`;
      case 'S': return `Set(${e.length - 1}) { ${items(1, 1, (j) => this.val(e[j], depth + 1))} }`;
      case 'T': return `${e[1]}(${e[4]})`;
      case 'B': return `ArrayBuffer`;
      case 'X': return `<pending error ${this.val(e[1], depth + 1)}>`;
      case 'F': return `<closure ${this.factoryName(e[1] as number)}>`;
      case 'I': {
        const k = e[1] as number;
        const src = Array.isArray(e[2]) && e[2][0] === 0 ? 'finished' : `${this.val(e[2], depth + 1)} at ${e[3]}`;
        return `<${ITER_SOURCES[k >> 2]} ${ITER_KINDS[k & 3]} iterator, ${src}>`;
      }
    }
    return `<${tag} #${i}>`;
  }

  factoryName(i: number): string {
    const f = this.factories[i];
    return f?.[2]?.name ?? (f ? f[0].slice(Math.max(f[0].lastIndexOf('#'), f[0].lastIndexOf('/')) + 1) : `#${i}`);
  }

  line(s: string): void {
    this.out.push(s);
  }

  frame(f: unknown[], innermost: boolean, retry: boolean): void {
    const fn = f[0];
    const pc = f[1] as number;
    if (typeof fn === 'string') {
      this.line(`    ${fn} (runtime helper)`);
      return;
    }
    // a tasklet closure's frame names its "F" entry; its layout is in the factory table
    const closureAt = Array.isArray(fn) ? (this.objs[fn[1] as number] as Entry | undefined) : undefined;
    const [id, , info] = (closureAt !== undefined ? this.factories[closureAt[1] as number] : this.fns[fn as number]) ?? ['?'];
    let where = '';
    if (info !== undefined) {
      let line = info.line;
      let col = 0;
      for (let j = 0; j + 2 < info.pcs.length; j += 3) if (info.pcs[j] === pc) [line, col] = [info.pcs[j + 1], info.pcs[j + 2]];
      where = ` at ${info.file}:${line}:${col}`;
    }
    this.line(`    ${info?.name ?? id}${where}${innermost && retry ? ' (call is re-run on restore)' : ''}`);
    const names = info?.locals ?? [];
    let hidden = 0;
    for (let j = 2; j < f.length; j++) {
      const name = j - 2 < names.length ? names[j - 2] : 'this';
      // compiler temporaries ($t0, $it, ...) are not the user's variables
      if (name.startsWith('$') && !this.all) hidden++;
      else this.line(`      ${name} = ${this.val(f[j])}`);
    }
    if (hidden > 0) this.line(`      (${hidden} compiler temporaries not shown; --all shows them)`);
  }

  tasklet(i: number, e: Entry): void {
    const state = e[1] as string;
    const flags = e[2] as number;
    const fl = [flags & 1 ? 'atomic' : '', flags & 2 ? 'blockTrap' : ''].filter(Boolean).join(', ');
    const when = (at: unknown) => (typeof at === 'number' ? ` until ${new Date(at).toISOString()} (${at - this.d.time} ms after the snapshot)` : '');
    let what = state;
    if (state === 'blocked') what = `blocked ${e[6] === 1 ? `sending ${this.val(e[4])} on` : 'receiving on'} <channel #${e[5]}>${when(e[8])}`;
    else if (state === 'sleep') what = `sleeping${when(e[4])}`;
    else if (state === 'select') what = `in select on ${(e[4] as unknown[][]).map((c) => `${c[1] === 1 ? 'send to' : 'receive from'} <channel #${c[0]}>`).join(', ')}${when(e[5])}`;
    else if (state === 'wait') what = 'waiting in wait(thunk) (restored paused; the thunk is called again)';
    else if (state === 'join') what = 'joining another tasklet (restored paused; join() runs again)';
    this.line(`tasklet #${i}: ${what}${fl ? ` [${fl}]` : ''}`);
    if (state === 'bound' || state === 'new') this.line(`  function ${this.val(e[3])}${state === 'new' ? `, arguments ${this.val(e[4])}` : ''}`);
    if (state === 'done') this.line(`  ${e[4] === 1 ? 'error' : 'result'}: ${this.val(e[3])}`);
    if (state === 'paused' || state === 'runnable') this.line(`  resumes with ${this.val(e[4])}`);
    const frames = ['dead', 'bound', 'new', 'done'].includes(state) ? [] : (e[3] as unknown[][]);
    if (frames.length > 0) this.line(`  stack (${frames.length} frame${frames.length === 1 ? '' : 's'}, innermost first):`);
    const shown = frames.length > 12 ? [...frames.slice(0, 8), null, ...frames.slice(-3)] : frames;
    shown.forEach((f, j) => {
      if (f === null) this.line(`    ... ${frames.length - 11} more frames ...`);
      else this.frame(f, j === 0, state === 'wait' || state === 'join');
    });
  }

  channel(i: number, e: Entry): void {
    const [, fl, cap, buf, queue] = e as [string, number, number, unknown[], number[][]];
    const bal = queue.reduce((s, q) => s + q[1], 0);
    const pref = (fl & 3) - 1;
    this.line(`channel #${i}: balance ${bal}, preference ${pref}${fl & 4 ? ', scheduleAll' : ''}${fl & 8 ? ', closing' : ''}${cap > 0 ? `, buffer ${buf.length}/${cap}` : ''}`);
    if (buf.length > 0) this.line(`  buffered: ${buf.slice(0, 8).map((v) => this.val(v)).join(', ')}${buf.length > 8 ? ', ...' : ''}`);
    if (queue.length > 0) {
      const qs = queue.slice(0, 10).map((q) => `<tasklet #${q[0]}> ${q[1] === 1 ? 'sending' : 'receiving'}${q.length === 3 ? ` (select case ${q[2]})` : ''}`);
      this.line(`  queue: ${qs.join(', ')}${queue.length > 10 ? `, ... (${queue.length} in all)` : ''}`);
    }
  }

  print(): string {
    const d = this.d;
    const ts = this.objs.map((e, i) => [i, e] as const).filter(([, e]) => e[0] === 'K');
    const cs = this.objs.map((e, i) => [i, e] as const).filter(([, e]) => e[0] === 'H');
    this.line(`stackless snapshot, format version ${d.version}, taken ${new Date(d.time).toISOString()}`);
    this.line(`${ts.length} tasklet${ts.length === 1 ? '' : 's'}, ${cs.length} channel${cs.length === 1 ? '' : 's'}, ${this.objs.length} objects, ${this.fns.length} functions`);
    this.line(`roots: ${d.roots.map((r: unknown) => this.val(r, 2)).join(', ')}`);
    this.line('');
    for (const [i, e] of ts.slice(0, 200)) this.tasklet(i, e);
    if (ts.length > 200) this.line(`... ${ts.length - 200} more tasklets`);
    if (cs.length > 0) this.line('');
    for (const [i, e] of cs) this.channel(i, e);
    this.line('');
    this.line('functions:');
    for (const [id, fp] of this.fns) this.line(`  ${id} (fingerprint ${fp})`);
    if (this.factories.length > 0) {
      this.line('closure factories:');
      for (const [id, fp] of this.factories) this.line(`  ${id} (fingerprint ${fp})`);
    }
    return this.out.join('\n') + '\n';
  }
}

/** Prints the snapshot in `file`; returns the exit code (1: not a readable snapshot). */
export function inspect(file: string, all: boolean, write: (text: string) => void, error: (text: string) => void): number {
  let d: any;
  try {
    d = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    error(`stackless inspect: cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  if (d === null || typeof d !== 'object' || d.format !== 'stackless-snapshot' || !Array.isArray(d.objs) || !Array.isArray(d.fns)) {
    error(`stackless inspect: ${file} is not a stackless snapshot\n`);
    return 1;
  }
  try {
    write(new Printer(unpacked(d), all).print());
  } catch (e) {
    error(`stackless inspect: ${file} is a damaged snapshot (${(e as Error).message})\n`);
    return 1;
  }
  return 0;
}
