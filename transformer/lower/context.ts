/**
 * Per-function state of the lowering: the emitter, temporaries, the leap stack
 * (where `break`, `continue` and `return` go, through which `finally` blocks)
 * and the try regions the dispatch `catch` routes exceptions by.
 */
import * as t from '../ast.js';
import { Emitter, Label } from './emitter.js';
import type { CallSites } from '../analyze/callsites.js';
import type { FrameLayout } from '../analyze/bindings.js';

export type LeapEntry =
  | { kind: 'loop'; breakLabel: Label; continueLabel: Label; labels: string[] }
  | { kind: 'switch'; breakLabel: Label }
  | { kind: 'labeled'; breakLabel: Label; label: string }
  | { kind: 'finally'; tryEntry: TryRegion };

export interface TryRegion {
  start: Label;
  catchLabel: Label | null;
  finallyLabel: Label | null;
  /** first label after the whole statement */
  after: Label;
  /** completion kind / value variables of this try's finally */
  completion: string | null;
  completionValue: string | null;
  /** jumps routed through this finally: target label and the next finally to cross, if any */
  jumps: { target: Label; next: TryRegion | null }[];
  /** nearest enclosing try whose finally a `return` from here must run next */
  outerFinally: TryRegion | null;
  /** where a caught exception is stored for the catch clause */
  errorVar: string;
}

/** Names of the compiled function's own helper variables. */
export interface Names {
  rt: string;
  pc: string;
  value: string;
  token: string;
  loop: string;
  /** label of the outer loop a boundary frame re-enters its dispatch loop through */
  resume: string;
  /** label of the block every unwinding call site breaks out of */
  save: string;
  resumeThrow: string;
  frame: string;
  /** the record this activation was restored from (refilled when it suspends again) */
  record: string;
  /** imported runtime function that switches to the next tasklet (forceSwitch mode) */
  forceSwitch: string;
  /** imported array helpers by method name */
  arrayHelpers: { get(method: string): string | undefined };
  /** the file's (const-aliased) local name of a runtime export, imported on first use */
  helper(exported: string): string;
}

export class FunctionContext {
  readonly em: Emitter;
  readonly leaps: LeapEntry[] = [];
  readonly tries: TryRegion[] = [];
  /** try regions currently open (innermost last), for routing returns and jumps */
  readonly openTries: TryRegion[] = [];
  readonly temps: string[] = [];
  private freeTemps: string[] = [];
  /** local name of the runtime's TDZ sentinel, when some binding needs it */
  tdzSentinel: string | null = null;
  usesThis = false;
  usesArguments = false;
  usesNewTarget = false;
  /** label of each call site's retry entry -> its value entry */
  readonly callSites: { retry: Label; value: Label; loc: t.SourceLocation | null }[] = [];
  /** source position of what is being lowered, recorded for each call site */
  currentLoc: t.SourceLocation | null = null;
  private tempCounter = 0;

  constructor(
    readonly names: Names,
    readonly cs: CallSites,
    readonly layout: FrameLayout,
    readonly options: { forceSwitch: boolean; ticks: boolean },
    private readonly unique: (base: string) => string,
  ) {
    this.em = new Emitter(t.identifier(names.pc), t.identifier(names.loop));
  }

  rtMember(field: string): t.MemberExpression {
    return t.memberExpression(t.identifier(this.names.rt), t.identifier(field));
  }

  /** A temporary that lives in the frame. */
  temp(): t.Identifier {
    const reused = this.freeTemps.pop();
    if (reused) return t.identifier(reused);
    const name = this.unique(`$t${this.tempCounter++}`);
    this.temps.push(name);
    return t.identifier(name);
  }

  /** Temporaries allocated inside `fn` are free again once a statement is done. */
  withTemps<T>(fn: () => T): T {
    const before = new Set(this.freeTemps);
    const allocated = this.temps.length;
    const result = fn();
    // everything handed out during fn (new or reused) becomes free again
    const now = new Set(this.freeTemps);
    for (const name of this.temps.slice(allocated)) now.add(name);
    for (const name of before) now.add(name);
    this.freeTemps = [...now];
    return result;
  }

  newLabel(hint: string): Label {
    return new Label(hint);
  }

  /** Frame locals for bookkeeping (completions, iterators, ...): never handed out as temporaries. */
  readonly helpers: string[] = [];

  helperVar(base: string): string {
    const name = this.unique(base);
    this.helpers.push(name);
    return name;
  }

  private errorName: string | null = null;
  private skipName: string | null = null;

  private budgetName: string | null = null;

  /** A native loop nest's local copy of the tick budget. */
  budgetVar(): string {
    if (this.budgetName === null) this.budgetName = this.helperVar('$budget');
    return this.budgetName;
  }

  /** Which loop of a native nest stopped for a tick (0: none): the way back in. */
  reentryVar(): string {
    if (this.skipName === null) this.skipName = this.helperVar('$re');
    return this.skipName;
  }


  /** The frame local a caught exception waits in on its way to a catch clause. */
  errorVar(): string {
    if (this.errorName === null) this.errorName = this.helperVar('$ex');
    return this.errorName;
  }

  /** Try regions with a finally that lie between here and the leap entry at `index`. */
  finallysBetween(index: number): TryRegion[] {
    const out: TryRegion[] = [];
    for (let i = this.leaps.length - 1; i > index; i--) {
      const e = this.leaps[i]!;
      if (e.kind === 'finally') out.push(e.tryEntry);
    }
    return out;
  }

  /** Innermost try whose finally must run before leaving the function. */
  innermostFinally(): TryRegion | null {
    for (let i = this.leaps.length - 1; i >= 0; i--) {
      const e = this.leaps[i]!;
      if (e.kind === 'finally') return e.tryEntry;
    }
    return null;
  }
}
