// `stackless workflows ui` end to end: real workflows fill a SQLite store (an engine in this
// process), the built CLI serves the page from a child process, Debian's headless Chromium
// (playwright-core) opens it. The page lists the runs, shows a run's timeline and its stack
// with source lines and locals, and its Cancel and Retry buttons change the store.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, sqliteStore, type Engine } from '../../workflow/index.js';
import { cliPath, repoRoot } from '../plugins/helpers/index.js';
import { startSampleRuns, tempDb } from './helpers.js';

const chromiumPath = [process.env.STACKLESS_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p)) ?? null;
if (chromiumPath === null) console.warn('[tests/workflow/ui] SKIPPED: no Chromium (apt-get install -y chromium, or set STACKLESS_CHROMIUM)');

const db = tempDb();
let engine: Engine;
let server: ChildProcess;
let url: string;
let browser: Browser;
let page: Page;
const problems: string[] = [];

/** Reads the store from outside the engine, as another process would. */
async function row(id: string) {
  const s = sqliteStore(db);
  try {
    return await s.getRun(id);
  } finally {
    await s.close();
  }
}

async function startServer(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cliPath, 'workflows', 'ui', '--db', db, '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const found = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from the ui command after 20 s: ${out} ${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^stackless workflows ui: (http:\/\/127\.0\.0\.1:\d+\/) \(store (.*)\); Ctrl-C stops it\n/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        expect(m[2]).toBe(db);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the ui command exited (${code}): ${err}`)));
  });
  return { child, url: found };
}

beforeAll(async () => {
  engine = createEngine({ store: sqliteStore(db) });
  await startSampleRuns(engine);
  if (chromiumPath === null) return;
  ({ child: server, url } = await startServer([]));
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.stack ?? e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  if (server !== undefined && server.exitCode === null) server.kill('SIGKILL');
  await engine?.close();
});

const rows = () => page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-id'), tr.getAttribute('data-status')]));
const texts = (selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));

async function open(id: string): Promise<void> {
  await page.click(`#runs tbody tr[data-id="${id}"]`);
  await page.waitForSelector(`#run-id:text-is("${id}")`);
}

