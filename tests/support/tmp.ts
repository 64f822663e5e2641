/** Temp modules under tests/.tmp (gitignored), one unique file per import so no module cache is shared. */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/**
 * Remove compiled/native modules this runner wrote more than an hour ago. Recent ones are
 * kept: failure messages name them, and another run may be using its own right now.
 */
export function pruneOldTempModules(maxAgeMs = 60 * 60 * 1000): void {
  let names: string[];
  try {
    names = readdirSync(TMP_DIR);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    if (!/\.\d+\.\d+\.mjs$/.test(name)) continue;
    const file = join(TMP_DIR, name);
    try {
      if (now - statSync(file).mtimeMs > maxAgeMs) rmSync(file);
    } catch {
      // removed meanwhile by another run
    }
  }
}
