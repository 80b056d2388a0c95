/**
 * 64-bit difference hash (dHash): grey, 9×8, one bit per horizontal neighbour pair (left brighter than right).
 *
 * Why dHash and not pHash: it survives exactly what near duplicates in a scraped photo set go through
 * (rescaling, re-encoding, mild colour change), it needs no DCT, and its bits are close to independent on
 * unrelated photos, so a small Hamming radius separates copies from look-alikes. Orientation is applied
 * and alpha is flattened on white first, so a rotated-by-EXIF or transparent copy hashes like the original.
 */
import type { Sharp } from 'sharp';
import { resizeGrey } from './vips-resize';

export const HASH_WIDTH = 9;
export const HASH_HEIGHT = 8;
/** The intermediate grid is this many times the hash grid (see dhash). */
const MID_SCALE = 8;

/**
 * The one full decode both hashes start from: oriented, alpha flattened on white, grey, 256×256. A JPEG
 * still decodes at a reduced DCT scale for most photos, and 256 px is far above both hash grids, so hashing
 * from it gives the same bits as decoding straight to each grid, for one decode instead of two.
 */
export interface GreyGrid {
  data: Uint8Array;
  width: number;
  height: number;
}

export const GRID_SIDE = 256;

/**
 * Decodes `image` once into the grid both hashes are computed from. The pipeline is used, not cloned: a
 * clone copies its input buffer (structuredClone), and `metadata()` before this leaves it usable.
 */
export async function greyGrid(image: Sharp): Promise<GreyGrid> {
  const out = await image
    .rotate()
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(GRID_SIDE, GRID_SIDE, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: out.data, width: out.info.width, height: out.info.height };
}

/** dHash of a decoded image; `image` is a sharp pipeline (used up). */
export async function dhash(image: Sharp): Promise<bigint> {
  return dhashOfGrid(await greyGrid(image));
}

/**
 * The 64-bit dHash. Two steps, because one resize straight to 9×8 made the hash unstable: on the real Spot
 * the Mask images a copy resized to 70 % and re-encoded at JPEG quality 60 moved by up to 13 bits (95th
 * percentile 7), as near-equal neighbours on flat backgrounds flipped. Going through 72×64 and then a cubic
 * 8× reduction averages each cell smoothly: the same copies move by at most 6 bits (99th percentile 3),
 * while different photos stay about as far apart (1st percentile 19 bits, was 20;
 * `npm run bench -- near-duplicates`). Both reductions are libvips's own arithmetic (vips-resize.ts), run
 * here instead of in two more sharp pipelines.
 */
export function dhashOfGrid(grid: GreyGrid): bigint {
  const mid = resizeGrey(grid, HASH_WIDTH * MID_SCALE, HASH_HEIGHT * MID_SCALE, 'lanczos3');
  return dhashFromGrey(resizeGrey(mid, HASH_WIDTH, HASH_HEIGHT, 'cubic').data);
}

/** dHash of a 9×8 greyscale buffer, row-major. */
export function dhashFromGrey(pixels: Uint8Array): bigint {
  if (pixels.length !== HASH_WIDTH * HASH_HEIGHT) {
    throw new Error(`dhash expects ${HASH_WIDTH * HASH_HEIGHT} grey pixels, got ${pixels.length}`);
  }
  let hash = 0n;
  for (let y = 0; y < HASH_HEIGHT; y++) {
    for (let x = 0; x < HASH_WIDTH - 1; x++) {
      const left = pixels[y * HASH_WIDTH + x]!;
      const right = pixels[y * HASH_WIDTH + x + 1]!;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash;
}

export function hashToHex(hash: bigint): string {
  return hash.toString(16).padStart(16, '0');
}

export function hexToHash(hex: string): bigint {
  if (!/^[0-9a-f]{16}$/.test(hex)) throw new Error(`not a 64-bit hex hash: '${hex}'`);
  return BigInt(`0x${hex}`);
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Hamming distance of two 64-bit hashes given as (hi, lo) 32-bit halves. */
export function hamming32(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return popcount32((aHi ^ bHi) >>> 0) + popcount32((aLo ^ bLo) >>> 0);
}

export function hamming(a: bigint, b: bigint): number {
  return hamming32(Number(a >> 32n), Number(a & 0xffffffffn), Number(b >> 32n), Number(b & 0xffffffffn));
}
