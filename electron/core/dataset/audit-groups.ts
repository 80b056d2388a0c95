/**
 * Duplicate groups: exact (same sha256) and near, built over distinct contents so an exact copy does not
 * also count as a near one. Shared by the audit and the split, which keeps every group inside one split.
 *
 * Near is two-stage. The index finds every pair whose 64-bit dHash is within NEAR_COARSE_RADIUS without
 * comparing all pairs; each candidate is then confirmed by the 256-bit dHash (within NEAR_FINE_MAX).
 * Measured on Spot the Mask (1,617 images, every pair up to coarse distance 13 looked at by eye): the 14
 * true copies (crops, colour shifts, re-encodes) sit at coarse 0–10 and fine 6–61; unrelated photos within
 * coarse 11 are at fine ≥ 66 (two people in the same studio pose, say). Either hash alone joins different
 * photos or misses crops.
 */
import type { ImageRecord } from './images';
import { findNearPairsHex } from './near-duplicates';
import { hammingHex } from './phash-fine';

export const NEAR_COARSE_RADIUS = 11;
export const NEAR_FINE_MAX = 64;

/** What grouping reads of an image; callers pass whole rows or just these columns. */
export type GroupMember = Pick<ImageRecord, 'bytes' | 'sha256' | 'phash' | 'phash_fine'>;

export interface DuplicateGroup<T extends GroupMember = ImageRecord> {
  kind: 'exact' | 'near';
  images: T[];
  /** Largest Hamming distance between two distinct contents of a near group (0 for exact). */
  maxDistance: number;
}

/** Disjoint sets over 0..n-1, with path compression; shared by the grouping here and the split's units. */
export class UnionFind {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[i] !== r) {
      const next = this.parent[i]!;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** One distinct content as the near search reads it. */
export interface NearContent {
  readonly sha256: string;
  readonly phash: string;
  readonly phash_fine: string | null;
}

/** A confirmed near pair: indices into the contents (a < b) and their coarse distance. */
export interface NearPair {
  a: number;
  b: number;
  distance: number;
}

/** Finds the confirmed near pairs among distinct contents: searched here, or read from the library's store. */
export type NearPairFinder = (contents: readonly NearContent[]) => NearPair[];

/** Every pair within NEAR_COARSE_RADIUS on the 64-bit dHash, confirmed within NEAR_FINE_MAX on the 256-bit one. */
export function searchNearPairs(contents: readonly NearContent[]): NearPair[] {
  return findNearPairsHex(
    contents.map((c) => c.phash),
    NEAR_COARSE_RADIUS,
  ).filter((p) => {
    const a = contents[p.a]!.phash_fine;
    const b = contents[p.b]!.phash_fine;
    return a !== null && b !== null && hammingHex(a, b) <= NEAR_FINE_MAX;
  });
}

export function duplicateGroups<T extends GroupMember>(images: readonly T[], nearPairs: NearPairFinder = searchNearPairs): Array<DuplicateGroup<T>> {
  const groups: Array<DuplicateGroup<T>> = [];
  // Distinct contents; empty files all share one sha256 and are no duplicates of each other.
  const bySha = new Map<string, T[]>();
  for (const img of images) {
    if (img.bytes === 0) continue;
    const list = bySha.get(img.sha256);
    if (list) list.push(img);
    else bySha.set(img.sha256, [img]);
  }
  for (const members of bySha.values()) {
    if (members.length > 1) groups.push({ kind: 'exact', images: members, maxDistance: 0 });
  }
  const contents = [...bySha.values()].filter((m) => m[0]!.phash !== null);
  const pairs = nearPairs(contents.map((m) => ({ sha256: m[0]!.sha256, phash: m[0]!.phash!, phash_fine: m[0]!.phash_fine })));
  const uf = new UnionFind(contents.length);
  const maxDist = new Map<number, number>();
  for (const p of pairs) uf.union(p.a, p.b);
  for (const p of pairs) {
    const root = uf.find(p.a);
    maxDist.set(root, Math.max(maxDist.get(root) ?? 0, p.distance));
  }
  const clusters = new Map<number, T[]>();
  for (const p of pairs) {
    for (const i of [p.a, p.b]) {
      const root = uf.find(i);
      if (!clusters.has(root)) clusters.set(root, []);
    }
  }
  for (let i = 0; i < contents.length; i++) {
    const list = clusters.get(uf.find(i));
    if (list) list.push(...contents[i]!);
  }
  for (const [root, members] of clusters) groups.push({ kind: 'near', images: members, maxDistance: maxDist.get(root) ?? 0 });
  return groups;
}
