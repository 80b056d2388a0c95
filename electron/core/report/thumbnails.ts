/**
 * Small inline thumbnails for the report: each image at most 64 px on its longest side (a label doubt's larger), JPEG, as a data
 * URL, so the file a user sends shows the pictures without the library.
 */
import sharp from 'sharp';
import type { Db } from '../db/open';

export const THUMB_SIDE = 64;

/** The same pixel limit the scan uses against decompression bombs. */
const PIXEL_LIMIT = 268_402_689;

export interface Thumb {
  relPath: string;
  label: string | null;
  /** A data:image/jpeg URL, or null when the file could not be read (moved, unreadable). */
  dataUrl: string | null;
}

async function thumbnail(path: string, side: number): Promise<string | null> {
  try {
    const buf = await sharp(path, { failOn: 'none', limitInputPixels: PIXEL_LIMIT, pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .resize(side, side, { fit: 'inside' })
      .jpeg({ quality: 70, mozjpeg: true })
      .toBuffer();
    return `data:image/jpeg;base64,${buf.toString('base64')}`;
  } catch {
    return null;
  }
}

/** Thumbnails of the given image ids (duplicates made once), a few at a time, at most `side` px. Unknown ids are left out. */
export async function thumbnails(db: Db, ids: Iterable<number>, concurrency = 4, side: number = THUMB_SIDE): Promise<Map<number, Thumb>> {
  const unique = [...new Set(ids)];
  const get = db.prepare('SELECT path, rel_path AS relPath, label FROM images WHERE id = ?');
  const out = new Map<number, Thumb>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const id = unique[next++];
      if (id === undefined) continue;
      const row = get.get(id) as { path: string; relPath: string; label: string | null } | undefined;
      if (!row) continue;
      out.set(id, { relPath: row.relPath, label: row.label, dataUrl: await thumbnail(row.path, side) });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, unique.length)) }, worker));
  return out;
}
