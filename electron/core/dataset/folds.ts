/**
 * K-fold assignment for out-of-fold probabilities (label doubts' logistic model and `train --folds K`): stratified by class and grouped by duplicate group.
 * Grouping is what makes a doubt trustworthy: if a clean photo and its mislabelled copy sat in different
 * folds, the model judging the clean one would have been trained on the copy's wrong label and could
 * flag the clean one. Greedy, in the spirit of scikit-learn's StratifiedGroupKFold: groups in a seeded
 * order, largest first, each into the fold whose class counts it brings closest to the per-fold target.
 */
import { AppError } from '../../../shared/errors';
import { Rng } from '../random';
import { duplicateGroups, UnionFind, type NearPairFinder } from './audit-groups';
import type { ImageRecord } from './images';

export interface FoldItem {
  /** Class index. */
  label: number;
  /** Items with the same group always share a fold (a duplicate group; a unique key for a lone image). */
  group: string | number;
}

export function assignFolds(items: readonly FoldItem[], k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw new AppError('BAD_INPUT', `folds must be an integer ≥ 2; received ${k}`);
  const classes = items.reduce((m, it) => Math.max(m, it.label + 1), 0);
  const groups = new Map<string | number, number[]>();
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as FoldItem;
    if (!Number.isInteger(it.label) || it.label < 0) throw new RangeError(`item ${i}: label ${it.label} is not a class index`);
    const list = groups.get(it.group);
    if (list) list.push(i);
    else groups.set(it.group, [i]);
  }
  if (groups.size < k) {
    throw new AppError('BAD_INPUT', `${k} folds need at least ${k} images (or duplicate groups); there are ${groups.size}`);
  }
  const counts = (members: readonly number[]): Float64Array => {
    const c = new Float64Array(classes);
    for (const i of members) c[(items[i] as FoldItem).label]! += 1;
    return c;
  };
  const total = counts(items.map((_, i) => i));
  const target = total.map((t) => t / k);
  const order = new Rng(seed).shuffle([...groups.values()]);
  // stable sort: equal sizes keep the seeded order
  order.sort((a, b) => b.length - a.length);
  const foldCounts = Array.from({ length: k }, () => new Float64Array(classes));
  const foldSizes = new Float64Array(k);
  const out = new Int32Array(items.length);
  for (const members of order) {
    const c = counts(members);
    let best = 0;
    let bestCost = Infinity;
    for (let f = 0; f < k; f++) {
      const fc = foldCounts[f] as Float64Array;
      let cost = 0;
      for (let j = 0; j < classes; j++) cost += ((fc[j] ?? 0) + (c[j] ?? 0) - (target[j] ?? 0)) ** 2 - ((fc[j] ?? 0) - (target[j] ?? 0)) ** 2;
      // ties: the emptier fold, then the lower index (deterministic)
      if (cost < bestCost - 1e-9 || (Math.abs(cost - bestCost) <= 1e-9 && (foldSizes[f] ?? 0) < (foldSizes[best] ?? 0))) {
        best = f;
        bestCost = cost;
      }
    }
    const fc = foldCounts[best] as Float64Array;
    for (let j = 0; j < classes; j++) fc[j] = (fc[j] ?? 0) + (c[j] ?? 0);
    foldSizes[best] = (foldSizes[best] ?? 0) + members.length;
    for (const i of members) out[i] = best;
  }
  return out;
}

/**
 * Image id → its duplicate component: exact and near groups merged where they share an image (an exact copy
 * of a near duplicate is in both), so all of them share a fold. A lone image is its own component.
 */
export function duplicateComponents(images: readonly ImageRecord[], nearPairs?: NearPairFinder): (id: number) => number {
  const index = new Map(images.map((img, i) => [img.id, i]));
  const sets = new UnionFind(images.length);
  for (const g of duplicateGroups(images, nearPairs)) {
    const first = g.images[0];
    if (!first) continue;
    for (const img of g.images.slice(1)) sets.union(index.get(first.id) as number, index.get(img.id) as number);
  }
  // the component's key is one of its images' ids (any member's, the same for all): a lone or unknown id is its own
  return (id) => {
    const i = index.get(id);
    return i === undefined ? id : (images[sets.find(i)] as ImageRecord).id;
  };
}
