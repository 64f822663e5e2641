/**
 * `stackless workflows ui`: a local web page over a workflow store. node:http, no framework.
 *
 *   GET  /                      the page (cli/ui/page.ts: HTML, CSS and script in one)
 *   GET  /api/runs[?status=s]   the runs, oldest first (as `workflows list --json`)
 *   GET  /api/runs/<id>         one run: status, result or error, stack with source lines and
 *                               locals, journal (as `workflows show --json`, plus source lines)
 *   POST /api/runs/<id>/cancel  request a cancel (the next drain carries it out)
 *   POST /api/runs/<id>/retry   a failed or cancelled run runs again at the next drain
 *
 * It listens on 127.0.0.1 by default. Requests whose Host header is not an IP address or
 * localhost with its port are refused (a DNS name could be rebound to this machine by
 * another site), and POSTs must carry the header `x-stackless-ui: 1`, which a
 * page from another origin cannot send without a CORS preflight that this server never
 * answers: other sites open in the same browser cannot cancel runs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { WorkflowError } from '../../workflow/errors.js';
import { STATUSES, type RunStatus } from '../../workflow/store.js';
import { detail, summary, type CliStore } from '../workflows.js';
import { PAGE } from './page.js';

export interface UiOptions {
  store: CliStore;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Where the workflows' source files are (frames name files relative to it). */
  root: string;
}

export interface UiServer {
  url: string;
  close(): Promise<void>;
}

export async function serveUi(options: UiOptions): Promise<UiServer> {
  const { store, root } = options;
  let port = 0;
  /** The Host header must name this port on an IP address or localhost: a DNS name could be rebound to 127.0.0.1 by another site. */
  const hostAllowed = (header: string | undefined): boolean => {
    const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d+)$/i.exec(header ?? '');
    if (m === null || Number(m[2]) !== port) return false;
    const name = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
    return name.toLowerCase() === 'localhost' || isIP(name) !== 0;
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req.headers.host)) {
      res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' }).end(`this server answers requests for an IP address or localhost, port ${port}, only\n`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      });
      res.end(PAGE);
      return;
    }
    if (req.method === 'GET' && path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && path === '/api/runs') {
      const s = url.searchParams.get('status');
      if (s !== null && s !== '' && !(STATUSES as readonly string[]).includes(s)) {
        send(res, 400, { error: `unknown status '${s}' (one of ${STATUSES.join(', ')})` });
        return;
      }
      const rows = await store.listRuns({ status: s === null || s === '' ? undefined : (s as RunStatus) });
      send(res, 200, rows.map(summary));
      return;
    }
    const m = /^\/api\/runs\/([^/]+)(?:\/(cancel|retry))?$/.exec(path);
    if (m !== null) {
      let id: string;
      try {
        id = decodeURIComponent(m[1]);
      } catch {
        send(res, 400, { error: `bad run id in ${path}` });
        return;
      }
      const action = m[2];
      if (action === undefined && req.method === 'GET') {
        send(res, 200, await detail(store, id, root));
        return;
      }
      if (action !== undefined && req.method === 'POST') {
        if (req.headers['x-stackless-ui'] !== '1') {
          send(res, 403, { error: 'POST requests need the header x-stackless-ui: 1' });
          return;
        }
        req.resume();
        if (action === 'cancel') await store.requestCancel(id);
        else await store.retry(id);
        send(res, 200, { id, [action]: 'requested', run: await detail(store, id, root) });
        return;
      }
      send(res, 405, { error: `${req.method} is not allowed on ${path}` });
      return;
    }
    send(res, 404, { error: `nothing at ${path}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof WorkflowError) {
        send(res, e.code === 'UNKNOWN_RUN' ? 404 : 409, { error: e.message, code: e.code });
      } else {
        send(res, 500, { error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      fail(new WorkflowError('BAD_ARGUMENT', e.code === 'EADDRINUSE' ? `port ${options.port} on ${options.host} is in use (pick another with --port, or --port 0)` : `cannot listen on ${options.host}:${options.port}: ${e.message}`));
    });
    server.listen(options.port, options.host, () => done());
  });
  port = (server.address() as AddressInfo).port;
  const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
