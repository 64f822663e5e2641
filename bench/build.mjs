// Build-integration figures (issue 5): what the transform costs a build.
//
//   transform5k  transform() of a generated 5,000-line TypeScript module (a quarter of its
//                functions marked "use tasklet") vs a plain Babel parse + generate of the same
//                text, both with a source map
//   rollup100    a Rollup build (rollup() + generate(), ES output) of a generated 100-module app
//                in which 10 modules use the directive, with stackless/rollup vs without it
//
// The inputs are generated at bench time (the app into a temp directory). Each figure checks its
// output before timing (the transform compiled the marked functions; both Rollup builds hold all
// 100 modules, and only the plugin's output compiled the 10 tasklet modules), then runs the two
// variants in interleaved rounds like the other figures (bench/lib/measure.mjs) and reports the
// best of each.
//
// Used by bench/run.mjs (FIGURES transform5k, rollup100), or alone: node bench/build.mjs
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { distDir, loadTransformer, root } from './lib/compile.mjs';
import { interleave, now } from './lib/measure.mjs';

const baselinesOnly = process.argv.includes('--baselines-only');
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

// ---------------------------------------------------------------------------
// inputs

/**
 * A TypeScript module of at least `lines` lines: blocks of an interface, a class with methods,
 * ordinary helpers with loops, and one tasklet function (loops, try/finally, channel calls)
 * per block. Returns the source and how many tasklet functions it holds.
 */
export function generateModule(lines = 5000) {
  const out = ["import { Channel, schedule } from 'stackless';", ''];
  let tasklets = 0;
  for (let i = 0; out.length < lines; i++) {
    tasklets += 1;
    out.push(
      `export interface Item${i} {`,
      `  id: number;`,
      `  name: string;`,
      `  tags: readonly string[];`,
      `  weight?: number;`,
      `}`,
      ``,
      `export class Store${i}<T extends Item${i}> {`,
      `  private readonly items = new Map<number, T>();`,
      `  add(item: T): this {`,
      `    this.items.set(item.id, item);`,
      `    return this;`,
      `  }`,
      `  find(predicate: (item: T) => boolean): T | undefined {`,
      `    for (const item of this.items.values()) if (predicate(item)) return item;`,
      `    return undefined;`,
      `  }`,
      `  get size(): number {`,
      `    return this.items.size;`,
      `  }`,
      `}`,
      ``,
      `export function score${i}(item: Item${i}, bias = ${i % 7}): number {`,
      `  let total = bias;`,
      `  for (let k = 0; k < item.tags.length; k++) {`,
      `    total += item.tags[k].length * (item.weight ?? 1);`,
      `  }`,
      `  return item.name.length > 3 ? total : -total;`,
      `}`,
      ``,
      `export const label${i} = (item: Item${i}): string => \`\${item.name}#\${item.id} (\${score${i}(item)})\`;`,
      ``,
      `export function worker${i}(input: Channel<Item${i} | null>, output: Channel<string>): number {`,
      `  'use tasklet';`,
      `  let handled = 0;`,
      `  for (;;) {`,
      `    const item = input.receive();`,
      `    if (item === null) break;`,
      `    try {`,
      `      if (score${i}(item) < 0) continue;`,
      `      output.send(label${i}(item));`,
      `      handled++;`,
      `    } finally {`,
      `      if (handled % 16 === 0) schedule();`,
      `    }`,
      `  }`,
      `  return handled;`,
      `}`,
      ``,
    );
  }
  return { code: out.join('\n'), lines: out.length, tasklets };
}

/**
 * A 100-module app under `dir`: src/main.js imports every module; module k also imports module
 * k+1 (so the graph has depth); modules 0, 10, 20, … 90 hold tasklet functions. Plain JavaScript,
 * so that Rollup can build it with no plugin at all.
 */
