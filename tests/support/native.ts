/** Native half of the differential runner: strip types with Babel, run main() as ordinary code. */
import { transformSync } from '@babel/core';
import { captureConsole, uncaughtLine } from './capture.js';
import type { Fixture } from './fixtures.js';
import { importFile, writeTempModule } from './tmp.js';

export function stripTypes(source: string, filename: string): string {
  const out = transformSync(source, {
    filename,
    babelrc: false,
    configFile: false,
    sourceType: 'module',
    // keep the output close to the input: only types go away
    retainLines: true,
    plugins: [['@babel/plugin-transform-typescript', { allowDeclareFields: true }]],
  });
  if (!out || out.code == null) throw new Error(`babel produced no code for ${filename}`);
  return out.code;
}

export async function loadMain(file: string, name: string): Promise<() => unknown> {
  const mod = await importFile(file);
  const main = mod.main;
  if (typeof main !== 'function') throw new Error(`fixture ${name}: input.ts does not export a function main()`);
  return main as () => unknown;
}

/** Run the fixture untransformed and return what it printed. */
export async function runNative(fx: Fixture): Promise<string[]> {
  const js = stripTypes(fx.source, fx.inputPath);
  const main = await loadMain(writeTempModule(`${fx.name}.native`, js), fx.name);
  // guard against a build plugin compiling the native module behind the runner's back
  if (/\.tok\s*=/.test(String(main))) throw new Error(`fixture ${fx.name}: the native module was compiled by the stackless transform`);
  const lines: string[] = [];
  const restore = captureConsole((t) => lines.push(t));
  let result: unknown;
  try {
    result = main();
  } catch (e) {
    lines.push(uncaughtLine(e));
  } finally {
    restore();
  }
  if (result instanceof Promise) throw new Error(`fixture ${fx.name}: main() returned a Promise`);
  return lines;
}
