/**
 * The image pipeline every model shares: sharp decode → EXIF orientation → 3-channel sRGB (CMYK and grey
 * converted, alpha flattened on white) → square resize → uint8 RGB. The uint8 result is cached on disk per
 * (sha256, size, mode), so the second epoch, the second run and the second model at one size decode nothing.
 * Tensors are made per batch (augmentation.ts, batchTensor) and never for the whole set.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { AppError } from '../../../shared/errors';
import { writeFileAtomic } from '../atomic-write';
import { throwIfAborted } from '../jobs/progress';

import type { ResizeMode } from '../../../shared/names';
export { RESIZE_MODES, type ResizeMode } from '../../../shared/names';

/** The same pixel limit the scan uses against decompression bombs. */
const PIXEL_LIMIT = 268_402_689;

export interface ImageSource {
  /** Cache key: the file's bytes, not its name. */
  sha256: string;
  path: string;
}

/** The photo as the person sees it: EXIF-rotated, 8-bit sRGB, transparency on white; first page, pixel-limited. */
function asSeen(input: string | Buffer, failOn: 'none' | 'warning'): ReturnType<typeof sharp> {
  return sharp(input, { failOn, limitInputPixels: PIXEL_LIMIT, pages: 1 })
    .rotate() // EXIF orientation
    .toColourspace('srgb') // CMYK, grey, 16-bit → 8-bit sRGB
    .flatten({ background: { r: 255, g: 255, b: 255 } });
}

/** The whole photo at its own size as RGB rows (what the face detector and the face crops read). */
export async function fullRgb(input: string | Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await asSeen(input, 'none').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return { data, width: info.width, height: info.height };
}

/**
 * One image (a path or its bytes) as size·size·3 bytes of sRGB, rows top to bottom, as the person sees the
 * photo. `failOn: 'warning'` refuses a truncated or corrupt file instead of decoding what is there. Throws
 * sharp's own error.
 */
export async function rgbPixels(input: string | Buffer, size: number, mode: ResizeMode, failOn: 'none' | 'warning' = 'none'): Promise<Uint8Array> {
  const fit = mode === 'fill' ? 'fill' : mode === 'crop' ? 'cover' : 'contain';
  const { data, info } = await asSeen(input, failOn)
    .resize(size, size, { fit, kernel: 'lanczos3', background: { r: 0, g: 0, b: 0 } })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Decodes one file into size·size·3 bytes of sRGB (what is there of a truncated file); IO error naming the file. */
export async function decodeRgb(path: string, size: number, mode: ResizeMode): Promise<Uint8Array> {
  try {
    return await rgbPixels(path, size, mode);
  } catch (err) {
    throw new AppError('IO', `cannot decode ${path}: ${(err as Error).message}`);
  }
}

export function pixelCacheDir(cacheDir: string, size: number, mode: ResizeMode): string {
  return join(cacheDir, 'pixels', `${mode}-${size}`);
}

export function pixelCacheFile(cacheDir: string, sha256: string, size: number, mode: ResizeMode): string {
  return join(pixelCacheDir(cacheDir, size, mode), sha256.slice(0, 2), `${sha256}.rgb`);
}

/** Reads the cached pixels of one image, or decodes and caches them. A corrupt cache entry is rebuilt. */
export async function cachedRgb(cacheDir: string, src: ImageSource, size: number, mode: ResizeMode): Promise<Uint8Array> {
  const file = pixelCacheFile(cacheDir, src.sha256, size, mode);
  const expected = size * size * 3;
  try {
    const buf = await readFile(file);
    if (buf.byteLength === expected) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch {
    // not cached yet
  }
  let rgb: Uint8Array;
  try {
    rgb = await rgbPixels(src.path, size, mode);
  } catch (err) {
    // a library image: the audit finds it, and excluding it keeps it out of training and features
    throw new AppError('IO', `cannot decode ${src.path}: ${(err as Error).message}; run 'mask-studio audit' and exclude it`);
  }
  await writeFileAtomic(file, rgb);
  return rgb;
}

export interface LoadOptions {
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Pixels for many images (in order), decoding the uncached ones a few at a time. */
export async function loadPixels(
  cacheDir: string,
  sources: readonly ImageSource[],
  size: number,
  mode: ResizeMode,
  opts: LoadOptions = {},
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = new Array<Uint8Array>(sources.length);
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < sources.length && !failed) {
      throwIfAborted(opts.signal);
      const i = next++;
      const src = sources[i];
      if (!src) continue;
      try {
        out[i] = await cachedRgb(cacheDir, src, size, mode);
      } catch (err) {
        failed = true;
        throw err;
      }
      done++;
      opts.onProgress?.(done, sources.length);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, sources.length));
  // every decode in flight ends before the error leaves: a caller that cleans up after a failure then
  // finds no write still coming
  const settled = await Promise.allSettled(Array.from({ length: n }, worker));
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return out;
}

/** Packs images into one NHWC float32 buffer of raw [0, 255] values (the FeatureExtractor's ImageBatch). */
export function packPixels(images: readonly Uint8Array[], size: number): Float32Array {
  const per = size * size * 3;
  const out = new Float32Array(images.length * per);
  images.forEach((img, i) => {
    if (img.length !== per) throw new RangeError(`image ${i}: ${img.length} bytes, expected ${per} (${size}×${size}×3)`);
    out.set(img, i * per);
  });
  return out;
}

export async function clearPixelCache(cacheDir: string): Promise<void> {
  await rm(join(cacheDir, 'pixels'), { recursive: true, force: true });
}
