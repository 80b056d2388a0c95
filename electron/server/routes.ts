/**
 * What the server answers once a request has passed the Host and token checks: `POST /api/call` into the
 * session's dispatch, images, the downloads written into the library's exports/, and the built renderer.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExportFormat } from '../../shared/names';
import { readBody } from './body';
import { LibraryExports, parseExportFormat, parseRunId, parseSplit, parseSubmissionQuery, type ExportFile } from './downloads';
import { parseImageId, type ImageSize } from './images';
import { attachment, send, sendError, sendJson } from './replies';
import { originAllowed, SECURITY_HEADERS, statusFor } from './security';
import type { CoreSession } from './session';
import { resolveStatic } from './static-files';
import { tarEntries, tarSize, tarStream } from './tar';

/** Enough for a 100,000-image edit by id; a bigger body is answered 413 with what to do. */
export const MAX_BODY = 1 << 20;

export interface RouteContext {
  readonly session: CoreSession;
  readonly rendererDir: string;
  readonly log: (line: string) => void;
  /** The Host values this server answers to (known once it listens). */
  readonly hosts: () => ReadonlySet<string>;
}

export class Routes {
  readonly #exports: LibraryExports;

  constructor(private readonly ctx: RouteContext) {
    this.#exports = new LibraryExports(ctx.session.lib);
  }

  async #call(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A JSON content type cannot be sent by a plain HTML form: one more wall against cross-site posts.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      sendJson(res, 415, { ok: false, error: { code: 'BAD_INPUT', message: 'POST /api/call takes application/json: {"method": "...", "input": {...}}' } });
      return;
    }
    if (!originAllowed(req.headers.origin, this.ctx.hosts())) {
      sendJson(res, 403, { ok: false, error: { code: 'FORBIDDEN', message: `calls from ${req.headers.origin ?? '?'} are refused: only this server's own page may call it` } });
      return;
    }
    const body = await readBody(req, MAX_BODY);
    if (!body.ok) {
      const message = `the request body is ${body.bytes.toLocaleString('en')} bytes; at most ${MAX_BODY.toLocaleString('en')} are accepted: send fewer images per call`;
      sendJson(res, 413, { ok: false, error: { code: 'BAD_INPUT', message } });
      return;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(body.text);
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
    const reply = await this.ctx.session.call(method, input);
    sendJson(res, reply.ok ? 200 : statusFor(reply.error.code), reply);
  }

  async #image(req: IncomingMessage, res: ServerResponse, url: URL, idText: string): Promise<void> {
    const id = parseImageId(idText);
    const size: ImageSize = url.searchParams.get('size') === 'thumb' ? 'thumb' : 'full';
    const image = id === null ? null : await this.ctx.session.images.resolve(id, size);
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

  /** Has core write the file into the library's exports/, then streams it as an attachment (or the error as text). */
  async #download(res: ServerResponse, type: string, write: () => Promise<ExportFile>): Promise<void> {
    let written: ExportFile;
    let size: number;
    try {
      written = await write();
      size = (await stat(written.file)).size;
    } catch (err) {
      sendError(res, this.ctx.log, 'download', err);
      return;
    }
    res.writeHead(200, attachment(written.name, type, size));
    createReadStream(written.file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  /** An exported model: its folder in exports/ as one tar download. */
  async #model(res: ServerResponse, runId: string, format: ExportFormat): Promise<void> {
    let entries;
    let name: string;
    try {
      const folder = await this.#exports.model(runId, format);
      name = folder.name;
      entries = await tarEntries(folder.dir, folder.files, folder.name);
    } catch (err) {
      sendError(res, this.ctx.log, 'model export', err);
      return;
    }
    res.writeHead(200, attachment(`${name}.tar`, 'application/x-tar', tarSize(entries.map((e) => e.size))));
    tarStream(entries)
      .on('error', (err) => {
        this.ctx.log(`model download ${name} failed: ${err.message}`);
        res.destroy();
      })
      .pipe(res);
  }

  #static(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const file = resolveStatic(this.ctx.rendererDir, url.pathname);
    if (!file) {
      send(res, 404, 'not found');
      return;
    }
    const cache = url.pathname.startsWith('/assets/') ? 'private, max-age=31536000, immutable' : 'no-store';
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.contentType, 'Cache-Control': cache });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file.file).on('error', () => res.destroy()).pipe(res);
  }

  route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (url.pathname === '/api/call' && req.method === 'POST') return this.#call(req, res);
    const image = url.pathname.match(/^\/api\/image\/([^/]*)$/);
    if (image && read) return this.#image(req, res, url, image[1] ?? '');
    const download = url.pathname.match(/^\/api\/runs\/([^/]+)\/(submission\.csv|submission\.note\.txt|model\.tar)$/);
    const runId = download ? parseRunId(download[1] ?? '') : null;
    if (runId !== null && req.method === 'GET') {
      // ?fill=P or ?partial=1 for sample rows without a probability; the note says which rows were treated so
      if (download?.[2] === 'submission.csv') return this.#download(res, 'text/csv; charset=utf-8', () => this.#exports.submission(runId, parseSubmissionQuery(url.searchParams)));
      if (download?.[2] === 'submission.note.txt') return this.#download(res, 'text/plain; charset=utf-8', () => this.#exports.submissionNote(runId, parseSubmissionQuery(url.searchParams)));
      const format = parseExportFormat(url.searchParams.get('format'));
      if (format !== null) return this.#model(res, runId, format);
    }
    if (url.pathname === '/api/report.html' && req.method === 'GET') {
      const split = parseSplit(url.searchParams.get('split'));
      return this.#download(res, 'text/html; charset=utf-8', () => this.#exports.report(split));
    }
    if (url.pathname.startsWith('/api/')) send(res, 404, 'not found');
    else if (read) this.#static(req, res, url);
    else send(res, 405, 'method not allowed');
    return Promise.resolve();
  }
}
