/**
 * Prints a compiled module without re-printing what the compiler did not touch.
 *
 * The output is the original text with the changed top-level statements replaced by Babel's
 * printing of them, and the new statements (runtime import, metadata, registrations,
 * factories) printed where they now stand. Untouched statements, the comments and the blank
 * lines between statements are copied as they were written. The source map is assembled
 * here: Babel's mappings for the printed parts (shifted to where they land) and identity
 * mappings (one per token start) for the copied text.
 *
 * Printing the whole module with @babel/generator is the fallback when the top-level
 * statements that remain are not in their original order.
 */
import * as t from './ast.js';

type Segment = number[]; // [genColumn, source, line0, column0, name?]

/** One group of statements as Babel printed it: its lines and their mappings. */
interface Printed {
  lines: string[];
  mappings: Segment[][];
}

export interface PrintInput {
  code: string;
  id: string;
  program: t.Program;
  /** the program's statements as parsed, in order */
  original: readonly t.Statement[];
  /** original statements that changed (they hold a marked function) */
  changed: ReadonlySet<t.Node>;
  /** ranges of the original text that are dropped (removed directives) */
  dropped: readonly [number, number][];
  wantMap: boolean;
  generate: (ast: t.Node, opts: object, code: string) => { code: string; decodedMap?: any };
}

export interface PrintOutput {
  code: string;
  map: any;
}

/** Returns null when the statements were reordered (the caller then prints the whole module). */
export function printSpliced(input: PrintInput): PrintOutput | null {
  const { code, program, original, changed, wantMap } = input;
  const index = new Map<t.Node, number>();
  original.forEach((s, i) => index.set(s, i));
  let last = -1;
  for (const s of program.body) {
    const i = index.get(s);
    if (i === undefined) continue;
    if (i <= last) return null;
    last = i;
  }

  const out = new Output(code, input.id, wantMap);
  const dropped = [...input.dropped].sort((a, b) => a[0] - b[0]);
  let cursor = 0; // original text before this offset is consumed
  const copyTo = (end: number) => {
    for (const [a, b] of dropped) {
      if (b <= cursor || a >= end) continue;
      if (a > cursor) out.copy(cursor, a);
      cursor = Math.max(cursor, b);
    }
    if (end > cursor) out.copy(cursor, end);
    cursor = Math.max(cursor, end);
  };
  const skipTo = (end: number) => {
    cursor = Math.max(cursor, end);
  };

  // what must stay first: an interpreter line and the directive prologue
  let prologueEnd = program.interpreter?.end ?? 0;
  for (const d of program.directives) prologueEnd = Math.max(prologueEnd, d.end!);
  for (const [a, b] of dropped) if (a < (original[0]?.start ?? code.length)) prologueEnd = Math.max(prologueEnd, b);
  copyTo(prologueEnd);

  let pending: t.Statement[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    out.printed(pending);
    pending = [];
  };
  let next = 0; // the next original statement not yet placed or dropped
  for (const s of program.body) {
    const i = index.get(s);
    if (i === undefined || changed.has(s)) {
      if (i !== undefined) {
        // a changed original: everything before it is placed as usual, its own text is replaced
        for (; next < i; next++) {
          flush();
          copyTo(startOf(original[next]!));
          skipTo(original[next]!.end!);
        }
        flush();
        copyTo(startOf(s));
        skipTo(s.end!);
        next = i + 1;
      }
      pending.push(s);
      continue;
    }
    // an untouched original: originals before it that are gone are dropped
    for (; next < i; next++) {
      flush();
      copyTo(startOf(original[next]!));
      skipTo(original[next]!.end!);
    }
    flush();
    copyTo(s.end!);
    out.needsSemicolon = code.charCodeAt(s.end! - 1) !== Ch.Semi;
    next = i + 1;
  }
  for (; next < original.length; next++) {
    flush();
    copyTo(startOf(original[next]!));
    skipTo(original[next]!.end!);
  }
  flush();
  copyTo(code.length);
  return out.finish(input.generate);
}

