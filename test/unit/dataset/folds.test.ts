import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { assignFolds, duplicateComponents, type FoldItem } from '../../../electron/core/dataset/folds';
import type { ImageRecord } from '../../../electron/core/dataset/images';
import { Rng } from '../../../electron/core/random';

const perFold = (items: readonly FoldItem[], folds: Int32Array, k: number, label: number): number[] => {
  const out = new Array<number>(k).fill(0);
  items.forEach((it, i) => {
    if (it.label === label) out[folds[i] ?? 0]! += 1;
  });
  return out;
};

describe('assignFolds: stratified by class, grouped by duplicate group', () => {
  test('lone images: every fold holds its share of each class, within one', () => {
    // 70 of class 0, 30 of class 1: targets 14 and 6 per fold
    const items = Array.from({ length: 100 }, (_, i) => ({ label: i < 70 ? 0 : 1, group: i }));
    const folds = assignFolds(items, 5, 3);
    for (const [label, target] of [[0, 14], [1, 6]] as const) {
      for (const c of perFold(items, folds, 5, label)) assert.ok(Math.abs(c - target) <= 1, `class ${label}: ${perFold(items, folds, 5, label).join(',')}`);
    }
  });

  test('members of a group share a fold; classes stay balanced around the groups', () => {
    const rng = new Rng(7);
    const items: FoldItem[] = [];
    for (let g = 0; g < 40; g++) {
      const size = 1 + Math.floor(rng.next() * 4);
      const label = g % 3 === 0 ? 1 : 0;
      for (let m = 0; m < size; m++) items.push({ label, group: `g${g}` });
    }
    const folds = assignFolds(items, 4, 1);
    const foldOf = new Map<string | number, number>();
    items.forEach((it, i) => {
      const f = folds[i] ?? -1;
      if (foldOf.has(it.group)) assert.equal(f, foldOf.get(it.group), `group ${it.group} split across folds`);
      foldOf.set(it.group, f);
    });
    for (const label of [0, 1]) {
      const counts = perFold(items, folds, 4, label);
      const target = counts.reduce((a, b) => a + b, 0) / 4;
      // greedy packing of groups of up to 4: each fold within one group of the target
      for (const c of counts) assert.ok(Math.abs(c - target) <= 4, `class ${label}: ${counts.join(',')} (target ${target})`);
      assert.ok(counts.every((c) => c > 0), `class ${label} absent from a fold: ${counts.join(',')}`);
    }
  });

  test('the same seed gives the same folds, another seed other folds; all k folds used', () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ label: i % 2, group: i }));
    const a = assignFolds(items, 5, 11);
    assert.deepEqual(assignFolds(items, 5, 11), a);
    assert.notDeepEqual(assignFolds(items, 5, 12), a);
    assert.deepEqual([...new Set(a)].sort(), [0, 1, 2, 3, 4]);
  });

  test('refuses fewer groups than folds, and fewer than two folds', () => {
    const items = [0, 0, 1, 1].map((label, i) => ({ label, group: i < 2 ? 'a' : 'b' }));
    assert.throws(() => assignFolds(items, 3, 1), /3 folds need at least 3/);
    assert.throws(() => assignFolds(items, 1, 1), /folds must be an integer ≥ 2; received 1/);
  });
});

describe('duplicateComponents', () => {
  test('exact and near groups that share an image are one component; a lone image and an unknown id are their own', () => {
    const image = (id: number, sha256: string): ImageRecord => ({ id, sha256, bytes: 10, phash: sha256.repeat(16).slice(0, 16), phash_fine: null }) as ImageRecord;
    // 3 and 7 are exact copies (sha b); content b is near content c (image 9); 5 (sha a) stands alone
    const images = [image(3, 'b'), image(5, 'a'), image(7, 'b'), image(9, 'c')];
    const near = (contents: ReadonlyArray<{ sha256: string }>): Array<{ a: number; b: number; distance: number }> => {
      const b = contents.findIndex((c) => c.sha256 === 'b');
      const c = contents.findIndex((c) => c.sha256 === 'c');
      return [{ a: Math.min(b, c), b: Math.max(b, c), distance: 2 }];
    };
    const group = duplicateComponents(images, near);
    assert.equal(group(3), group(7));
    assert.equal(group(3), group(9));
    assert.notEqual(group(5), group(3));
    assert.equal(group(5), 5);
    assert.equal(group(42), 42);
  });
});
