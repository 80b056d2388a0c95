/**
 * The 256-bit dHash (17×16 grid) that confirms a near-duplicate candidate the 64-bit index found. Finer
 * grid, same rule: it tells a crop or a colour-shifted copy (≤ 62 bits apart on Spot the Mask) from an
 * unrelated photo whose coarse hash happens to be close (≥ 69 bits apart).
 */
import type { GreyGrid } from './phash';
import { resizeGrey } from './vips-resize';

export const FINE_WIDTH = 17;
export const FINE_HEIGHT = 16;

/** 256-bit dHash as 64 hex characters, row-major, most significant bit first, from the shared grey grid. */
export function dhashFine(grid: GreyGrid): string {
  const px = resizeGrey(grid, FINE_WIDTH, FINE_HEIGHT, 'lanczos3').data;
  let hex = '';
  let nibble = 0;
  let bits = 0;
  for (let y = 0; y < FINE_HEIGHT; y++) {
    for (let x = 0; x < FINE_WIDTH - 1; x++) {
      nibble = (nibble << 1) | (px[y * FINE_WIDTH + x]! > px[y * FINE_WIDTH + x + 1]! ? 1 : 0);
      if (++bits === 4) {
        hex += nibble.toString(16);
        nibble = 0;
        bits = 0;
      }
    }
  }
  return hex;
}

const NIBBLE_BITS = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/** Hamming distance of two equal-length hex strings. */
export function hammingHex(a: string, b: string): number {
  if (a.length !== b.length) throw new Error(`hashes of different lengths: ${a.length} and ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += NIBBLE_BITS[parseInt(a[i]!, 16) ^ parseInt(b[i]!, 16)]!;
  return d;
}
