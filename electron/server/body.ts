/**
 * Reading a request body with a ceiling. Past it the rest of the body is still read and dropped before the
 * caller answers 413: a server that answers (or closes) while the client is still sending makes the client
 * see a broken pipe or a reset instead of the 413. Only a body past a second, much larger ceiling is cut off.
 */
import type { IncomingMessage } from 'node:http';

export type Body = { ok: true; text: string } | { ok: false; bytes: number };

/** Past this much dropped body the answer goes out at once and the connection may break: nobody sends that. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (body: Body) => {
      if (settled) return;
      settled = true;
      resolve(body);
    };
    if (Number.isFinite(declared) && declared > DRAIN_LIMIT) {
      settle({ ok: false, bytes: declared });
      return;
    }
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        if (size > DRAIN_LIMIT) settle({ ok: false, bytes: size });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => settle(size > limit ? { ok: false, bytes: size } : { ok: true, text: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
  });
}
