/**
 * `npm run bench -- near-duplicates [--no-index] [--no-real]`: the near-duplicate index on 100k synthetic hashes
 * (multi-index hashing against a BK-tree and brute force), then the Hamming distances that set
 * DEFAULT_NEAR_RADIUS: different synthetic faces, their 70 %/q60 copies, and the real Spot the Mask images.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import {
  chooseChunkCount,
  clusterNearPairs,
  DEFAULT_NEAR_RADIUS,
  findNearPairs,
  findNearPairsBruteForce,
  packHashes,
  type PackedHashes,
} from '../../electron/core/dataset/near-duplicates';
import { dhash, dhashFromGrey, hamming } from '../../electron/core/dataset/phash';
import { makeFace, mapLimit, streamFor } from '../fixtures/common';
import { syntheticHashes } from '../fixtures/hashes';
import { nearCopy } from '../fixtures/render';
import { realData } from '../helpers';

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** The alternative we measured against: a BK-tree over Hamming distance, one query per hash. */
function bkTreePairCount(h: PackedHashes, radius: number): number {
  const n = h.hi.length;
  const child = new Int32Array(n * 65).fill(-1);
  const dist = (i: number, j: number): number =>
    popcount32(((h.hi[i] ?? 0) ^ (h.hi[j] ?? 0)) >>> 0) + popcount32(((h.lo[i] ?? 0) ^ (h.lo[j] ?? 0)) >>> 0);
  for (let i = 1; i < n; i++) {
    let node = 0;
    for (;;) {
      const d = dist(i, node);
      const next = child[node * 65 + d] ?? -1;
      if (next < 0) {
        child[node * 65 + d] = i;
        break;
      }
      node = next;
    }
  }
  let found = 0;
  const stack = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const node = stack[--top] ?? 0;
      const d = dist(q, node);
      if (d <= radius && node > q) found++;
      for (let e = Math.max(0, d - radius); e <= Math.min(64, d + radius); e++) {
        const c = child[node * 65 + e] ?? -1;
        if (c >= 0) stack[top++] = c;
      }
    }
  }
  return found;
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

function histogram(values: readonly number[], upTo: number): string {
  const counts = new Array<number>(upTo + 2).fill(0);
  for (const v of values) counts[Math.min(v, upTo + 1)]++;
  return counts.map((c, d) => `${d > upTo ? `>${upTo}` : d}:${c}`).join(' ');
}

function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

function indexBench(): void {
  const n = 100_000;
  const hashes = syntheticHashes({ n, seed: 7, clustered: 0.2, maxClusterSize: 8, maxFlips: 8 });
  console.log(`near-duplicates: index on ${n} hashes (80 % uniform, 20 % in planted clusters of 2-8, ≤ 8 bits flipped); one core, machine shared: noisy`);
  for (const radius of [DEFAULT_NEAR_RADIUS, 6, 8, 10]) {
    const [pairs, ms] = time(() => findNearPairs(hashes, radius));
    const [clusters, msCluster] = time(() => clusterNearPairs(n, pairs));
    console.log(
      `  r=${String(radius).padEnd(2)} multi-index (m=${chooseChunkCount(n, radius)})  ${(ms / 1000).toFixed(2)} s` +
        `  + clusters ${(msCluster / 1000).toFixed(2)} s  ${pairs.count} pairs, ${clusters.length} clusters`,
    );
  }
  // The alternatives are quadratic or close to it on 64-bit hashes: measured on 20k, scaled to 100k by n².
  const sub = { hi: hashes.hi.subarray(0, 20_000), lo: hashes.lo.subarray(0, 20_000) };
  const [mih, mihMs] = time(() => findNearPairs(sub, DEFAULT_NEAR_RADIUS));
  const [bkPairs, bkMs] = time(() => bkTreePairCount(sub, DEFAULT_NEAR_RADIUS));
  const [brute, bruteMs] = time(() => findNearPairsBruteForce(sub, DEFAULT_NEAR_RADIUS));
  console.log(`  20k hashes, r=${DEFAULT_NEAR_RADIUS}: multi-index ${(mihMs / 1000).toFixed(3)} s (${mih.count} pairs), BK-tree ${(bkMs / 1000).toFixed(2)} s (${bkPairs} pairs, ~${((bkMs * 25) / 1000).toFixed(0)} s at 100k), brute force ${(bruteMs / 1000).toFixed(2)} s (${brute.count} pairs, ~${((bruteMs * 25) / 1000).toFixed(0)} s at 100k)`);
}