export async function generateApp(dir, modules = 100, every = 10) {
  const src = path.join(dir, 'src');
  await mkdir(src, { recursive: true });
  const main = [];
  for (let k = 0; k < modules; k++) {
    const tasklet = k % every === 0;
    const next = k + 1 < modules ? `import { helper${k + 1} } from './m${k + 1}.js';\n` : '';
    const useNext = k + 1 < modules ? `helper${k + 1}(n - 1)` : '0';
    const body = [
      `${next}import { Channel, spawn, run } from 'stackless';`,
      ``,
      `const table${k} = new Map();`,
      `export function helper${k}(n) {`,
      `  if (n <= 0) return ${k};`,
      `  const key = n % 17;`,
      `  if (!table${k}.has(key)) table${k}.set(key, key * ${k + 1});`,
      `  return table${k}.get(key) + (n > 90 ? 0 : ${useNext});`,
      `}`,
      ``,
      `export class Model${k} {`,
      `  constructor(name, values) {`,
      `    this.name = name;`,
      `    this.values = values.slice();`,
      `  }`,
      `  total() {`,
      `    let sum = 0;`,
      `    for (const v of this.values) sum += v;`,
      `    return sum;`,
      `  }`,
      `  describe() {`,
      `    return \`\${this.name}: \${this.values.length} values, total \${this.total()}\`;`,
      `  }`,
      `}`,
      ``,
    ];
    if (tasklet) {
      body.push(
        `function produce${k}(channel, count) {`,
        `  'use tasklet';`,
        `  for (let i = 0; i < count; i++) channel.send(helper${k}(i));`,
        `  channel.send(null);`,
        `}`,
        ``,
        `function consume${k}(channel, out) {`,
        `  'use tasklet';`,
        `  let v;`,
        `  while ((v = channel.receive()) !== null) {`,
        `    try {`,
        `      out.push(v);`,
        `    } finally {`,
        `      if (out.length > 1000) out.length = 0;`,
        `    }`,
        `  }`,
        `}`,
        ``,
        `export function pipeline${k}(count) {`,
        `  const channel = new Channel();`,
        `  const out = [];`,
        `  spawn(produce${k}, channel, count);`,
        `  spawn(consume${k}, channel, out);`,
        `  run();`,
        `  return out.length;`,
        `}`,
      );
    } else {
      body.push(`export const uses${k} = [Channel, spawn, run].length;`);
    }
    await writeFile(path.join(src, `m${k}.js`), `${body.join('\n')}\n`);
    main.push(`import * as m${k} from './m${k}.js';`);
  }
  main.push('', 'export const modules = [');
  for (let k = 0; k < modules; k++) main.push(`  m${k},`);
  main.push('];', 'export function total(n) {', '  let sum = 0;', '  for (const m of modules) for (const f of Object.values(m)) if (typeof f === "function" && f.name.startsWith("helper")) sum += f(n);', '  return sum;', '}', '');
  await writeFile(path.join(src, 'main.js'), main.join('\n'));
  return path.join(src, 'main.js');
}

// ---------------------------------------------------------------------------
// rows (same fields as bench/run.mjs)

function row({ name, value, baseline, baselineName, goalRatio, goalText, extra = {} }) {
  const ratio = value == null || baseline == null ? null : value / baseline;
  const pass = baselinesOnly ? null : ratio == null ? false : ratio <= goalRatio;
  return { name, value, unit: 'ms', baseline, ratio, goal: goalText, pass, stretch: null, baselineName, ...extra };
}

function errorRow(name, goalText, error) {
  process.stderr.write(`  ERROR in ${name}:\n${String(error?.stack ?? error).replace(/^/gm, '    ')}\n`);
  return { name, value: null, unit: 'ms', baseline: null, ratio: null, goal: goalText, pass: baselinesOnly ? null : false, stretch: null, error: String(error?.message ?? error).split('\n')[0] };
}

const TRANSFORM_NAME = 'transform a 5,000-line TS file vs Babel parse + generate';
const TRANSFORM_GOAL = 'ratio ≤ 2';
const ROLLUP_NAME = 'Rollup build, 100 modules (10 with tasklets), plugin vs none';
const ROLLUP_GOAL = 'ratio ≤ 1.3';

export const BUILD_META = {
  transform5k: [[TRANSFORM_NAME, 'ms', { on: 'ratio', op: '<=', target: 2, stretch: null, text: TRANSFORM_GOAL }]],
  rollup100: [[ROLLUP_NAME, 'ms', { on: 'ratio', op: '<=', target: 1.3, stretch: null, text: ROLLUP_GOAL }]],
};

// ---------------------------------------------------------------------------
// figures