describe.skipIf(chromiumPath === null)('stackless workflows ui in headless Chromium', () => {
  it('lists the runs of the store with their status', async () => {
    await page.goto(url);
    await page.waitForSelector('#runs tbody tr[data-id="cancel-1"]');
    expect(await page.title()).toBe('stackless workflows');
    expect(await rows()).toEqual([
      ['done-1', 'finished'],
      ['wait-1', 'waiting'],
      ['fail-1', 'failed'],
      ['cancel-1', 'waiting'],
    ]);
    expect(await texts('#runs tbody tr[data-id="wait-1"] td')).toEqual([
      'wait-1', 'waiting', 'tests/workflow/programs/flows.ts#approval', '0', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/), "signal 'decision'",
    ]);
    expect(problems).toEqual([]);
  });

  it("a waiting run: its stack with the source lines and locals, where it waits", async () => {
    await open('wait-1');
    expect(await page.getAttribute('#status', 'data-status')).toBe('waiting');
    const frame = page.locator('#frames .frame').first();
    expect(await frame.locator('strong').textContent()).toBe('approval');
    expect(await frame.locator('.where').textContent()).toMatch(/^tests\/workflow\/programs\/flows\.ts:\d+:\d+$/);
    expect(await frame.locator('pre.src span.current').textContent()).toMatch(/^\d+ \| {3}const decision = signal<\{ ok: boolean; by: string \}>\('decision'\)\.receive\(\);$/);
    expect(await frame.locator('tr[data-local="amount"] td').allTextContents()).toEqual(['amount', '250']);
    expect(await page.isDisabled('#cancel')).toBe(false);
    expect(await page.isDisabled('#retry')).toBe(true);
    expect(await texts('#timeline li strong')).toEqual(['started']);
    expect(await page.textContent('#timeline li')).toContain('inputs [250]');
  });

  it('a finished run: step timeline with outputs, the result', async () => {
    await open('done-1');
    expect(await texts('#timeline li')).toEqual([
      expect.stringMatching(/startedinputs \["lamp",2\]$/),
      expect.stringMatching(/step'price' \(attempt 1\) -> 7$/),
      expect.stringMatching(/step'charge' \(attempt 1\) -> 14$/),
      expect.stringMatching(/step'ship' \(attempt 1\) -> "<undefined>"$/),
      expect.stringMatching(/finishedresult "lamp x2: 14"$/),
    ]);
    expect(await page.textContent('#detail dl')).toContain('result"lamp x2: 14"');
    expect(await page.isDisabled('#cancel')).toBe(true);
    expect(await page.isDisabled('#retry')).toBe(true);
    expect(await page.textContent('#frames')).toBe('the run has ended: no stack');
  });

  it('a failed run: its retries and the final error', async () => {
    await open('fail-1');
    expect(await page.textContent('#error')).toBe('Error: boom 4');
    expect(await texts('#timeline li.k-retry')).toEqual([
      expect.stringMatching(/retry'flaky' \(attempt 1\) !! boom 1 \(next attempt in \d+ ms\)$/),
      expect.stringMatching(/retry'flaky' \(attempt 2\) !! boom 2 \(next attempt in \d+ ms\)$/),
      expect.stringMatching(/retry'flaky' \(attempt 3\) !! boom 3 \(next attempt in \d+ ms\)$/),
    ]);
    expect(await page.isDisabled('#retry')).toBe(false);
    expect(await page.isDisabled('#cancel')).toBe(true);
  });

  it('Cancel requests a cancel in the store; the next drain carries it out; the page shows it', async () => {
    await open('cancel-1');
    expect((await row('cancel-1'))!.cancel).toBe(0);
    await page.click('#cancel');
    await page.waitForSelector('#status:has-text("cancel requested")');
    expect(await page.textContent('#message')).toBe('cancel requested: the next drain of a worker raises TaskletExit in the run');
    expect(await page.isDisabled('#cancel')).toBe(true);
    expect((await row('cancel-1'))!.cancel).toBe(1);
    await engine.drain();
    expect((await row('cancel-1'))!.status).toBe('cancelled');
    await page.click('#refresh');
    await page.waitForSelector('#status[data-status="cancelled"]');
    expect(await page.getAttribute('#runs tbody tr[data-id="cancel-1"]', 'data-status')).toBe('cancelled');
    expect(await texts('#timeline li strong')).toEqual(['started', 'step', 'cancel', 'step', 'cancelled']);
  });

  it('Retry makes a failed run run again (status in the store)', async () => {
    await open('fail-1');
    await page.click('#retry');
    await page.waitForSelector('#status[data-status="running"]');
    expect(await page.textContent('#message')).toBe('retry requested: the next drain of a worker runs it again');
    expect((await row('fail-1'))!.status).toBe('running');
    await page.waitForSelector('#runs tbody tr[data-id="fail-1"][data-status="running"]');
  });

  it('the status filter', async () => {
    await page.selectOption('#filter', 'waiting');
    await page.waitForSelector('#runs tbody tr[data-id="done-1"]', { state: 'detached' });
    expect(await rows()).toEqual([['wait-1', 'waiting']]);
    await page.selectOption('#filter', '');
    await page.waitForSelector('#runs tbody tr[data-id="done-1"]');
    expect((await rows()).map((r) => r[0])).toEqual(['done-1', 'wait-1', 'fail-1', 'cancel-1']);
    expect(problems).toEqual([]);
  });

  it('refuses POSTs without its header and requests for another host name', async () => {
    const post = await fetch(`${url}api/runs/wait-1/cancel`, { method: 'POST' });
    expect([post.status, await post.json()]).toEqual([403, { error: 'POST requests need the header x-stackless-ui: 1' }]);
    const { request } = await import('node:http');
    const u = new URL(url);
    const withHost = (host: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const r = request({ host: u.hostname, port: u.port, path: '/api/runs', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        r.on('error', reject);
        r.end();
      });
    // a DNS name (another site's, rebound to 127.0.0.1) is refused; an IP address or localhost with the port is fine
    expect(await withHost(`evil.example:${u.port}`)).toBe(421);
    expect(await withHost('127.0.0.1:1')).toBe(421);
    expect(await withHost(`localhost:${u.port}`)).toBe(200);
    expect(await withHost(`127.0.0.1:${u.port}`)).toBe(200);
    const unknown = await fetch(`${url}api/runs/ghost`);
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: "no workflow run with id 'ghost'", code: 'UNKNOWN_RUN' }]);
    const ended = await fetch(`${url}api/runs/done-1/cancel`, { method: 'POST', headers: { 'x-stackless-ui': '1' } });
    expect([ended.status, await ended.json()]).toEqual([409, { error: "cannot cancel run 'done-1': it has finished", code: 'RUN_ENDED' }]);
    expect((await row('wait-1'))!.cancel).toBe(0);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
