/**
 * Reading one file once: its bytes (sha256), what its first bytes say it is, and a full decode with sharp
 * (`failOn: 'warning'`, a pixel limit) that records format, size, colour space, alpha, EXIF orientation and
 * the perceptual hash. `metadata()` alone succeeds on truncated JPEGs; the decode is what finds them.
 *
 * A file up to IN_MEMORY_MAX is read once into memory and hashed and decoded from there; a larger one is
 * hashed as a stream (memory stays flat, and Node's 2 GiB limit on one read does not apply) and decoded by
 * sharp from its path.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
  const markers = new EndMarkers();
  markers.add(buf);
  return markers.endsEarly(magic);
}

const EOI = Buffer.from([0xff, 0xd9]);
const SOS = Buffer.from([0xff, 0xda]);
const IEND = Buffer.from('IEND', 'latin1');

/** The last end-of-image / start-of-scan / IEND positions of a file fed in chunks (a marker may straddle two). */
class EndMarkers {
  #offset = 0;
  #carry = Buffer.alloc(0);
  #lastEoi = -1;
  #lastSos = -1;
  #iend = false;

  add(chunk: Buffer): void {
    const data = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const base = this.#offset - this.#carry.length;
    const eoi = data.lastIndexOf(EOI);
    const sos = data.lastIndexOf(SOS);
    if (eoi >= 0) this.#lastEoi = Math.max(this.#lastEoi, base + eoi);
    if (sos >= 0) this.#lastSos = Math.max(this.#lastSos, base + sos);
    if (!this.#iend && data.includes(IEND)) this.#iend = true;
    this.#offset += chunk.length;
    this.#carry = Buffer.from(data.subarray(Math.max(0, data.length - 3)));
  }

  endsEarly(magic: string | null): boolean {
    if (magic === 'jpeg') return this.#lastEoi < 0 || this.#lastEoi < this.#lastSos;
    if (magic === 'png') return !this.#iend;
    return false;
  }
}

/** What the bytes alone say: content hash, signature, size, whether the format's end marker is missing. */
export interface FileFacts {
  sha256: string;
  magic: string | null;
  bytes: number;
  endsEarly: boolean;
}

export function factsOfBuffer(buf: Buffer): FileFacts {
  const magic = sniffFormat(buf);
  return { sha256: sha256(buf), magic, bytes: buf.length, endsEarly: endsEarly(buf, magic) };
}

/** The same facts from a stream of the file: memory stays at one chunk whatever the file's size. */
export async function factsOfStream(path: string | Buffer): Promise<FileFacts> {
  const hash = createHash('sha256');
  const markers = new EndMarkers();
  let head = Buffer.alloc(0);
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    markers.add(chunk);
    if (head.length < 16) head = Buffer.concat([head, chunk.subarray(0, 16 - head.length)]);
    bytes += chunk.length;
  }
  const magic = sniffFormat(head);
  return { sha256: hash.digest('hex'), magic, bytes, endsEarly: markers.endsEarly(magic) };
}

const TRUNCATION_WORDS = /premature end|truncat|unexpected end|end of (file|stream|data|input)|not enough data|short read|out of data/i;

/** The formats whose end is decided from the bytes (endsEarly): a decoder's words about their end are not needed. */
const END_FROM_BYTES = new Set(['jpeg', 'png']);

/** How libvips's loaders sign their messages, by the format sniffFormat names. */
const DECODER_SIGNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['jpeg', /jpeg/i],
  ['png', /png/i],
  ['gif', /gif/i],
  ['webp', /webp/i],
  ['tiff', /tiff/i],
  ['heif', /heif|heic|avif/i],
];

/**
 * Whether a decoder's message cannot be about this file: signed by another format's loader, or (for a JPEG or
 * PNG, whose end the bytes decide) about an end the bytes show is there. libvips keeps one error buffer, so a
 * file that fails while another fails beside it can be handed the other's words (a corrupt PNG was reported
 * with "VipsJpeg: premature end of JPEG image" one import in eight).
 */
export function notItsOwn(message: string, magic: string | null, endsEarly: boolean): boolean {
  if (magic === null) return false;
  const family = magic === 'avif' ? 'heif' : magic;
  const signs = DECODER_SIGNS.filter(([, re]) => re.test(message)).map(([f]) => f);
  if (signs.length > 0 && !signs.includes(family)) return true;
  return END_FROM_BYTES.has(magic) && !endsEarly && TRUNCATION_WORDS.test(message);
}

function classify(message: string, magic: string | null, facts: FileFacts): DecodeStatus {
  if (/pixel limit/i.test(message)) return 'too-large';
  if (magic === null && /unsupported image format|bad seek|input buffer/i.test(message)) return 'not-an-image';
  if (facts.endsEarly) return 'truncated';
  if (magic !== null && END_FROM_BYTES.has(magic)) return 'unreadable';
  return TRUNCATION_WORDS.test(message) ? 'truncated' : 'unreadable';
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

/** Files up to this size are read once into memory; larger ones are streamed (hash) and decoded from their path. */
export const IN_MEMORY_MAX = 32 * 1024 * 1024;

/** Scans bytes already read. Never throws for a bad image: it records why. */
export async function scanBuffer(buf: Buffer): Promise<ScanResult> {
  return decodeScan(buf, factsOfBuffer(buf));
}

/**
 * Scans a file: read whole when small, else hashed as a stream and decoded from its path. Throws only when
 * the file cannot be read at all (the caller records that as the row's error).
 */
export async function scanFile(path: string | Buffer, size: number): Promise<ScanResult> {
  if (size <= IN_MEMORY_MAX) return scanBuffer(await readFile(path));
  const facts = await factsOfStream(path);
  if (typeof path !== 'string') {
    // sharp opens files by a string path only; this name is not UTF-8 (fs-names.ts)
    return { ...EMPTY, sha256: facts.sha256, magic: facts.magic, decodeStatus: 'unreadable', decodeError: `not decoded: a file over ${IN_MEMORY_MAX / 1024 / 1024} MiB whose name is not UTF-8; rename it and import again` };
  }
  return decodeScan(path, facts);
}

/** The full decode of `input` (bytes, or a path for a large file) given what its bytes said. */
export async function decodeScan(input: Buffer | string, facts: FileFacts): Promise<ScanResult> {
  const { sha256: digest, magic } = facts;
  if (facts.bytes === 0) {
    return { ...EMPTY, sha256: digest, magic, decodeStatus: 'empty', decodeError: 'the file is empty (0 bytes)' };
  }
  let meta: Metadata | null = null;
  try {
    const image = sharp(input, { failOn: 'warning', limitInputPixels: PIXEL_LIMIT });
    meta = await image.metadata();
    // One full decode (failOn set: this is where truncation shows), both hashes from its grid.
    const grid = await greyGrid(image);
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
      phash: hashToHex(dhashOfGrid(grid)),
      phashFine: dhashFine(grid),
    };
  } catch (err) {
    let message = err instanceof Error ? err.message : String(err);
    if (/Warning treated as error/i.test(message) || notItsOwn(message, magic, facts.endsEarly)) {
      message = facts.endsEarly
        ? `the file ends before its end-of-image marker (${facts.bytes} bytes): truncated`
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
      decodeStatus: classify(message, magic, facts),
      decodeError: message.split('\n')[0] ?? message,
    };
  }
}
