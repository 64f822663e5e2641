/** Public types of `stackless/transform`. */

export interface Position {
  /** 1-based line */
  line: number;
  /** 0-based column */
  column: number;
}

export interface Diagnostic {
  /** stable code, e.g. "SL1001" */
  code: string;
  message: string;
  severity: 'error' | 'warning';
  /** file id as given to transform() */
  file: string;
  start: Position;
  end: Position;
  /** code frame around start..end, as printed by @babel/code-frame */
  frame: string;
  /** link to the docs entry for this code */
  url: string;
}

export interface TransformOptions {
  /** strip TypeScript types from the output (default false: same language out) */
  stripTypes?: boolean;
  /** produce a source map (default true) */
  sourceMap?: boolean;
  /** project root; function ids are the module path relative to it plus the qualified name */
  root?: string;
  /** module specifier compiled code imports the runtime from (default "stackless/internal") */
  runtimeModule?: string;
  /** count ticks at loop back-edges and calls for preemption (default true) */
  ticks?: boolean;
  /** testing aid: make every call site inside tasklet functions also a forced switch point */
  forceSwitch?: boolean;
  /** input source map to compose with */
  inputSourceMap?: object | null;
}

export interface TransformResult {
  code: string;
  /** v3 source map, or null when sourceMap is false */
  map: import('@babel/generator').GeneratorResult['map'] | null;
  diagnostics: Diagnostic[];
  /** true when the file contains "use tasklet" and was rewritten */
  changed: boolean;
  /** the compiled functions: stable id, layout fingerprint, frame locals, position */
  functions?: { id: string; fingerprint: string; locals: { key: string; name: string }[]; line: number; column: number }[];
}
