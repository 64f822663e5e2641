/** Capturing console.log output, formatted exactly as Node prints it (without colours). */
import { format, inspect } from 'node:util';

export type Sink = (text: string) => void;

/** Replace console.log by `sink` until the returned function is called. */
export function captureConsole(sink: Sink): () => void {
  const original = console.log;
  console.log = (...args: unknown[]) => {
    sink(format(...args));
  };
  return () => {
    console.log = original;
  };
}

/** How an error escaping main() is recorded as an output line (same text in every mode). */
export function uncaughtLine(e: unknown): string {
  if (e instanceof Error) return `uncaught ${e.name}: ${e.message}`;
  return `uncaught ${inspect(e)}`;
}
