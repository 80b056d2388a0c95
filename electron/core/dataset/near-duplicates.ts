/**
 * All pairs of 64-bit perceptual hashes within a Hamming radius, without comparing every pair, and the
 * clusters they form.
 *
 * Multi-index hashing (Norouzi, Punjani & Fleet, 2012): split the 64 bits into m chunks. The chunk distances
 * of a pair add up to its full distance, so a pair within r has at least one chunk within s = floor(r/m).
 * Each chunk gets a bucket table indexed directly by the chunk's value; every occupied bucket is compared with
 * the buckets within s bits of it, and a candidate pair is checked on all 64 bits. A pair is reported only by
 * the first chunk in which it is within s, so no set of seen pairs is needed. m is chosen per call by a cost
 * model (table size + bucket probes + expected candidates on uniform hashes). A BK-tree was measured too: on
 * 64-bit hashes almost every node is 32 ± 4 bits away, so a query prunes little, and it was slower than brute
 * force (test/bench/near-duplicates.ts prints both).
 */
import { hexToHash } from './phash';

/**
 * The default radius for dHash (phash.ts), chosen by measurement (`npm run bench -- near-duplicates`):
 * - real Spot the Mask, 1,617 images: a copy resized to 70 % and re-encoded at JPEG quality 60 moved by ≤ 5 bits
 *   in 1,615 cases (p99 3, max 6). Pairs of different files within 5: 8, of which 7 are true near duplicates
 *   (the two identical pairs, the labelled/test pair, crops) and 1 a look-alike (two studio portraits on white).
 * - 400 synthetic faces (test/fixtures): copies ≤ 5 bits in 399 (max 7); different faces ≥ 6 bits apart.
 * Radius 4 loses a true train/test crop and 6 of the 400 synthetic copies; 6 joins 9 more real pairs, most of
 * them different photos.
 */
export const DEFAULT_NEAR_RADIUS = 5;

/** N hashes as two 32-bit halves: `hi[i]` holds bits 63..32 of hash i, `lo[i]` bits 31..0. */
export interface PackedHashes {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
}

/** Pairs `a[k] < b[k]` (indices into the hashes) at Hamming distance `distance[k]`, for k < count. */
export interface NearPairs {
  readonly count: number;
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  readonly distance: Uint8Array;
}

export interface NearCluster {
  /** Indices into the hashes, ascending. */
  readonly members: number[];
  /** Pairs within the radius inside this cluster (a chain a–b–c counts 2 even if a–c is farther). */
  readonly pairCount: number;
  readonly minDistance: number;
  readonly maxDistance: number;
}

export interface FindOptions {
  /** Number of chunks (3..16); chosen by the cost model when absent. */
  readonly chunks?: number;
}

const MIN_CHUNKS = 3;
const MAX_CHUNKS = 16;

export function packHashes(values: readonly bigint[]): PackedHashes {
  const hi = new Uint32Array(values.length);
  const lo = new Uint32Array(values.length);
  values.forEach((v, i) => {
    if (v < 0n || v > 0xffffffffffffffffn) throw new Error(`hash ${i} is not a 64-bit unsigned value: ${v}`);
    hi[i] = Number(v >> 32n);
    lo[i] = Number(v & 0xffffffffn);
  });
  return { hi, lo };
}

