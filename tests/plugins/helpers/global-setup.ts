/**
 * Vitest global setup for tests/plugins.
 *
 * 1. Compiles the package to dist/ (incrementally, so it is quick right after `npm run build`):
 *    tests/plugins runs the built package in child processes — `node --import stackless/register`,
 *    the `stackless` bin, and bundles that import `stackless/internal` through the package's own
 *    exports map. A type error elsewhere still emits JavaScript (tsc's default), so it is only
 *    reported here; the typecheck step fails on it, and tests that need a broken part fail too.
 * 2. Removes build outputs under fixtures/projects/.out left by runs more than an hour old
 *    (not newer ones: another run in the same tree may be using them).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));

  const out = join(root, 'fixtures', 'projects', '.out');
  const hourAgo = Date.now() - 3_600_000;
  for (const entry of safeReaddir(out)) {
    const path = join(out, entry);
    if (statSync(path).mtimeMs < hourAgo) rmSync(path, { recursive: true, force: true });
  }

  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(`[tests/plugins] building dist/ reported errors:\n${result.stdout}${result.stderr}\n`);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
