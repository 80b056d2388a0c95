/**
 * Reading one file once: its bytes (sha256), what its first bytes say it is, and a full decode with sharp
 * (`failOn: 'warning'`, a pixel limit) that records format, size, colour space, alpha, EXIF orientation and
 * the perceptual hash. `metadata()` alone succeeds on truncated JPEGs; the decode is what finds them.
 */
import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import type { DecodeStatus } from '../../../shared/contract';
import { dhashOfGrid, greyGrid, hashToHex } from './phash';
import { dhashFine } from './phash-fine';

/** Larger images are refused (decompression bombs); 16k × 16k is far past any photo in a dataset. */
export const PIXEL_LIMIT = 268_402_689;

export interface ScanResult {
  sha256: string;
  magic: string | null;
  format: string | null;
  width: number | null;
  height: number | null;
  channels: number | null;
  space: string | null;
  hasAlpha: boolean | null;
  orientation: number | null;
  decodeStatus: DecodeStatus;
  decodeError: string | null;
  phash: string | null;
  phashFine: string | null;
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** The format the file's signature says, or null when it is no image format we know. */
export function sniffFormat(buf: Buffer): string | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (buf.length >= 6 && (buf.toString('latin1', 0, 6) === 'GIF87a' || buf.toString('latin1', 0, 6) === 'GIF89a')) return 'gif';
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (buf.length >= 4 && (buf.toString('latin1', 0, 4) === 'II*\u0000' || buf.toString('latin1', 0, 4) === 'MM\u0000*')) return 'tiff';
  if (buf.length >= 2 && buf.toString('latin1', 0, 2) === 'BM') return 'bmp';
  if (buf.length >= 12 && buf.toString('latin1', 4, 8) === 'ftyp') {
    const brand = buf.toString('latin1', 8, 12);
    if (brand.startsWith('avi')) return 'avif';
    if (['heic', 'heix', 'mif1', 'msf1', 'hevc'].includes(brand)) return 'heif';
  }
  return null;
}

/** The format an extension promises (lower-case, without the dot), or null for extensions we do not know. */
export function formatOfExtension(ext: string): string | null {
  switch (ext.toLowerCase()) {
    case 'jpg':
    case 'jpeg':
    case 'jpe':
    case 'jfif':
      return 'jpeg';
    case 'png':
      return 'png';
    case 'gif':
      return 'gif';
    case 'webp':
      return 'webp';
    case 'tif':
    case 'tiff':
      return 'tiff';
    case 'bmp':
      return 'bmp';
    case 'avif':
      return 'avif';
    case 'heic':
    case 'heif':
      return 'heif';
    default:
      return null;
  }
}

export const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'jpe', 'jfif', 'png', 'gif', 'webp', 'tif', 'tiff', 'bmp', 'avif', 'heic', 'heif']);

/**
 * Whether the file stops before its format's end marker: a JPEG whose last end-of-image marker (FFD9) comes
 * before its last start-of-scan (FFDA), a PNG without an IEND chunk. Decided from the bytes, because the
 * decoder's own message is not reliable under concurrency: libvips keeps one error buffer, and sharp then
 * reports only "Warning treated as error due to failOn setting".
 */
export function endsEarly(buf: Buffer, magic: string | null): boolean {
  if (magic === 'jpeg') {
    const lastEoi = buf.lastIndexOf(Buffer.from([0xff, 0xd9]));
    const lastSos = buf.lastIndexOf(Buffer.from([0xff, 0xda]));
    return lastEoi < 0 || lastEoi < lastSos;
  }
  if (magic === 'png') return buf.lastIndexOf(Buffer.from('IEND', 'latin1')) < 0;
  return false;
}

function classify(message: string, magic: string | null, buf: Buffer): DecodeStatus {
  if (/pixel limit/i.test(message)) return 'too-large';
  if (magic === null && /unsupported image format|bad seek|input buffer/i.test(message)) return 'not-an-image';
  if (endsEarly(buf, magic)) return 'truncated';
  if (/premature end|truncat|unexpected end|end of (file|stream|data|input)|not enough data|short read|out of data/i.test(message)) {
    return 'truncated';
  }
  return 'unreadable';
}

const EMPTY: Omit<ScanResult, 'sha256' | 'magic' | 'decodeStatus' | 'decodeError'> = {
  format: null,
  width: null,
  height: null,
  channels: null,
  space: null,
  hasAlpha: null,
  orientation: null,
  phash: null,
  phashFine: null,
};

/** Scans bytes already read (the caller hashed nothing yet). Never throws for a bad image: it records why. */
export async function scanBuffer(buf: Buffer): Promise<ScanResult> {
  const digest = sha256(buf);
  const magic = sniffFormat(buf);
  if (buf.length === 0) {
    return { ...EMPTY, sha256: digest, magic, decodeStatus: 'empty', decodeError: 'the file is empty (0 bytes)' };
  }
  let meta: Metadata | null = null;
  try {
    const image = sharp(buf, { failOn: 'warning', limitInputPixels: PIXEL_LIMIT });
    meta = await image.metadata();
    // One full decode (failOn set: this is where truncation shows), both hashes from its grid.
    const grid = await greyGrid(image);
    const [hash, fine] = await Promise.all([dhashOfGrid(grid), dhashFine(grid)]);
    return {
      sha256: digest,
      magic,
      format: meta.format ?? null,
      width: meta.width ?? null,
      height: meta.height ?? null,
      channels: meta.channels ?? null,
      space: meta.space ?? null,
      hasAlpha: meta.hasAlpha ?? null,
      orientation: meta.orientation ?? null,
      decodeStatus: 'ok',
      decodeError: null,
      phash: hashToHex(hash),
      phashFine: fine,
    };
  } catch (err) {
    let message = err instanceof Error ? err.message : String(err);
    if (/Warning treated as error/i.test(message)) {
      message = endsEarly(buf, magic)
        ? `the file ends before its end-of-image marker (${buf.length} bytes): truncated`
        : 'the decoder found corrupt data (a warning, refused with failOn)';
    }
    return {
      ...EMPTY,
      // What the header said is still worth keeping for a file that fails later in the decode.
      format: meta?.format ?? null,
      width: meta?.width ?? null,
      height: meta?.height ?? null,
      channels: meta?.channels ?? null,
      space: meta?.space ?? null,
      hasAlpha: meta?.hasAlpha ?? null,
      orientation: meta?.orientation ?? null,
      sha256: digest,
      magic,
      decodeStatus: classify(message, magic, buf),
      decodeError: message.split('\n')[0] ?? message,
    };
  }
}