/** From the 16-digit lowercase hex strings `hashToHex` writes (what the library stores). */
export function packHexHashes(hex: readonly string[]): PackedHashes {
  const hi = new Uint32Array(hex.length);
  const lo = new Uint32Array(hex.length);
  hex.forEach((h, i) => {
    hexToHash(h); // validates, with a message that names the value
    hi[i] = Number.parseInt(h.slice(0, 8), 16);
    lo[i] = Number.parseInt(h.slice(8), 16);
  });
  return { hi, lo };
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function checkInput(hashes: PackedHashes, radius: number): void {
  if (hashes.hi.length !== hashes.lo.length) {
    throw new Error(`hi and lo must have the same length, got ${hashes.hi.length} and ${hashes.lo.length}`);
  }
  if (!Number.isInteger(radius) || radius < 0 || radius > 64) {
    throw new Error(`radius must be an integer in 0..64, got ${radius}`);
  }
}

/** A growable pair list. */
class PairSink {
  a = new Uint32Array(1024);
  b = new Uint32Array(1024);
  d = new Uint8Array(1024);
  count = 0;

  push(i: number, j: number, dist: number): void {
    if (this.count === this.a.length) {
      const size = this.a.length * 2;
      const a = new Uint32Array(size);
      const b = new Uint32Array(size);
      const d = new Uint8Array(size);
      a.set(this.a);
      b.set(this.b);
      d.set(this.d);
      this.a = a;
      this.b = b;
      this.d = d;
    }
    this.a[this.count] = i < j ? i : j;
    this.b[this.count] = i < j ? j : i;
    this.d[this.count] = dist;
    this.count++;
  }

  result(): NearPairs {
    return {
      count: this.count,
      a: this.a.subarray(0, this.count),
      b: this.b.subarray(0, this.count),
      distance: this.d.subarray(0, this.count),
    };
  }
}

/** The O(n²) reference: every pair compared. For tests and small inputs. */
export function findNearPairsBruteForce(hashes: PackedHashes, radius: number): NearPairs {
  checkInput(hashes, radius);
  const { hi, lo } = hashes;
  const sink = new PairSink();
  for (let i = 0; i < hi.length; i++) {
    const h = hi[i] ?? 0;
    const l = lo[i] ?? 0;
    for (let j = i + 1; j < hi.length; j++) {
      const d = popcount32((h ^ (hi[j] ?? 0)) >>> 0) + popcount32((l ^ (lo[j] ?? 0)) >>> 0);
      if (d <= radius) sink.push(i, j, d);
    }
  }
  return sink.result();
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let t = 0; t < k; t++) c = (c * (n - t)) / (t + 1);
  return c;
}

/** Bit widths of m chunks covering 64 bits as evenly as possible. */
function chunkWidths(m: number): number[] {
  const base = Math.floor(64 / m);
  const extra = 64 % m;
  return Array.from({ length: m }, (_, k) => base + (k < extra ? 1 : 0));
}

/** Expected work for m chunks on n uniform hashes: table sizes, bucket probes and candidate pairs. */
function estimateCost(n: number, radius: number, m: number): number {
  const s = Math.floor(radius / m);
  let cost = 0;
  for (const width of chunkWidths(m)) {
    const buckets = 2 ** width;
    let probes = 0;
    for (let t = 0; t <= s; t++) probes += binomial(width, t);
    // A probe into a table past the CPU caches (> 2^16 entries) costs a cache miss: weighted by measurement.
    const probeCost = width > 16 ? 3 : 1;
    cost += buckets + n + (probeCost * Math.min(n, buckets) * probes) / 2 + (n * n * probes) / buckets / 2;
  }
  return cost;
}

/** The chunk count the cost model picks for n hashes at this radius. */
export function chooseChunkCount(n: number, radius: number): number {
  let best = MIN_CHUNKS;
  let bestCost = Infinity;
  for (let m = MIN_CHUNKS; m <= MAX_CHUNKS; m++) {
    // Chunks of ≤ 22 bits keep each bucket table at ≤ 16 MiB.
    if (Math.ceil(64 / m) > 22) continue;
    const cost = estimateCost(n, radius, m);
    if (cost < bestCost) {
      bestCost = cost;
      best = m;
    }
  }
  return best;
}

/** Bits [start, start + width) of the 64-bit value (bit 0 = the most significant bit of hi). */
function extractChunk(hi: number, lo: number, start: number, width: number): number {
  const end = start + width;
  const mask = width >= 32 ? 0xffffffff : (1 << width) - 1;
  if (end <= 32) return ((hi >>> (32 - end)) & mask) >>> 0;
  if (start >= 32) return ((lo >>> (64 - end)) & mask) >>> 0;
  const loBits = end - 32;
  return ((((hi << loBits) | (lo >>> (32 - loBits))) & mask) >>> 0);
}

