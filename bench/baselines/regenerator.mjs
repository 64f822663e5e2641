// The generator ping-pong of baselines/pingpong.mjs as Babel compiles it for engines
// without generators: @babel/plugin-transform-regenerator, calling the real
// `regenerator-runtime` package (regeneratorRuntime.mark / .wrap and its Context),
// which is what Babel emits when the runtime is provided as a module (e.g. through
// @babel/plugin-transform-runtime's `regenerator` option) rather than inlined as a
// helper. The generator functions are the very ones in pingpong.mjs (their source is
// taken with Function.prototype.toString), on the same scheduler (gen-scheduler.mjs).
import { createRequire } from 'node:module';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pingerGen, pongerGen, pingpongGen } from './pingpong.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/**
 * A Babel plugin that makes the regenerator transform call `regeneratorRuntime` (the
 * package, imported by the module) instead of inlining its helper: the same hook
 * @babel/plugin-transform-runtime uses (`helperGenerator`). Answering the new-style
 * "regenerator" helper with the fallback marker selects the classic output
 * (`regeneratorRuntime.wrap(function (_context) { ... _context.prev/next/sent ... })`).
 */
function useRegeneratorRuntimePackage({ types: t }) {
  return {
    pre(file) {
      file.set('helperGenerator', (name) => {
        if (name === 'regenerator') return t.identifier('__interal_marker_fallback_regenerator__');
        if (name === 'regeneratorRuntime') return t.arrowFunctionExpression([], t.identifier('regeneratorRuntime'));
        return undefined;
      });
    },
  };
}

/** Compiles the generator ping-pong with Babel into `dir` and imports it; returns pingpongRegen(n). */
export async function loadRegeneratorPingpong(dir) {
  const babel = require('@babel/core');
  const runtimeURL = pathToFileURL(require.resolve('regenerator-runtime')).href;
  const schedulerURL = pathToFileURL(path.join(here, 'gen-scheduler.mjs')).href;
  const source = `import regeneratorRuntime from ${JSON.stringify(runtimeURL)};
import { GenChannel, GenScheduler } from ${JSON.stringify(schedulerURL)};
${pingerGen.toString()}
${pongerGen.toString()}
export ${pingpongGen.toString().replace('function pingpongGen(', 'function pingpongRegen(')}
`;
  const out = babel.transformSync(source, {
    configFile: false,
    babelrc: false,
    sourceType: 'module',
    plugins: [useRegeneratorRuntimePackage, require.resolve('@babel/plugin-transform-regenerator')],
  });
  if (!/regeneratorRuntime\.wrap\(/.test(out.code) || /function\*/.test(out.code)) {
    throw new Error('regenerator baseline: Babel did not produce regeneratorRuntime.wrap() code');
  }
  dir ??= await mkdtemp(path.join(tmpdir(), 'stackless-regen-'));
  const file = path.join(dir, 'pingpong.regenerator.mjs');
  await writeFile(file, out.code);
  return (await import(pathToFileURL(file).href)).pingpongRegen;
}
