/**
 * Vitest global setup: compile the package to dist/ (incrementally, so it is quick when
 * `npm run build` just ran) because tests/plugins runs the built package in child
 * processes — `node --import stackless/register`, the `stackless` bin, and bundles that
 * import `stackless/internal` through the package's own exports map.
 *
 * A type error elsewhere still emits JavaScript (tsc's default), so it is reported here
 * and left to the typecheck step; the tests that need dist/ fail on their own if it is broken.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(
      `[tests/plugins] building dist/ reported errors (dist/ may be incomplete):\n${result.stdout}${result.stderr}\n`,
    );
  }
}
