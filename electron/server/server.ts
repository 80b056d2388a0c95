/**
 * `mask-studio serve`: the built renderer, `POST /api/call` into the same dispatch() the desktop app uses,
 * events over a WebSocket at /api/events, `GET /api/image/<id>[?size=thumb]`, and three downloads written
 * into the library's exports/ folder: `GET /api/runs/<id>/submission.csv[?fill=P|?partial=1]` (and
 * `submission.note.txt`, its note), `GET /api/report.html[?split=test]`
 * and `GET /api/runs/<id>/model.tar[?format=tfjs]`. Every request needs a loopback Host (or the address
 * serve was told to bind) with the served port, and the token printed at start: `?token=` on the first page
 * load (which moves it into an HttpOnly, SameSite=Strict cookie and drops it from the address bar), the
 * cookie after that, or `Authorization: Bearer` for scripts. A page's paths reach no writer, and imports
 * read only below the `--data-root` folders.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Library } from '../core/library';
import { DataRoots } from '../core/paths/data-roots';
import { send } from './replies';
import { MAX_BODY, Routes } from './routes';
import { allowedHosts, hostAllowed, originAllowed } from './security';
import { CoreSession } from './session';

export { MAX_BODY };

export interface ServeOptions {
  lib: Library;
  rendererDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Random when not given. */
  token?: string;
  /** The folders a page may import from (`--data-root`); none when not given. */
  dataRoots?: readonly string[];
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

/** Who may talk to this server: a Host it answers to, and the token (cookie, bearer or `?token=`). */
class Gate {
  port = 0;
  hosts: ReadonlySet<string> = new Set();
  constructor(readonly token: string) {}

  authorized(req: IncomingMessage, url: URL): boolean {
    const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    return sameSecret(readCookie(req, cookieName(this.port)), this.token) || sameSecret(bearer, this.token) || sameSecret(url.searchParams.get('token'), this.token);
  }

  /** Answers a request that may not pass (or the token's first page load) and says false; true lets it through. */
  admit(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (!hostAllowed(req.headers.host, this.hosts)) {
      send(res, 403, `Mask Studio: Host '${req.headers.host ?? ''}' is not this server; open ${[...this.hosts][0] ?? 'the address serve printed'} instead.`);
      return false;
    }
    if (!this.authorized(req, url)) {
      send(res, 401, 'Mask Studio: this server needs its token. Open the address `mask-studio serve` printed (it ends in ?token=...).');
      return false;
    }
    if (url.searchParams.has('token') && req.method === 'GET' && !url.pathname.startsWith('/api/')) {
      // Keep the token in a cookie the page's scripts cannot read, and out of the address bar and history.
      url.searchParams.delete('token');
      const cookie = `${cookieName(this.port)}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
      send(res, 303, 'see other', 'text/plain; charset=utf-8', { Location: `${url.pathname}${url.search}`, 'Set-Cookie': cookie });
      return false;
    }
    return true;
  }

  /** The event socket: same Host and token rules, and an Origin that is this server's own. */
  admitsSocket(req: IncomingMessage, url: URL): boolean {
    const origin = req.headers.origin;
    const sameOrigin = originAllowed(origin, this.hosts) && (origin === undefined || origin.toLowerCase() === `http://${(req.headers.host ?? '').toLowerCase()}`);
    return url.pathname === '/api/events' && hostAllowed(req.headers.host, this.hosts) && this.authorized(req, url) && sameOrigin;
  }
}

/** Session events to every open socket at /api/events; returns what closes them. */
function eventSockets(server: Server, session: CoreSession, gate: Gate): () => Promise<void> {
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const unsubscribe = session.onEvent((event) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!gate.admitsSocket(req, new URL(req.url ?? '/', 'http://localhost'))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });
  return async () => {
    unsubscribe();
    for (const ws of sockets) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const gate = new Gate(options.token ?? randomBytes(24).toString('base64url'));
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const readRoots = new DataRoots(options.dataRoots ?? [], {
    howToAllow: 'Restart serve with `--data-root DIR` for the folder that holds the data (repeatable), or import it with `mask-studio import DIR`.',
  });
  const session = new CoreSession(options.lib, { log, readRoots });
  const routes = new Routes({ session, rendererDir: options.rendererDir, log, hosts: () => gate.hosts });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!gate.admit(req, res, url)) return;
    routes.route(req, res, url).catch((err: unknown) => {
      log(`${req.method ?? '?'} ${url.pathname} failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, (err as Error).message);
      else res.destroy();
    });
  });
  const closeSockets = eventSockets(server, session, gate);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  gate.port = (server.address() as AddressInfo).port;
  gate.hosts = allowedHosts(gate.port, host);
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${gate.port}/?token=${gate.token}`,
    host,
    port: gate.port,
    token: gate.token,
    session,
    async close() {
      await closeSockets();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      session.close();
    },
  };
}