async function transform5k() {
  try {
    const [{ parse }, generatorModule] = await Promise.all([import('@babel/parser'), import('@babel/generator')]);
    const generate = generatorModule.default.default ?? generatorModule.default;
    const { code, lines, tasklets } = generateModule(5000);
    const file = path.join(root, 'bench', 'generated', 'big.ts'); // an id only: nothing is written
    const babel = () => {
      const ast = parse(code, { sourceType: 'module', plugins: ['typescript'], sourceFilename: file });
      return generate(ast, { sourceMaps: true, sourceFileName: file }, code);
    };
    const plain = babel();
    if (!plain.map || plain.code.length < code.length / 2) throw new Error('Babel parse + generate produced no output or no map');
    const timeOne = (fn) => {
      const t0 = now();
      const out = fn();
      return { ms: now() - t0, out };
    };
    const samples = { babel: [], transform: [] };
    let transform = null;
    if (!baselinesOnly) {
      transform = await loadTransformer();
      // the first timed transform is also the one whose output is checked
      const first = timeOne(() => transform(code, file, { root, sourceMap: true }));
      const result = first.out;
      const errors = (result.diagnostics ?? []).filter((d) => d.severity === 'error');
      if (errors.length) throw new Error(`transform reported ${errors[0].code}: ${errors[0].message}`);
      if (!result.changed || !result.map) throw new Error('transform did not compile the module or gave no map');
      // one metadata constant per compiled function (`id: "<module>#workerN"`)
      const compiledWorkers = (result.code.match(/\bid: "[^"]*#worker\d+"/g) ?? []).length;
      if (compiledWorkers !== tasklets) throw new Error(`expected ${tasklets} compiled tasklet functions, found ${compiledWorkers}`);
      samples.transform.push(first.ms);
      log(`  transform5k: first transform of ${lines} lines (${tasklets} tasklet functions) took ${first.ms.toFixed(0)} ms`);
    }
    // Interleaved rounds as in lib/measure.mjs, but within a time budget: a slow transform gets
    // fewer samples rather than overrunning the figure's time limit in run.mjs.
    for (let i = 0; i < 3; i++) babel();
    const budgetEnd = now() + 30_000;
    for (let round = 0; round < 11; round++) {
      const transformFits = transform !== null && now() + Math.min(...samples.transform) <= budgetEnd;
      if (round >= 3 && !transformFits) break;
      const order = round % 2 ? ['transform', 'babel'] : ['babel', 'transform'];
      for (const which of order) {
        if (which === 'babel') samples.babel.push(timeOne(babel).ms);
        else if (transformFits) samples.transform.push(timeOne(() => transform(code, file, { root, sourceMap: true })).ms);
      }
    }
    const stats = (a) => {
      const sorted = [...a].sort((x, y) => x - y);
      return sorted.length ? { best: sorted[0], median: sorted[sorted.length >> 1], n: sorted.length } : null;
    };
    const r = { babel: stats(samples.babel), transform: stats(samples.transform) };
    return [
      row({
        name: TRANSFORM_NAME,
        value: r.transform ? r.transform.best : null,
        baseline: r.babel.best,
        baselineName: '@babel/parser parse + @babel/generator generate, with a source map',
        goalRatio: 2,
        goalText: TRANSFORM_GOAL,
        extra: { median: r.transform ? r.transform.median : null, baselineMedian: r.babel.median, samples: r.transform ? r.transform.n : 0, baselineSamples: r.babel.n, lines, tasklets },
      }),
    ];
  } catch (e) {
    return [errorRow(TRANSFORM_NAME, TRANSFORM_GOAL, e)];
  }
}

async function rollup100() {
  const dir = await mkdtemp(path.join(tmpdir(), 'stackless-bench-app-'));
  try {
    const { rollup } = await import('rollup');
    const input = await generateApp(dir);
    const external = (id) => /^stackless(\/|$)/.test(id);
    let plugin = null;
    if (!baselinesOnly) {
      const mod = await import(pathToFileURL(path.join(distDir, 'plugin-rollup', 'index.js')).href);
      plugin = mod.default ?? mod.stackless;
    }
    const build = async (plugins) => {
      const bundle = await rollup({ input, external, plugins, logLevel: 'silent', treeshake: true });
      const { output } = await bundle.generate({ format: 'es' });
      await bundle.close();
      return output[0].code;
    };
    // outputs checked once: every module is in both; only the plugin compiled the tasklet modules
    const plainCode = await build([]);
    const count = (code, re) => (code.match(re) ?? []).length;
    if (count(plainCode, /^class Model\d+ \{/gm) !== 100) throw new Error('the build without the plugin lost modules');
    if (count(plainCode, /['"]use tasklet['"]/g) !== 20) throw new Error('the build without the plugin should keep the 20 directives');
    const variants = {
      none: async () => {
        const t0 = now();
        await build([]);
        return now() - t0;
      },
    };
    if (plugin) {
      const pluginCode = await build([plugin()]);
      if (count(pluginCode, /^class Model\d+ \{/gm) !== 100) throw new Error('the build with the plugin lost modules');
      if (count(pluginCode, /['"]use tasklet['"]/g) !== 0) throw new Error('the plugin left directives in the output');
      if (!/from ['"]stackless\/internal['"]/.test(pluginCode)) throw new Error('the plugin output does not import the runtime');
      variants.plugin = async () => {
        const t0 = now();
        await build([plugin()]);
        return now() - t0;
      };
    }
    const r = await interleave(variants, { warmup: 3, rounds: 11 });
    return [
      row({
        name: ROLLUP_NAME,
        value: r.plugin ? r.plugin.best : null,
        baseline: r.none.best,
        baselineName: 'the same Rollup build without stackless/rollup',
        goalRatio: 1.3,
        goalText: ROLLUP_GOAL,
        extra: { median: r.plugin ? r.plugin.median : null, baselineMedian: r.none.median, modules: 100, taskletModules: 10 },
      }),
    ];
  } catch (e) {
    return [errorRow(ROLLUP_NAME, ROLLUP_GOAL, e)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const BUILD_FIGURES = { transform5k, rollup100 };

// standalone: node bench/build.mjs [--baselines-only]
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const figure of Object.values(BUILD_FIGURES)) {
    for (const r of await figure()) {
      const fmt = (x) => (x == null ? '—' : x.toFixed(1));
      console.log(`${r.name}: ${fmt(r.value)} ms vs ${fmt(r.baseline)} ms = ${r.ratio == null ? '—' : `${r.ratio.toFixed(2)}x`} (${r.goal}: ${r.error ? 'ERROR' : r.pass == null ? '—' : r.pass ? 'pass' : 'MISSED'})`);
    }
  }
}
