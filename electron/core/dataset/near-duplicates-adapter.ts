// TEMPORARY brute force until near-duplicates.ts lands.
import { hamming, hexToHash } from './phash';
export function findNearPairsHex(hexes: readonly string[], radius: number): Array<{ a: number; b: number; distance: number }> {
  const hs = hexes.map(hexToHash);
  const out: Array<{ a: number; b: number; distance: number }> = [];
  for (let i = 0; i < hs.length; i++) for (let j = i + 1; j < hs.length; j++) {
    const d = hamming(hs[i]!, hs[j]!);
    if (d <= radius) out.push({ a: i, b: j, distance: d });
  }
  return out;
}