/** dHash as phash.ts computed it before the two-step resize, for comparison. */
async function dhashSingleStep(image: Sharp): Promise<bigint> {
  return dhashFromGrey(
    await image.clone().rotate().flatten({ background: '#ffffff' }).greyscale().resize(9, 8, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer(),
  );
}

type Hasher = (image: Sharp) => Promise<bigint>;

async function distances(label: string, originals: readonly Buffer[], hashers: Record<string, Hasher>): Promise<void> {
  const copies = await mapLimit(originals, 4, (b) => nearCopy(b));
  for (const [name, hasher] of Object.entries(hashers)) {
    const orig = await mapLimit(originals, 4, (b) => hasher(sharp(b, { failOn: 'none' })));
    const copy = await mapLimit(copies, 4, (b) => hasher(sharp(b)));
    const copyD = orig.map((h, i) => hamming(h, copy[i] ?? 0n));
    const pairD: number[] = [];
    for (let i = 0; i < orig.length; i++) for (let j = i + 1; j < orig.length; j++) pairD.push(hamming(orig[i] ?? 0n, orig[j] ?? 0n));
    const caught = copyD.filter((d) => d <= DEFAULT_NEAR_RADIUS).length;
    const joined = pairD.filter((d) => d <= DEFAULT_NEAR_RADIUS).length;
    console.log(`  ${label}, ${name}: ${originals.length} images, ${pairD.length} pairs`);
    console.log(`    70 %/q60 copy vs original: p50 ${quantile(copyD, 0.5)} p95 ${quantile(copyD, 0.95)} p99 ${quantile(copyD, 0.99)} max ${copyD.reduce((a, b) => Math.max(a, b), 0)}; within r=${DEFAULT_NEAR_RADIUS}: ${caught}/${copyD.length}`);
    console.log(`      ${histogram(copyD, 12)}`);
    console.log(`    different images: min ${pairD.reduce((a, b) => Math.min(a, b), 64)} p1 ${quantile(pairD, 0.01)} p50 ${quantile(pairD, 0.5)}; within r=${DEFAULT_NEAR_RADIUS}: ${joined}`);
    console.log(`      lowest: ${histogram(pairD, 12)}`);
  }
}

export async function run(args: readonly string[] = []): Promise<void> {
  if (!args.includes('--no-index')) indexBench();
  console.log(`near-duplicates: distances that set DEFAULT_NEAR_RADIUS = ${DEFAULT_NEAR_RADIUS}`);
  const faces = await mapLimit(Array.from({ length: 400 }, (_, i) => i), 4, (i) => {
    const rng = streamFor(99, 7, i);
    return makeFace(rng, { width: rng.int(128, 384), height: rng.int(128, 384), masked: i % 2 === 0, format: 'jpeg', quality: 85 });
  });
  await distances('synthetic faces', faces, { dhash });
  const data = realData();
  if (args.includes('--no-real')) return;
  if ('skip' in data) {
    console.log(`  real data skipped: ${data.skip}`);
    return;
  }
  const files = [
    ...readdirSync(join(data.dir, 'images')).map((f) => join(data.dir, 'images', f)),
    ...readdirSync(join(data.dir, 'test_images')).map((f) => join(data.dir, 'test_images', f)),
  ];
  const { readFile } = await import('node:fs/promises');
  const bytes = await mapLimit(files, 4, (f) => readFile(f));
  // "different images" on the real data includes its few true near duplicates (crops, re-encodes).
  await distances('real Spot the Mask (labelled + test)', bytes, { dhash, 'single-step dHash (before)': dhashSingleStep });
  const pairs = packHashes(await mapLimit(bytes, 4, (b) => dhash(sharp(b, { failOn: 'none' }))));
  const found = findNearPairs(pairs, DEFAULT_NEAR_RADIUS);
  const rows: string[] = [];
  for (let k = 0; k < found.count; k++) {
    const a = files[found.a[k] ?? 0]?.split('/').slice(-2).join('/');
    const b = files[found.b[k] ?? 0]?.split('/').slice(-2).join('/');
    rows.push(`${found.distance[k]} ${a} ${b}`);
  }
  console.log(`  real pairs within r=${DEFAULT_NEAR_RADIUS}:\n    ${rows.sort().join('\n    ')}`);
}
