/** Raw HTTP and WebSocket probes of `serve`, shared by the server's integration and reliability tests. */
import { request } from 'node:http';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { RunningServer } from '../electron/server/server';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Sent as chunks without a Content-Length (chunked transfer encoding). */
  chunks?: Buffer[];
}

/** A raw request: the path goes out exactly as written (fetch would resolve the '..' away). */
export function raw(port: number, path: string, opts: RawOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    for (const c of opts.chunks ?? []) req.write(c);
    req.end();
  });
}

export function wsStatus(url: string, headers: Record<string, string> = {}): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}

/** Loads the page with the token and returns the cookie it sets (`name=value`). */
export async function login(server: RunningServer): Promise<string> {
  const res = await raw(server.port, `/?token=${server.token}`);
  assert.equal(res.status, 303);
  const setCookie = res.headers['set-cookie'];
  const cookie = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  assert.ok(cookie, 'the first load sets a cookie');
  return cookie.split(';')[0] ?? '';
}

export function callWith(server: RunningServer, cookie: string, method: string, input: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return raw(server.port, '/api/call', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: cookie, ...headers },
    body: JSON.stringify({ method, input }),
  });
}

export function json<T>(reply: Reply): T {
  return JSON.parse(reply.body.toString()) as T;
}
