import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseChunkCount,
  clusterNearPairs,
  findNearDuplicates,
  findNearPairs,
  findNearPairsBruteForce,
  findNearPairsHex,
  packHashes,
  packHexHashes,
  type NearPairs,
  type PackedHashes,
} from '../../../electron/core/dataset/near-duplicates';
import { hamming, hashToHex } from '../../../electron/core/dataset/phash';
import { syntheticHashes } from '../../fixtures/hashes';
import { Random } from '../../fixtures/random';

function sorted(p: NearPairs): string[] {
  const out: string[] = [];
  for (let k = 0; k < p.count; k++) out.push(`${p.a[k]}-${p.b[k]}:${p.distance[k]}`);
  return out.sort();
}

function randomBigInts(n: number, seed: number): bigint[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => (BigInt(rng.uint32()) << 32n) | BigInt(rng.uint32()));
}

describe('packing', () => {
  test('bigints and hex strings pack to the same halves', () => {
    const values = [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, ...randomBigInts(20, 3)];
    const a = packHashes(values);
    const b = packHexHashes(values.map(hashToHex));
    assert.deepEqual([...a.hi], [...b.hi]);
    assert.deepEqual([...a.lo], [...b.lo]);
    assert.equal(a.hi[2], 0xffffffff);
    assert.equal(a.lo[1], 1);
    assert.equal(a.hi[3], 0x80000000);
  });

  test('bad input is refused with the value named', () => {
    assert.throws(() => packHexHashes(['12345']), /'12345'/);
    assert.throws(() => packHashes([1n << 64n]), /not a 64-bit/);
    const h = packHashes([1n, 2n]);
    assert.throws(() => findNearPairs(h, -1), /got -1/);
    assert.throws(() => findNearPairs(h, 2.5), /got 2.5/);
    assert.throws(() => findNearPairs(h, 3, { chunks: 2 }), /got 2/);
    assert.throws(() => findNearPairs({ hi: new Uint32Array(2), lo: new Uint32Array(3) }, 3), /same length/);
  });
});

describe('findNearPairs is exact (same pairs as brute force)', () => {
  test('uniform random hashes, radius 0..18, chosen chunk count', () => {
    const h = packHashes(randomBigInts(1500, 11));
    for (let r = 0; r <= 18; r++) {
      const fast = findNearPairs(h, r);
      assert.deepEqual(sorted(fast), sorted(findNearPairsBruteForce(h, r)), `radius ${r}`);
    }
    // Uniform 64-bit hashes are rarely close: make sure the comparison above was not vacuous (353 pairs).
    assert.ok(findNearPairsBruteForce(h, 18).count > 100);
  });

  test('clustered hashes, chunk counts 3..16, radius 0..14', () => {
    const h = syntheticHashes({ n: 600, seed: 5, clustered: 0.6, maxClusterSize: 12, maxFlips: 14 });
    for (const r of [0, 1, 2, 3, 4, 5, 7, 10, 14]) {
      const expected = sorted(findNearPairsBruteForce(h, r));
      for (const m of [3, 4, 5, 6, 8, 11, 16]) {
        assert.deepEqual(sorted(findNearPairs(h, r, { chunks: m })), expected, `radius ${r}, ${m} chunks`);
      }
    }
    assert.ok(findNearPairsBruteForce(h, 4).count > 50, 'the clusters give many pairs within 4 (114)');
  });

  test('pairs are ordered a < b, reported once, with their true distance', () => {
    const values = randomBigInts(300, 8);
    // Near copies of the first 50 hashes with 0..6 bits flipped.
    const rng = new Random(9);
    for (let i = 0; i < 50; i++) {
      let v = values[i] ?? 0n;
      for (let f = rng.int(0, 6); f > 0; f--) v ^= 1n << BigInt(rng.int(0, 63));
      values.push(v);
    }
    const p = findNearPairs(packHashes(values), 6);
    const seen = new Set<string>();
    for (let k = 0; k < p.count; k++) {
      const a = p.a[k] ?? 0;
      const b = p.b[k] ?? 0;
      assert.ok(a < b);
      assert.ok(!seen.has(`${a}-${b}`), `pair ${a}-${b} twice`);
      seen.add(`${a}-${b}`);
      assert.equal(p.distance[k], hamming(values[a] ?? 0n, values[b] ?? 0n));
    }
    assert.ok(p.count >= 50);
  });

  test('many identical hashes: every pair, at distance 0', () => {
    const values = [...Array.from({ length: 60 }, () => 0x0123456789abcdefn), ...randomBigInts(200, 4)];
    const { pairs, clusters } = findNearDuplicates(packHashes(values), 3);
    const identical = sorted(pairs).filter((s) => s.endsWith(':0'));
    assert.equal(identical.length, (60 * 59) / 2);
    assert.deepEqual(sorted(pairs), sorted(findNearPairsBruteForce(packHashes(values), 3)));
    const big = clusters.find((c) => c.members.length >= 60);
    assert.ok(big);
    assert.deepEqual(big.members.slice(0, 60), Array.from({ length: 60 }, (_, i) => i));
    assert.equal(big.minDistance, 0);
  });

  test('empty and single inputs', () => {
    const empty: PackedHashes = { hi: new Uint32Array(0), lo: new Uint32Array(0) };
    assert.equal(findNearPairs(empty, 5).count, 0);
    assert.deepEqual(findNearDuplicates(empty).clusters, []);
    assert.equal(findNearPairs(packHashes([42n]), 64).count, 0);
    assert.equal(findNearPairs(packHashes([0n, 0xffffffffffffffffn]), 64).count, 1);
    assert.equal(findNearPairs(packHashes([0n, 0xffffffffffffffffn]), 63).count, 0);
  });
});

