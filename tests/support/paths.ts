/** Absolute paths the fixture runner needs. */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES_DIR = join(REPO, 'fixtures');
export const ERRORS_DIR = join(FIXTURES_DIR, 'errors');
export const TMP_DIR = join(REPO, 'tests', '.tmp');
export const TRANSFORMER_ENTRY = join(REPO, 'transformer', 'index.ts');
export const RUNTIME_ENTRY = join(REPO, 'runtime', 'index.ts');
export const RUNTIME_INTERNAL = join(REPO, 'runtime', 'internal.ts');
