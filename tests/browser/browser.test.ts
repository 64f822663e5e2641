/**
 * The browser example (examples/browser) end to end: built by real Vite with stackless/vite,
 * served from 127.0.0.1 by a small static file server, opened in Debian's headless Chromium
 * through playwright-core. Thousands of tasklets must make visible progress and the console
 * must stay free of errors.
 *
 * Chromium comes from the system (`apt-get install chromium`, done by .ci/run); set
 * STACKLESS_CHROMIUM to use another binary. Only if none is found is this file skipped.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outDir, repoRoot } from '../plugins/helpers/index.js';

const exampleRoot = join(repoRoot, 'examples', 'browser');
const AGENTS = 2000;

function findChromium(): string | null {
  const candidates = [
    process.env.STACKLESS_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/lib/chromium/chromium',
    '/usr/bin/google-chrome',
  ];
  return candidates.find((path): path is string => !!path && existsSync(path)) ?? null;
}

const executablePath = findChromium();
if (executablePath === null) {
  console.warn(
    '[tests/browser] SKIPPED: no Chromium binary found (looked at $STACKLESS_CHROMIUM, /usr/bin/chromium, ' +
      '/usr/bin/chromium-browser, /usr/lib/chromium/chromium, /usr/bin/google-chrome). ' +
      'Install it with: apt-get update && apt-get install -y chromium',
  );
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Serves the files under `dir` (GET only, no directory listings) on 127.0.0.1, a free port. */
async function serve(dir: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    requests.push(path);
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (request.method !== 'GET' || !file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/`, requests };
}

const readNumber = async (page: Page, id: string) => Number(await page.textContent(`#${id}`));

describe.skipIf(executablePath === null)('browser example in headless Chromium', () => {
  let dist: string;
  let server: Server;
  let url: string;
  let requests: string[];
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const messages: string[] = [];

  beforeAll(async () => {
    dist = outDir('browser');
    await build({
      root: exampleRoot,
      configFile: join(exampleRoot, 'vite.config.ts'),
      logLevel: 'silent',
      build: { outDir: dist, emptyOutDir: true },
    });
    ({ server, url, requests } = await serve(dist));
    browser = await chromium.launch({
      executablePath: executablePath as string,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 840, height: 580 } });
    page.on('console', (message) => {
      messages.push(`${message.type()}: ${message.text()}`);
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console.${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.stack ?? error.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
  });

  it('the build holds the page and one script with the transformed tasklet functions and the runtime', () => {
    const html = readFileSync(join(dist, 'index.html'), 'utf8');
    const script = /<script type="module" crossorigin src="\.\/(assets\/[^"]+\.js)"><\/script>/.exec(html)?.[1];
    expect(script).toBeDefined();
    const code = readFileSync(join(dist, script as string), 'utf8');
    // every directive was compiled away: the tasklet functions carry their records instead
    expect(/["']use tasklet["'];/.test(code)).toBe(false);
    expect(code).toContain('id:"src/agents.ts#talker"');
    expect(code).toContain('id:"src/agents.ts#listener"');
    // the runtime is bundled, not imported
    expect(/from\s*["']stackless/.test(code)).toBe(false);
    expect(code).toContain('Deadlock: the last runnable tasklet cannot be blocked.');
  });

  it('loads, starts the tasklets and shows no console error', async () => {
    await page.goto(url);
    // (page functions are passed as source text: this file is type-checked without the DOM library)
    await page.waitForFunction("Number(document.getElementById('frames')?.textContent) > 5", undefined, { timeout: 15_000 });
    expect(await page.title()).toBe('stackless: agents talking over channels');
    expect(await readNumber(page, 'agents')).toBe(AGENTS);
    expect(await readNumber(page, 'tasklets')).toBe(2 * AGENTS);
    expect(await page.textContent('#status')).toBe('running');
    expect(requests).toContain('/');
    expect(requests.some((path) => path.startsWith('/assets/') && path.endsWith('.js'))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('the tasklets make visible progress: messages counted, frames drawn, agents move', async () => {
    await page.waitForFunction("Number(document.getElementById('messages')?.textContent) > 0", undefined, { timeout: 15_000 });
    // Bright pixels of a copy of the canvas (the page's own canvas keeps its settings, so
    // Chromium has no reason to warn about repeated readbacks from it) and a hash of where they are.
    const pixels = () =>
      page.evaluate(`(() => {
        const canvas = document.getElementById('world');
        const copy = document.createElement('canvas');
        copy.width = canvas.width;
        copy.height = canvas.height;
        const context = copy.getContext('2d', { willReadFrequently: true });
        context.drawImage(canvas, 0, 0);
        const data = context.getImageData(0, 0, copy.width, copy.height).data;
        let lit = 0;
        let hash = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i] + data[i + 1] + data[i + 2] > 200) {
            lit++;
            hash = (Math.imul(hash, 31) + i) | 0;
          }
        }
        return { lit, hash };
      })()`) as Promise<{ lit: number; hash: number }>;
    const first = { messages: await readNumber(page, 'messages'), frames: await readNumber(page, 'frames'), canvas: await pixels() };
    await page.waitForTimeout(1500);
    const second = { messages: await readNumber(page, 'messages'), frames: await readNumber(page, 'frames'), canvas: await pixels() };

    expect(first.messages % 2).toBe(0); // a question and its answer
    expect(second.messages).toBeGreaterThan(first.messages + 50);
    expect(second.frames).toBeGreaterThan(first.frames + 5);
    // thousands of bright agent dots, at different places than 1.5 s before
    expect(first.canvas.lit).toBeGreaterThan(AGENTS);
    expect(second.canvas.lit).toBeGreaterThan(AGENTS);
    expect(second.canvas.hash).not.toBe(first.canvas.hash);

    const shot = join(outDir('browser-shot'), 'page.png');
    mkdirSync(join(shot, '..'), { recursive: true });
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(await page.textContent('#status')).toBe('running');
    expect(problems).toEqual([]);
  });
});
