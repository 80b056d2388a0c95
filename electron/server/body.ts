/**
 * Reading a request body with a ceiling. Past it the request is answered 413 by the caller and the rest of
 * the body is read and dropped (up to a second ceiling), because closing a connection the client is still
 * writing to makes it see a reset instead of the 413.
 */
import type { IncomingMessage } from 'node:http';

export type Body = { ok: true; text: string } | { ok: false; bytes: number };

/** Past this much dropped body the connection is closed after all: nobody needs to send that. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    const refuse = () => {
      resolve({ ok: false, bytes: Number.isFinite(declared) ? declared : size });
    };
    if (over) refuse();
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > DRAIN_LIMIT) req.destroy();
        return;
      }
      if (size > limit) {
        over = true;
        chunks.length = 0;
        refuse();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', (err) => {
      if (!over) reject(err);
    });
  });
}
