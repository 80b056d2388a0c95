/**
 * `mask-studio serve`: the built renderer, `POST /api/call` into the same dispatch() the desktop app uses,
 * events over a WebSocket at /api/events, `GET /api/image/<id>[?size=thumb]`, and two downloads:
 * `GET /api/runs/<id>/submission.csv` and `GET /api/report.html[?split=test]`. Every request needs the
 * token printed at start: `?token=` on the first page load (which moves it into an HttpOnly, SameSite=Strict
 * cookie and drops it from the address bar), the cookie after that, or `Authorization: Bearer` for scripts.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Library } from '../core/library';
import { toErrorPayload } from '../../shared/errors';
import {
  modelZipName,
  parseModelFormat,
  parseRunId,
  parseSplit,
  reportFileName,
  submissionFileName,
  viaTempFile,
  writeModelZip,
  writeReportFile,
  writeSubmissionFile,
} from './downloads';
import { parseImageId, type ImageSize } from './images';
import { SECURITY_HEADERS, statusFor } from './security';
import { CoreSession } from './session';
import { resolveStatic } from './static-files';

export interface ServeOptions {
  lib: Library;
  rendererDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Random when not given. */
  token?: string;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  token: string;
  session: CoreSession;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

function cookieName(port: number): string {
  // Cookies ignore ports: two servers on one host must not read each other's token.
  return `mask_studio_${port}`;
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  send(res, status, JSON.stringify(doc), 'application/json; charset=utf-8');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body over 1 MiB'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const session = new CoreSession(options.lib, log);
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  let port = options.port ?? 0;

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    return sameSecret(readCookie(req, cookieName(port)), token) || sameSecret(bearer, token) || sameSecret(url.searchParams.get('token'), token);
  };

  const unsubscribe = session.onEvent((event) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  async function handleCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A JSON content type cannot be sent by a plain HTML form: one more wall against cross-site posts.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      sendJson(res, 415, { ok: false, error: { code: 'BAD_INPUT', message: 'POST /api/call takes application/json: {"method": "...", "input": {...}}' } });
      return;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(await readBody(req));
    } catch (err) {
      sendJson(res, 400, { ok: false, error: { code: 'BAD_INPUT', message: `the request body is not JSON: ${(err as Error).message}` } });
      return;
    }
    const method = typeof doc === 'object' && doc !== null && 'method' in doc ? doc.method : undefined;
    const input = typeof doc === 'object' && doc !== null && 'input' in doc ? doc.input : undefined;
    if (typeof method !== 'string') {
      sendJson(res, 400, { ok: false, error: { code: 'BAD_INPUT', message: 'the body needs "method": a contract method name such as "library.info"' } });
      return;
    }
    const reply = await session.call(method, input);
    sendJson(res, reply.ok ? 200 : statusFor(reply.error.code), reply);
  }

  async function handleImage(req: IncomingMessage, res: ServerResponse, url: URL, idText: string): Promise<void> {
    const id = parseImageId(idText);
    const size: ImageSize = url.searchParams.get('size') === 'thumb' ? 'thumb' : 'full';
    const image = id === null ? null : await session.images.resolve(id, size);
    if (!image) {
      send(res, 404, 'no such readable image in this library');
      return;
    }
    const headers = { ...SECURITY_HEADERS, 'Content-Type': image.contentType, 'Cache-Control': 'private, max-age=300', ETag: image.etag };
    if (req.headers['if-none-match'] === image.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, headers);
    createReadStream(image.file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  /** Writes the file through core into a temp folder and sends it as an attachment, or the error as text. */
  async function handleDownload(res: ServerResponse, name: string, type: string, write: (file: string) => Promise<unknown>): Promise<void> {
    let body: Buffer;
    try {
      body = await viaTempFile(name, write);
    } catch (err) {
      const error = toErrorPayload(err);
      if (error.code === 'INTERNAL') log(`download ${name} failed: ${(err as Error).stack ?? error.message}`);
      send(res, statusFor(error.code), error.message);
      return;
    }
    // attachment: the browser saves it; an HTML report must never render inside the app's origin.
    const disposition = `attachment; filename="${name}"`;
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Disposition': disposition, 'Content-Length': String(body.length) });
    res.end(body);
  }

  function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const file = resolveStatic(options.rendererDir, url.pathname);
    if (!file) {
      send(res, 404, 'not found');
      return;
    }
    const cache = url.pathname.startsWith('/assets/') ? 'private, max-age=31536000, immutable' : 'no-store';
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.contentType, 'Cache-Control': cache });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file.file).on('error', () => res.destroy()).pipe(res);
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (url.pathname === '/api/call' && req.method === 'POST') return handleCall(req, res);
    const image = url.pathname.match(/^\/api\/image\/([^/]*)$/);
    if (image && read) return handleImage(req, res, url, image[1] ?? '');
    const submission = url.pathname.match(/^\/api\/runs\/([^/]+)\/submission\.csv$/);
    const runId = submission ? parseRunId(submission[1] ?? '') : null;
    if (runId !== null && req.method === 'GET') {
      return handleDownload(res, submissionFileName(runId), 'text/csv; charset=utf-8', (file) => writeSubmissionFile(session, runId, file));
    }
    const model = url.pathname.match(/^\/api\/runs\/([^/]+)\/model\.zip$/);
    const modelRun = model ? parseRunId(model[1] ?? '') : null;
    if (modelRun !== null && req.method === 'GET') {
      const format = parseModelFormat(url.searchParams.get('format'));
      return handleDownload(res, modelZipName(modelRun, format), 'application/zip', (file) => writeModelZip(session, modelRun, format, file));
    }
    if (url.pathname === '/api/report.html' && req.method === 'GET') {
      const split = parseSplit(url.searchParams.get('split'));
      return handleDownload(res, reportFileName(split), 'text/html; charset=utf-8', (file) => writeReportFile(session, split, file));
    }
    if (url.pathname.startsWith('/api/')) send(res, 404, 'not found');
    else if (read) handleStatic(req, res, url);
    else send(res, 405, 'method not allowed');
    return Promise.resolve();
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!authorized(req, url)) {
      send(res, 401, 'Mask Studio: this server needs its token. Open the address `mask-studio serve` printed (it ends in ?token=...).');
      return;
    }
    const fromQuery = url.searchParams.has('token');
    if (fromQuery && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      // Keep the token in a cookie the page's scripts cannot read, and out of the address bar and history.
      url.searchParams.delete('token');
      const cookie = `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
      send(res, 303, 'see other', 'text/plain; charset=utf-8', { Location: `${url.pathname}${url.search}`, 'Set-Cookie': cookie });
      return;
    }
    const work = route(req, res, url);
    work.catch((err: unknown) => {
      log(`${req.method ?? '?'} ${url.pathname} failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, (err as Error).message);
      else res.destroy();
    });
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const origin = req.headers.origin;
    const sameOrigin = origin === undefined || origin === `http://${req.headers.host ?? ''}`;
    if (url.pathname !== '/api/events' || !authorized(req, url) || !sameOrigin) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/?token=${token}`;

  return {
    url,
    host,
    port,
    token,
    session,
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      session.close();
    },
  };
}
