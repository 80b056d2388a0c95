/**
 * The only files the app hands a page: an image row's own file (by id, never by a path the page sends) and
 * views made from it, which sharp writes once into the library's cache/thumbnails/ keyed by the file's
 * sha256 (a moved or re-imported file reuses them). A full view is at most VIEW_SIZE on its long side, what a
 * screen shows: a small JPEG/PNG/WebP/GIF/AVIF goes out as it is; anything bigger, or in a format a browser
 * does not show, is shrunk on load and cached as WebP, so a 20000-pixel TIFF costs one bounded decode once
 * (WebP itself stops at 16383 pixels). Shared by `serve` and Electron's protocol.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Library } from '../core/library';

export const THUMB_SIZE = 256;
/** The long side of a full view: a 4K screen's width at 2x zoom is already past what a preview pane shows. */
export const VIEW_SIZE = 2048;
/** An original bigger than this is re-encoded even within VIEW_SIZE (a 40 MB PNG is not a preview). */
const VIEW_MAX_BYTES = 8 * 1024 * 1024;
/** Same guard as the scan: a decompression bomb must not take the server down. */
const PIXEL_LIMIT = 268_402_689;

/**
 * Formats every browser shows as they are. Not SVG: a drawing can carry scripts, and served from the app's
 * origin it would be a page of its own; it is rasterised like any other format.
 */
const BROWSER_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};

export type ImageSize = 'thumb' | 'full';

export interface ImageFile {
  file: string;
  contentType: string;
  /** A strong validator: the source bytes' sha256 and the variant. */
  etag: string;
}

interface Row {
  path: string;
  sha256: string;
  format: string | null;
  bytes: number;
  width: number | null;
  height: number | null;
  decode_status: string;
  missing: number;
}

/** Whether the original itself is a fine full view: a browser format, within the view size and byte budget. */
export function servesOriginal(row: Pick<Row, 'format' | 'bytes' | 'width' | 'height'>): boolean {
  if (!row.format || !BROWSER_TYPES[row.format]) return false;
  if (row.width === null || row.height === null) return false;
  return Math.max(row.width, row.height) <= VIEW_SIZE && row.bytes <= VIEW_MAX_BYTES;
}

function variantSize(size: ImageSize): number {
  return size === 'thumb' ? THUMB_SIZE : VIEW_SIZE;
}

/** Parses the id part of an image URL: digits only, anything else is not an image of this library. */
export function parseImageId(text: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) return null;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : null;
}

class Semaphore {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

export class ImageStore {
  readonly #lib: Library;
  readonly #inFlight = new Map<string, Promise<void>>();
  // Thumbnails are made while a person scrolls: leave a core for the server and core's own work.
  readonly #gate = new Semaphore(Math.max(1, availableParallelism() - 1));

  constructor(lib: Library) {
    this.#lib = lib;
  }

  get thumbnailDir(): string {
    return join(this.#lib.cacheDir, 'thumbnails');
  }

  #row(id: number): Row | undefined {
    return this.#lib.db.prepare('SELECT path, sha256, format, bytes, width, height, decode_status, missing FROM images WHERE id = ?').get(id) as
      | Row
      | undefined;
  }

  /** The file to send for image `id`, or null when the library has no such readable image. */
  async resolve(id: number, size: ImageSize): Promise<ImageFile | null> {
    const row = this.#row(id);
    if (!row || row.missing === 1 || row.decode_status !== 'ok' || !existsSync(row.path)) return null;
    const type = row.format ? BROWSER_TYPES[row.format] : undefined;
    if (size === 'full' && type && servesOriginal(row)) return { file: row.path, contentType: type, etag: `"${row.sha256}"` };
    const px = variantSize(size);
    const out = join(this.thumbnailDir, row.sha256.slice(0, 2), `${row.sha256}-${px}.webp`);
    await this.#ensure(row.path, out, px);
    return { file: out, contentType: 'image/webp', etag: `"${row.sha256}-${px}"` };
  }

  async #ensure(source: string, out: string, px: number): Promise<void> {
    if (existsSync(out)) return;
    let pending = this.#inFlight.get(out);
    if (!pending) {
      pending = this.#gate
        .run(async () => {
          if (existsSync(out)) return;
          await mkdir(dirname(out), { recursive: true });
          const tmp = `${out}.${process.pid}.tmp`;
          // Resize before anything else, so libvips shrinks while it decodes (JPEG and WebP at load time,
          // other formats line by line with sequential reads) and never holds the full-size image.
          await sharp(source, { limitInputPixels: PIXEL_LIMIT, sequentialRead: true, autoOrient: true })
            .resize(px, px, { fit: 'inside', withoutEnlargement: true })
            .webp({ quality: px === THUMB_SIZE ? 72 : 85 })
            .toFile(tmp);
          // Rename is atomic: a reader never sees half a view.
          await rename(tmp, out);
        })
        .finally(() => this.#inFlight.delete(out));
      this.#inFlight.set(out, pending);
    }
    await pending;
  }

  /** For tests and the bench: whether image `id`'s thumbnail is already cached. */
  async hasThumbnail(id: number): Promise<boolean> {
    const row = this.#row(id);
    if (!row) return false;
    const out = join(this.thumbnailDir, row.sha256.slice(0, 2), `${row.sha256}-${THUMB_SIZE}.webp`);
    return stat(out).then(
      () => true,
      () => false,
    );
  }
}
