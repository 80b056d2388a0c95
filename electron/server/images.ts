/**
 * The only files the app hands to a page: an image row's own file (by id, never by a path the page sends)
 * and the thumbnails made from it, which sharp writes once into the library's cache/thumbnails/ keyed by the
 * file's sha256 (a moved or re-imported file reuses its thumbnail). Shared by `serve` and Electron's protocol.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { Library } from '../core/library';

export const THUMB_SIZE = 256;
/** Same guard as the scan: a decompression bomb must not take the server down. */
const PIXEL_LIMIT = 268_402_689;

/** Formats every browser shows as they are; anything else is converted to WebP once, like a thumbnail. */
const BROWSER_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  svg: 'image/svg+xml',
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
  decode_status: string;
  missing: number;
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
    return this.#lib.db.prepare('SELECT path, sha256, format, decode_status, missing FROM images WHERE id = ?').get(id) as Row | undefined;
  }

  /** The file to send for image `id`, or null when the library has no such readable image. */
  async resolve(id: number, size: ImageSize): Promise<ImageFile | null> {
    const row = this.#row(id);
    if (!row || row.missing === 1 || row.decode_status !== 'ok' || !existsSync(row.path)) return null;
    const type = row.format ? BROWSER_TYPES[row.format] : undefined;
    if (size === 'full' && type) return { file: row.path, contentType: type, etag: `"${row.sha256}"` };
    const variant = size === 'thumb' ? `${THUMB_SIZE}` : 'full';
    const out = join(this.thumbnailDir, row.sha256.slice(0, 2), `${row.sha256}-${variant}.webp`);
    await this.#ensure(row.path, out, size);
    return { file: out, contentType: 'image/webp', etag: `"${row.sha256}-${variant}"` };
  }

  async #ensure(source: string, out: string, size: ImageSize): Promise<void> {
    if (existsSync(out)) return;
    let pending = this.#inFlight.get(out);
    if (!pending) {
      pending = this.#gate
        .run(async () => {
          if (existsSync(out)) return;
          await mkdir(dirname(out), { recursive: true });
          const tmp = `${out}.${process.pid}.tmp`;
          let img = sharp(source, { limitInputPixels: PIXEL_LIMIT }).rotate();
          if (size === 'thumb') img = img.resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true });
          await img.webp({ quality: size === 'thumb' ? 72 : 90 }).toFile(tmp);
          // Rename is atomic: a reader never sees half a thumbnail.
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
