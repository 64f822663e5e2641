/**
 * The one catalogue of compile-time diagnostics. Codes are stable: tests and
 * users match on them, docs link to them.
 */
import { codeFrameColumns } from '@babel/code-frame';
import type { Diagnostic } from './types.js';

// shipped with the package: node_modules/stackless/docs/diagnostics.md
const DOCS = 'stackless/docs/diagnostics.md';

interface Entry {
  severity: 'error' | 'warning';
  message: (...args: string[]) => string;
}

export const catalogue = {
  SL1001: {
    severity: 'error',
    message: () =>
      '"use tasklet" cannot mark an async function: tasklet functions block with plain calls. Remove `async` and replace each `await p` with `wait(p)` from "stackless".',
  },
  SL1002: {
    severity: 'error',
    message: () =>
      '"use tasklet" cannot mark a generator function. Remove the `*` and pass values over a Channel instead of yielding them.',
  },
  SL1003: {
    severity: 'error',
    message: () =>
      '`with` is not supported inside tasklet functions: its scope cannot be saved in a frame. Use a local variable for the object instead.',
  },
  SL1004: {
    severity: 'error',
    message: () =>
      'Direct `eval` is not supported inside tasklet functions: code built at run time cannot be compiled into a resumable state machine. Move it into an ordinary function or use `(0, eval)(...)`.',
  },
  SL1006: {
    severity: 'error',
    message: () =>
      '"use tasklet" must be the first statement of a function body or of a module; here it has no effect. Move it to the top.',
  },
  SL1008: {
    severity: 'warning',
    message: () =>
      '"use tasklet" has no effect on a class constructor: `new` must return the object at once, so the constructor is left as ordinary code and blocking inside it throws StacklessError. Move the blocking work into a method and call it after construction.',
  },
  SL1007: {
    severity: 'error',
    message: (msg: string) => `Syntax error: ${msg}`,
  },
} satisfies Record<string, Entry>;

export type DiagnosticCode = keyof typeof catalogue;

interface Loc {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

export function makeDiagnostic(
  code: DiagnosticCode,
  file: string,
  source: string,
  loc: Loc | null | undefined,
  ...args: string[]
): Diagnostic {
  const entry: Entry = catalogue[code];
  const start = loc ? { line: loc.start.line, column: loc.start.column } : { line: 1, column: 0 };
  const end = loc ? { line: loc.end.line, column: loc.end.column } : start;
  const frame = codeFrameColumns(
    source,
    { start: { line: start.line, column: start.column + 1 }, end: { line: end.line, column: end.column + 1 } },
    { highlightCode: false },
  );
  return {
    code,
    message: entry.message(...args),
    severity: entry.severity,
    file,
    start,
    end,
    frame,
    url: `${DOCS}#${code.toLowerCase()}`,
  };
}

/** Thrown by the adapters' `transformOrThrow` when a file has error diagnostics. */
export class TaskletCompileError extends Error {
  readonly diagnostics: Diagnostic[];
  readonly code: string;
  constructor(diagnostics: Diagnostic[]) {
    const first = diagnostics[0]!;
    super(`${first.file}:${first.start.line}:${first.start.column + 1}: ${first.code} ${first.message}\n${first.frame}`);
    this.name = 'TaskletCompileError';
    this.diagnostics = diagnostics;
    this.code = first.code;
  }
}