/** Where a statement's text starts, decorators included. */
function startOf(s: t.Statement): number {
  let start = s.start!;
  const decorated = [s as any, (s as any).declaration].filter(Boolean);
  for (const d of decorated) for (const dec of d.decorators ?? []) start = Math.min(start, dec.start);
  return start;
}

const enum Ch {
  LF = 10,
  Space = 32,
  Tab = 9,
  CR = 13,
  Semi = 59,
}

function isWord(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || c > 127;
}

type Op = { copy: [number, number] } | { print: t.Statement[]; semicolon: boolean };

class Output {
  /** what to place, in order: copied ranges and groups of statements to print */
  private readonly ops: Op[] = [];
  private readonly parts: string[] = [];
  private readonly lines: Segment[][] = [[]];
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();
  /** the `names` of the one generated map (printAll) */
  private printedNames: string[] = [];
  private readonly lineStarts: number[] = [0];
  /** column in the current output line */
  private col = 0;
  /** the untouched statement copied last does not end in `;` (and nothing was printed since) */
  needsSemicolon = false;

  constructor(
    private readonly code: string,
    private readonly id: string,
    private readonly wantMap: boolean,
  ) {
    if (wantMap) for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  copy(a: number, b: number): void {
    if (b > a) this.ops.push({ copy: [a, b] });
  }

  /** Statements printed by Babel, starting on a line of their own. */
  printed(stmts: t.Statement[]): void {
    // after untouched code that does not end in `;`, a printed statement must not continue it
    this.ops.push({ print: stmts, semicolon: this.needsSemicolon });
    this.needsSemicolon = false;
  }

  /** Copies code[a, b) with a mapping at every token start. */
  private placeCopy(a: number, b: number): void {
    const { code } = this;
    this.parts.push(code.slice(a, b));
    if (!this.wantMap) {
      const nl = code.lastIndexOf('\n', b - 1);
      this.col = nl >= a ? b - nl - 1 : this.col + (b - a);
      return;
    }
    // original line (0-based) and column of a
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= a) lo = mid;
      else hi = mid - 1;
    }
    let line = lo;
    let lineStart = this.lineStarts[lo]!;
    let segs = this.lines[this.lines.length - 1]!;
    let col = this.col;
    let prev = a > 0 ? code.charCodeAt(a - 1) : Ch.LF;
    for (let i = a; i < b; i++) {
      const c = code.charCodeAt(i);
      if (c === Ch.LF) {
        segs = [];
        this.lines.push(segs);
        col = 0;
        line++;
        lineStart = i + 1;
        prev = c;
        continue;
      }
      // a token starts here: a word after a non-word, or anything after white space
      if (c !== Ch.Space && c !== Ch.Tab && c !== Ch.CR && (isWord(c) ? !isWord(prev) : prev === Ch.Space || prev === Ch.Tab || prev === Ch.LF)) {
        segs.push([col, 0, line, i - lineStart]);
      }
      col++;
      prev = c;
    }
    this.col = col;
  }

  /**
   * Prints every group of statements in one call of Babel's generator (a call costs ~70 µs
   * besides the printing), with a marker statement between groups, and cuts the text and the
   * mappings apart at the markers.
   */
  private printAll(generate: PrintInput['generate']): Printed[] {
    const groups = this.ops.filter((op): op is Extract<Op, { print: t.Statement[] }> => 'print' in op);
    if (groups.length === 0) return [];
    let marker = '$$stackless$cut';
    while (this.code.includes(marker)) marker += '$';
    const body: t.Statement[] = [];
    groups.forEach((g, i) => {
      if (i > 0) body.push(t.expressionStatement(t.identifier(marker)));
      // the statements' own leading and trailing comments stay in the copied text around them
      for (const s of g.print) body.push(s.leadingComments || s.trailingComments ? ({ ...s, leadingComments: null, trailingComments: null } as t.Statement) : s);
    });
    const out = generate(t.program(body), { sourceMaps: this.wantMap, sourceFileName: this.id, retainLines: false }, undefined as any);
    const lines = out.code.split('\n');
    const decoded: Segment[][] = out.decodedMap?.mappings ?? [];
    const mapNames: string[] = out.decodedMap?.names ?? [];
    const cut = `${marker};`;
    const result: Printed[] = [];
    let start = 0;
    const take = (end: number) => {
      let a = start;
      let b = end;
      while (a < b && lines[a]!.trim() === '') a++;
      while (b > a && lines[b - 1]!.trim() === '') b--;
      result.push({ lines: lines.slice(a, b), mappings: decoded.slice(a, b) });
    };
    for (let l = 0; l < lines.length; l++) {
      if (lines[l] !== cut) continue;
      take(l);
      start = l + 1;
    }
    take(lines.length);
    if (result.length !== groups.length) throw new Error(`stackless: printing lost a statement group (${result.length} of ${groups.length})`);
    this.printedNames = mapNames;
    return result;
  }

  /** Places one printed group and takes over its mappings. */
  private placePrinted(p: Printed, semicolon: boolean): void {
    if (this.col !== 0) this.newline();
    const prefix = semicolon ? 1 : 0;
    const text = p.lines.join('\n');
    this.parts.push(prefix ? `;${text}` : text);
    const first = this.lines.length - 1;
    const count = p.lines.length - 1;
    if (this.wantMap) {
      for (let l = 1; l <= count; l++) this.lines.push([]);
      for (let l = 0; l < p.mappings.length && l <= count; l++) {
        const target = this.lines[first + l]!;
        // Babel's segments are taken over as they are: [column, source 0, line, column, name?]
        for (const seg of p.mappings[l]!) {
          if (seg.length < 4) continue;
          if (l === 0) seg[0]! += prefix;
          seg[1] = 0;
          if (seg.length === 5) seg[4] = this.name(this.printedNames[seg[4]!]!);
          target.push(seg);
        }
      }
    }
    this.newline();
  }

  private newline(): void {
    this.parts.push('\n');
    if (this.wantMap) this.lines.push([]);
    this.col = 0;
  }

  private name(n: string): number {
    let i = this.nameIndex.get(n);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(n);
      this.nameIndex.set(n, i);
    }
    return i;
  }

  finish(generate: PrintInput['generate']): PrintOutput {
    const printed = this.printAll(generate);
    let k = 0;
    for (const op of this.ops) {
      if ('copy' in op) this.placeCopy(op.copy[0], op.copy[1]);
      else this.placePrinted(printed[k++]!, op.semicolon);
    }
    const code = this.parts.join('');
    if (!this.wantMap) return { code, map: null };
    return {
      code,
      map: {
        version: 3,
        file: undefined,
        names: this.names,
        sourceRoot: undefined,
        sources: [this.id.replace(/\\/g, '/')],
        sourcesContent: [this.code],
        mappings: encodeMappings(this.lines),
      },
    };
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The `mappings` string of a v3 source map (base64 VLQ, fields relative to the previous segment). */
export function encodeMappings(lines: readonly Segment[][]): string {
  let out = '';
  let source = 0;
  let line = 0;
  let column = 0;
  let name = 0;
  const vlq = (value: number) => {
    let v = value < 0 ? (-value << 1) | 1 : value << 1;
    do {
      let digit = v & 31;
      v >>>= 5;
      if (v > 0) digit |= 32;
      out += B64[digit];
    } while (v > 0);
  };
  for (let l = 0; l < lines.length; l++) {
    if (l > 0) out += ';';
    const segs = lines[l]!; // in column order: text is only ever appended
    let gen = 0;
    for (let k = 0; k < segs.length; k++) {
      const s = segs[k]!;
      if (k > 0) out += ',';
      vlq(s[0]! - gen);
      gen = s[0]!;
      if (s.length >= 4) {
        vlq(s[1]! - source);
        source = s[1]!;
        vlq(s[2]! - line);
        line = s[2]!;
        vlq(s[3]! - column);
        column = s[3]!;
        if (s.length === 5) {
          vlq(s[4]! - name);
          name = s[4]!;
        }
      }
    }
  }
  return out;
}