describe('clusters', () => {
  test('a chain joins through its middle; min and max are over linked pairs', () => {
    const a = 0n;
    const b = 0b111n; // 3 from a
    const c = 0b111111n; // 3 from b, 6 from a
    const far = 0xffff0000ffff0000n;
    const farNear = far ^ 1n;
    const lone = 0x00ff00ff00ff00ffn;
    const values = [lone, c, far, a, farNear, b];
    const { pairs, clusters } = findNearDuplicates(packHashes(values), 4);
    assert.equal(pairs.count, 3);
    assert.deepEqual(
      clusters.map((cl) => ({ ...cl })),
      [
        { members: [1, 3, 5], pairCount: 2, minDistance: 3, maxDistance: 3 },
        { members: [2, 4], pairCount: 1, minDistance: 1, maxDistance: 1 },
      ],
    );
  });

  test('clusters equal the connected components of the brute-force pairs', () => {
    const h = syntheticHashes({ n: 800, seed: 21, clustered: 0.5, maxClusterSize: 6, maxFlips: 6 });
    const clusters = clusterNearPairs(800, findNearPairs(h, 5));
    // Reference components by repeated flooding over the brute-force pair list.
    const brute = findNearPairsBruteForce(h, 5);
    const adj = new Map<number, number[]>();
    for (let k = 0; k < brute.count; k++) {
      const a = brute.a[k] ?? 0;
      const b = brute.b[k] ?? 0;
      adj.set(a, [...(adj.get(a) ?? []), b]);
      adj.set(b, [...(adj.get(b) ?? []), a]);
    }
    const seen = new Set<number>();
    const components: number[][] = [];
    for (const start of [...adj.keys()].sort((x, y) => x - y)) {
      if (seen.has(start)) continue;
      const comp: number[] = [];
      const stack = [start];
      seen.add(start);
      while (stack.length > 0) {
        const x = stack.pop() ?? 0;
        comp.push(x);
        for (const y of adj.get(x) ?? []) if (!seen.has(y)) (seen.add(y), stack.push(y));
      }
      components.push(comp.sort((x, y) => x - y));
    }
    assert.ok(components.length > 20);
    assert.deepEqual(clusters.map((c) => c.members), components);
    for (const c of clusters) {
      assert.ok(c.minDistance <= c.maxDistance && c.maxDistance <= 5);
      assert.ok(c.pairCount >= c.members.length - 1);
    }
  });

  test('a pair outside the hash count is refused', () => {
    const pairs = { count: 1, a: Uint32Array.of(0), b: Uint32Array.of(5), distance: Uint8Array.of(1) };
    assert.throws(() => clusterNearPairs(3, pairs), /outside 0..2/);
  });
});

describe('hex adapter and chunk choice', () => {
  test('findNearPairsHex returns sorted plain pairs equal to brute force', () => {
    const values = randomBigInts(400, 2).map((v, i) => (i % 4 === 0 ? 0x00000000ffffffffn ^ (1n << BigInt(i % 64)) : v));
    const hex = values.map(hashToHex);
    const got = findNearPairsHex(hex, 4);
    const brute = findNearPairsBruteForce(packHashes(values), 4);
    assert.equal(got.length, brute.count);
    assert.deepEqual(got.map((p) => `${p.a}-${p.b}:${p.distance}`), sorted(brute).sort((x, y) => {
      const [xa, xb] = x.split(/[-:]/).map(Number);
      const [ya, yb] = y.split(/[-:]/).map(Number);
      return (xa ?? 0) - (ya ?? 0) || (xb ?? 0) - (yb ?? 0);
    }));
  });

  test('the cost model picks more chunks for small radii and keeps tables ≤ 22 bits', () => {
    for (const r of [0, 2, 4, 8, 16, 32]) {
      const m = chooseChunkCount(100_000, r);
      assert.ok(m >= 3 && m <= 16, `r ${r}: m ${m}`);
    }
    assert.ok(chooseChunkCount(100_000, 4) >= chooseChunkCount(100_000, 0));
  });
});
