/**
 * `stackless check <file|dir>...`: compile without running or writing anything and print
 * every diagnostic with its code frame, then look for the places where the program would
 * throw StacklessError at run time (./check/blocking.ts). Exit status 1 when there is an error.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { formatDiagnostic } from '../register/compile.js';
import { transform } from '../transformer/index.js';
import type { Diagnostic } from '../transformer/types.js';

const SOURCE = /\.[cm]?[jt]sx?$/;
const DECLARATION = /\.d\.[cm]?ts$/;

/** Source files under `path` (itself if it is a file), skipping node_modules and dot-directories. */
async function* sources(path: string): AsyncGenerator<string> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    yield path;
    return;
  }
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) yield* sources(child);
    } else if (SOURCE.test(entry.name) && !DECLARATION.test(entry.name)) {
      yield child;
    }
  }
}

export async function check(paths: string[], out: (text: string) => void): Promise<number> {
  const cwd = process.cwd();
  let files = 0;
  let compiled = 0;
  let errors = 0;
  let warnings = 0;
  const all: string[] = [];
  const report = (d: Diagnostic) => {
    if (d.severity === 'error') errors += 1;
    else warnings += 1;
    out(`${formatDiagnostic(d)}\n\n`);
  };
  for (const path of paths) {
    for await (const file of sources(path)) {
      files += 1;
      all.push(file);
      const code = await readFile(file, 'utf8');
      if (!code.includes('use tasklet')) continue;
      const result = transform(code, relative(cwd, file) || file, { root: cwd, sourceMap: false });
      if (result.changed) compiled += 1;
      for (const d of result.diagnostics) report(d);
    }
  }
  // Where the program would throw StacklessError at run time (SL2001-SL2003): only a program
  // with tasklet functions can, and only then is TypeScript loaded.
  if (compiled > 0) {
    const { checkBlocking } = await import('./check/blocking.js');
    for (const d of checkBlocking(all, { cwd })) report(d);
  }
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  out(
    `checked ${plural(files, 'file')} (${compiled} with tasklet functions): ` +
      `${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
  );
  return errors > 0 ? 1 : 0;
}
