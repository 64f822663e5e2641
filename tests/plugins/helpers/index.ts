/** Paths and process helpers shared by the tests in tests/plugins. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const projectsDir = join(repoRoot, 'fixtures', 'projects');

/** Absolute path of a fixture project (or a file in it) under fixtures/projects/. */
export function fixture(project: string, ...file: string[]): string {
  return join(projectsDir, project, ...file);
}

/**
 * A fresh output directory inside the repository (fixtures/projects/.out/, ignored by git),
 * so that Node resolves `stackless` and `stackless/internal` from the built output through
 * the package's own exports map, as it would for a user who installed the package.
 */
export function outDir(label: string): string {
  const base = join(projectsDir, '.out');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${label}-`));
}

/** 1-based number of the first line of `file` containing `marker`. */
export function lineOf(file: string, marker: string): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes(marker));
  if (index === -1) throw new Error(`${marker} not found in ${file}`);
  return index + 1;
}

export interface NodeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node ...args` to completion (cwd: the repository root unless given). */
export function runNode(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): NodeRun {
  const result = spawnSync(process.execPath, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The built register hook, as a URL for `node --import`. */
export const registerUrl = pathToFileURL(join(repoRoot, 'dist', 'register', 'index.js')).href;
export const cliPath = join(repoRoot, 'dist', 'cli', 'index.js');

/** Resolve aliases that make a Vite build take the runtime from its TypeScript sources. */
export const runtimeAlias = [
  { find: /^stackless$/, replacement: join(repoRoot, 'runtime', 'index.ts') },
  { find: /^stackless\/internal$/, replacement: join(repoRoot, 'runtime', 'internal.ts') },
];

export { dirname, join };
