/**
 * `studio://app/`: the app's own origin. It serves the built renderer's files and, under /api/image/<id>,
 * the open library's image rows as views of at most VIEW_SIZE pixels (images.ts, the same code as `serve`),
 * streamed from disk; every other URL is a 404. The page
 * uses the same relative URLs as in `serve` mode, so one renderer runs in both.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { protocol } from 'electron';
import { parseImageId, type ImageSize } from '../server/images';
import { SECURITY_HEADERS } from '../server/security';
import type { CoreSession } from '../server/session';
import { resolveStatic } from '../server/static-files';

export const SCHEME = 'studio';
export const APP_ORIGIN = `${SCHEME}://app`;

/** Before app.ready: a standard, secure scheme behaves like https for the page (origin, 'self', fetch). */
export function registerScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Streams the file: a view is read in pieces, never whole into main's memory. */
function fileResponse(file: string, headers: Record<string, string>): Response {
  return new Response(Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>, { headers });
}

function notFound(): Response {
  return new Response('not found', { status: 404, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' } });
}

export function handleScheme(rendererDir: string, session: () => CoreSession | null): void {
  protocol.handle(SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'app' || request.method !== 'GET') return notFound();
    const image = url.pathname.match(/^\/api\/image\/([^/]*)$/);
    if (image) {
      const id = parseImageId(image[1] ?? '');
      const current = session();
      const size: ImageSize = url.searchParams.get('size') === 'thumb' ? 'thumb' : 'full';
      const file = id === null || !current ? null : await current.images.resolve(id, size);
      if (!file) return notFound();
      return fileResponse(file.file, { ...SECURITY_HEADERS, 'Content-Type': file.contentType, 'Cache-Control': 'private, max-age=300', ETag: file.etag });
    }
    const file = resolveStatic(rendererDir, url.pathname);
    if (!file) return notFound();
    return fileResponse(file.file, { ...SECURITY_HEADERS, 'Content-Type': file.contentType, 'Cache-Control': 'no-store' });
  });
}