/** Every XOR mask of `width` bits with at most `s` bits set, 0 first. */
function neighbourMasks(width: number, s: number): Uint32Array {
  const out: number[] = [0];
  const grow = (prefix: number, from: number, left: number): void => {
    for (let bit = from; bit < width; bit++) {
      const m = (prefix | (1 << bit)) >>> 0;
      out.push(m);
      if (left > 1) grow(m, bit + 1, left - 1);
    }
  };
  if (s > 0) grow(0, 0, s);
  return Uint32Array.from(out);
}

/** Each chunk's value of every hash: values[k][i] is chunk k of hash i. */
function chunkValues(hi: Uint32Array, lo: Uint32Array, widths: readonly number[]): Uint32Array[] {
  const n = hi.length;
  const values: Uint32Array[] = [];
  let start = 0;
  for (const width of widths) {
    const v = new Uint32Array(n);
    for (let i = 0; i < n; i++) v[i] = extractChunk(hi[i] ?? 0, lo[i] ?? 0, start, width);
    values.push(v);
    start += width;
  }
  return values;
}

/**
 * Counting sort by chunk value: bucket u holds positions offset[u] .. offset[u + 1] - 1, indices ascending.
 * The hashes are copied in that order so the candidate loops read memory sequentially.
 */
interface Buckets {
  offset: Int32Array;
  order: Uint32Array;
  sHi: Uint32Array;
  sLo: Uint32Array;
}

function bucketsOf(v: Uint32Array, hi: Uint32Array, lo: Uint32Array, width: number): Buckets {
  const n = v.length;
  const size = 2 ** width;
  const offset = new Int32Array(size + 1);
  for (let i = 0; i < n; i++) offset[(v[i] ?? 0) + 1]++;
  for (let u = 0; u < size; u++) offset[u + 1] = (offset[u + 1] ?? 0) + (offset[u] ?? 0);
  const order = new Uint32Array(n);
  const sHi = new Uint32Array(n);
  const sLo = new Uint32Array(n);
  const fill = offset.slice(0, size);
  for (let i = 0; i < n; i++) {
    const u = v[i] ?? 0;
    const at = fill[u] ?? 0;
    order[at] = i;
    sHi[at] = hi[i] ?? 0;
    sLo[at] = lo[i] ?? 0;
    fill[u] = at + 1;
  }
  return { offset, order, sHi, sLo };
}

/** Every pair of positions x in [xStart, xEnd) and y in [yStart, yEnd) (y > x within one bucket) within radius. */
function compareRanges(b: Buckets, xStart: number, xEnd: number, yStart: number, yEnd: number, radius: number, emit: (x: number, y: number, d: number) => void): void {
  const { sHi, sLo } = b;
  const same = xStart === yStart;
  for (let x = xStart; x < xEnd; x++) {
    const h = sHi[x] ?? 0;
    const l = sLo[x] ?? 0;
    for (let y = same ? x + 1 : yStart; y < yEnd; y++) {
      const d = popcount32((h ^ (sHi[y] ?? 0)) >>> 0) + popcount32((l ^ (sLo[y] ?? 0)) >>> 0);
      if (d <= radius) emit(x, y, d);
    }
  }
}

/** The pairs that chunk k finds: the same bucket, and buckets within s bits, each pair of buckets once. */
function scanChunk(k: number, values: readonly Uint32Array[], b: Buckets, width: number, s: number, radius: number, sink: PairSink): void {
  const v = values[k]!;
  const n = v.length;
  const masks = neighbourMasks(width, s);
  // A pair within s on an earlier chunk was reported there.
  const emit = (x: number, y: number, d: number): void => {
    const i = b.order[x] ?? 0;
    const j = b.order[y] ?? 0;
    for (let e = 0; e < k; e++) {
      const ev = values[e];
      if (ev !== undefined && popcount32(((ev[i] ?? 0) ^ (ev[j] ?? 0)) >>> 0) <= s) return;
    }
    sink.push(i, j, d);
  };
  let p = 0;
  while (p < n) {
    const u = v[b.order[p] ?? 0] ?? 0;
    const uStart = p;
    const uEnd = b.offset[u + 1] ?? n;
    p = uEnd;
    compareRanges(b, uStart, uEnd, uStart, uEnd, radius, emit);
    // Each pair of distinct buckets once: from the smaller value.
    for (let t = 1; t < masks.length; t++) {
      const w = (u ^ (masks[t] ?? 0)) >>> 0;
      if (w < u) continue;
      const wStart = b.offset[w] ?? 0;
      const wEnd = b.offset[w + 1] ?? 0;
      if (wStart !== wEnd) compareRanges(b, uStart, uEnd, wStart, wEnd, radius, emit);
    }
  }
}

