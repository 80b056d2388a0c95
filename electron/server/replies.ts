/** The server's plain replies: text, JSON, an attachment's headers and an error as its status and words. */
import type { ServerResponse } from 'node:http';
import { toErrorPayload } from '../../shared/errors';
import { SECURITY_HEADERS, statusFor } from './security';

export function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  send(res, status, JSON.stringify(doc), 'application/json; charset=utf-8');
}

/** An internal error is logged with its stack; every error reaches the client as its status and message. */
export function sendError(res: ServerResponse, log: (line: string) => void, what: string, err: unknown): void {
  const error = toErrorPayload(err);
  if (error.code === 'INTERNAL') log(`${what} failed: ${(err as Error).stack ?? error.message}`);
  send(res, statusFor(error.code), error.message);
}

/** attachment: the browser saves it; an HTML report must never render inside the app's origin. */
export function attachment(name: string, type: string, length: number): Record<string, string> {
  return { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Disposition': `attachment; filename="${name}"`, 'Content-Length': String(length) };
}
