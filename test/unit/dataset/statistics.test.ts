import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aucPValue, fivePoint, quantile, sizeSummary } from '../../../electron/core/stats/statistics';
import { rocAuc } from '../../../electron/core/stats/metrics';
import { hammingHex } from '../../../electron/core/dataset/phash-fine';
import { shuffle } from '../../../electron/core/dataset/split';
import { seededRandom } from '../../../electron/core/random';

test('quantiles interpolate like numpy', () => {
  const v = [1, 2, 3, 4, 10];
  assert.equal(quantile(v, 0.25), 2);
  assert.equal(quantile(v, 0.5), 3);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  const p = fivePoint([1, 2, 3, 4, 100])!;
  assert.equal(p.q1, 2);
  assert.equal(p.q3, 4);
  assert.equal(p.upperFence, 7);
  assert.equal(p.outliers, 1);
});

test('sizes get log-scale fences in their own units: never negative, far-out both ways', () => {
  // widths like Spot the Mask's: q1 275, median 480, q3 800, a long upper tail
  const widths = [117, 190, 240, 275, 300, 380, 480, 520, 640, 800, 900, 1100, 4681, 9000];
  const linear = fivePoint(widths)!;
  assert.ok(linear.lowerFence < 0, 'the linear rule puts its lower fence below zero');
  const s = sizeSummary(widths)!;
  assert.equal(s.rule, "Tukey's fences at 1.5·IQR on the log scale");
  assert.ok(s.lowerFence > 0 && s.lowerFence < 117, `lower fence ${s.lowerFence}`);
  assert.ok(s.upperFence > 4681 && s.upperFence < 9000, `upper fence ${s.upperFence}`);
  assert.equal(s.outliers, 1);
  assert.ok(Math.abs(s.min - 117) < 1e-9);
  assert.ok(Math.abs(s.max - 9000) < 1e-9);
  // a ratio below the typical size is as far out as the same ratio above it
  const t = sizeSummary([10, 100, 100, 100, 100, 100, 100, 1000])!;
  assert.ok(Math.abs(Math.log(t.upperFence) + Math.log(t.lowerFence) - 2 * Math.log(100)) < 1e-9);
  assert.equal(sizeSummary([0, -1]), null);
});

const auc = (scores: number[], labels: boolean[]) => rocAuc(labels.map(Number), scores);

test('rank AUC equals the Mann–Whitney statistic, counts ties as half, ignores monotone transforms', () => {
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(auc([1, 1, 1, 1], [false, true, false, true]), 0.5);
  assert.equal(auc([0.5, 0.5, 0.9], [false, true, true]), 0.75);
  const random = seededRandom(1);
  const scores = Array.from({ length: 60 }, () => random());
  const labels = scores.map((s) => s + random() * 0.5 > 0.6);
  let pairs = 0;
  let wins = 0;
  for (let i = 0; i < scores.length; i++) for (let j = 0; j < scores.length; j++) {
    if (labels[i] && !labels[j]) {
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  assert.ok(Math.abs(auc(scores, labels)! - wins / pairs) < 1e-12);
  assert.ok(Math.abs(auc(scores.map((s) => Math.exp(3 * s)), labels)! - wins / pairs) < 1e-12);
  assert.equal(auc([1, 2], [true, true]), null);
});

test('AUC p-values: far from 0.5 on many samples is significant, near it is not', () => {
  assert.ok(aucPValue(0.7, 500, 500) < 1e-6);
  assert.ok(aucPValue(0.52, 50, 50) > 0.5);
});

test('seeded shuffles repeat and differ between seeds', () => {
  const a = shuffle([...Array(50).keys()], seededRandom(7));
  const b = shuffle([...Array(50).keys()], seededRandom(7));
  const c = shuffle([...Array(50).keys()], seededRandom(8));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual([...a].sort((x, y) => x - y), [...Array(50).keys()]);
});

test('hex Hamming distance', () => {
  assert.equal(hammingHex('00ff', '00ff'), 0);
  assert.equal(hammingHex('00ff', 'ff00'), 16);
  assert.equal(hammingHex('8000', '0001'), 2);
  assert.throws(() => hammingHex('00', '000'));
});