/** Every pair within `radius`, exactly (no pair missed, none reported twice), in no particular order. */
export function findNearPairs(hashes: PackedHashes, radius: number, options: FindOptions = {}): NearPairs {
  checkInput(hashes, radius);
  const { hi, lo } = hashes;
  const n = hi.length;
  const m = options.chunks ?? chooseChunkCount(n, radius);
  if (!Number.isInteger(m) || m < MIN_CHUNKS || m > MAX_CHUNKS) {
    throw new Error(`chunks must be an integer in ${MIN_CHUNKS}..${MAX_CHUNKS}, got ${m}`);
  }
  const sink = new PairSink();
  if (n < 2) return sink.result();
  const s = Math.floor(radius / m);
  const widths = chunkWidths(m);
  const values = chunkValues(hi, lo, widths);
  for (let k = 0; k < m; k++) {
    const width = widths[k] ?? 0;
    scanChunk(k, values, bucketsOf(values[k]!, hi, lo, width), width, s, radius, sink);
  }
  return sink.result();
}

/** Connected components of the pair graph (union-find), clusters of two or more, ordered by first member. */
export function clusterNearPairs(n: number, pairs: NearPairs): NearCluster[] {
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    let root = x;
    while ((parent[root] ?? root) !== root) root = parent[root] ?? root;
    while (x !== root) {
      const next = parent[x] ?? root;
      parent[x] = root;
      x = next;
    }
    return root;
  };
  for (let k = 0; k < pairs.count; k++) {
    const a = pairs.a[k] ?? 0;
    const b = pairs.b[k] ?? 0;
    if (a >= n || b >= n) throw new Error(`pair ${k} (${a}, ${b}) is outside 0..${n - 1}`);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  interface Acc { members: number[]; pairCount: number; minDistance: number; maxDistance: number }
  const byRoot = new Map<number, Acc>();
  for (let k = 0; k < pairs.count; k++) {
    const root = find(pairs.a[k] ?? 0);
    const d = pairs.distance[k] ?? 0;
    const acc = byRoot.get(root);
    if (acc === undefined) byRoot.set(root, { members: [], pairCount: 1, minDistance: d, maxDistance: d });
    else {
      acc.pairCount++;
      if (d < acc.minDistance) acc.minDistance = d;
      if (d > acc.maxDistance) acc.maxDistance = d;
    }
  }
  for (let i = 0; i < n; i++) byRoot.get(find(i))?.members.push(i);
  return [...byRoot.values()].sort((x, y) => (x.members[0] ?? 0) - (y.members[0] ?? 0));
}

/** Pairs within `radius` and their clusters. */
export function findNearDuplicates(
  hashes: PackedHashes,
  radius: number = DEFAULT_NEAR_RADIUS,
  options: FindOptions = {},
): { pairs: NearPairs; clusters: NearCluster[] } {
  const pairs = findNearPairs(hashes, radius, options);
  return { pairs, clusters: clusterNearPairs(hashes.hi.length, pairs) };
}

/** Pairs within `radius` of hashes given as hex strings, as plain objects (a < b), ordered by (a, b). */
export function findNearPairsHex(
  hexes: readonly string[],
  radius: number = DEFAULT_NEAR_RADIUS,
): Array<{ a: number; b: number; distance: number }> {
  const pairs = findNearPairs(packHexHashes(hexes), radius);
  const out: Array<{ a: number; b: number; distance: number }> = [];
  for (let k = 0; k < pairs.count; k++) {
    out.push({ a: pairs.a[k] ?? 0, b: pairs.b[k] ?? 0, distance: pairs.distance[k] ?? 0 });
  }
  return out.sort((x, y) => x.a - y.a || x.b - y.b);
}
