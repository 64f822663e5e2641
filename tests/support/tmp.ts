/** Temp modules under tests/.tmp (gitignored), one unique file per import so no module cache is shared. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TMP_DIR } from './paths.js';

let counter = 0;

export function writeTempModule(stem: string, code: string): string {
  mkdirSync(TMP_DIR, { recursive: true });
  const file = join(TMP_DIR, `${stem}.${process.pid}.${++counter}.mjs`);
  writeFileSync(file, code);
  return file;
}

export async function importFile(file: string): Promise<Record<string, unknown>> {
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
}
