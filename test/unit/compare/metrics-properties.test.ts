import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationBins, logLoss, prCurve, rocAuc, rocCurve, trapezoidArea, youdenThreshold } from '../../../electron/core/stats/metrics';
import { Rng } from '../../../electron/core/random';

/** Mann-Whitney U / (n1 n0) over every positive-negative pair: 1 when the positive scores higher, 1/2 on a tie. */
function bruteAuc(labels: readonly number[], probs: readonly number[]): number {
  let u = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      const a = probs[i] as number;
      const b = probs[j] as number;
      u += a > b ? 1 : a === b ? 0.5 : 0;
    }
  }
  return u / pairs;
}

/** Random labelled scores; `levels` > 0 rounds the scores onto that many values so ties are common. */
function randomCase(rng: Rng, n: number, levels: number): { labels: number[]; probs: number[] } {
  const labels: number[] = [];
  const probs: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i < 2 ? i : rng.next() < 0.4 ? 1 : 0; // both classes present
    let p = Math.min(1, Math.max(0, rng.next() * 0.7 + (y === 1 ? 0.25 : 0)));
    if (levels > 0) p = Math.round(p * levels) / levels;
    labels.push(y);
    probs.push(p);
  }
  return { labels, probs };
}

describe('ROC AUC is the Mann-Whitney statistic', () => {
  test('equals U / (n1 n0) by brute force on 60 seeded random cases, with and without ties', () => {
    const rng = new Rng(7);
    for (let c = 0; c < 60; c++) {
      const { labels, probs } = randomCase(rng, 5 + Math.floor(rng.next() * 80), c % 3 === 0 ? 0 : 3 + (c % 7));
      const auc = rocAuc(labels, probs);
      assert.ok(auc !== null, `case ${c}: no AUC`);
      assert.ok(Math.abs(auc - bruteAuc(labels, probs)) < 1e-12, `case ${c}: ${auc} vs ${bruteAuc(labels, probs)}`);
      // the trapezoids under the ROC corners give the same area
      assert.ok(Math.abs(trapezoidArea(rocCurve(labels, probs)) - auc) < 1e-12, `case ${c}: trapezoids`);
    }
  });

  test('invariant under strictly increasing transforms, reversed by a decreasing one', () => {
    const rng = new Rng(11);
    const { labels, probs } = randomCase(rng, 120, 9);
    const auc = rocAuc(labels, probs);
    assert.ok(auc !== null && auc > 0.5 && auc < 1, `AUC ${auc}`);
    for (const f of [(p: number) => p ** 3, (p: number) => 1 / (1 + Math.exp(-20 * (p - 0.3))), (p: number) => Math.log(p + 1e-3) / 10 + 0.7]) {
      assert.ok(Math.abs((rocAuc(labels, probs.map(f)) ?? -1) - auc) < 1e-12, `transform ${String(f)}`);
    }
    assert.ok(Math.abs((rocAuc(labels, probs.map((p) => 1 - p)) ?? -1) - (1 - auc)) < 1e-12, 'reversed');
  });

  test('a tie between a positive and a negative counts one half', () => {
    assert.equal(rocAuc([1, 0], [0.4, 0.4]), 0.5);
    // pairs: (0.8 vs 0.3) 1, (0.8 vs 0.5) 1, (0.5 vs 0.3) 1, (0.5 vs 0.5) 1/2 → 3.5 / 4
    assert.equal(rocAuc([1, 1, 0, 0], [0.8, 0.5, 0.3, 0.5]), 0.875);
    assert.equal(rocAuc([1, 1, 0], [0.2, 0.2, 0.2]), 0.5);
    assert.equal(rocAuc([1, 1], [0.2, 0.9]), null);
  });
});

describe('log loss, curves and calibration on hand-computed cases', () => {
  test('log loss: −mean(y ln p + (1 − y) ln(1 − p)), clipped', () => {
    // (−ln 0.8 − ln 0.6 − ln 0.9) / 3 = (0.22314355 + 0.51082562 + 0.10536052) / 3
    assert.ok(Math.abs(logLoss([1, 1, 0], [0.8, 0.6, 0.1]) - 0.27977656) < 1e-8, `log loss ${logLoss([1, 1, 0], [0.8, 0.6, 0.1])}`);
    assert.ok(Math.abs(logLoss([1], [0]) - -Math.log(1e-15)) < 1e-9, 'clipped');
    assert.equal(logLoss([0, 1], [0, 1]), -Math.log(1 - 1e-15));
  });

  // labels and scores: 0.9 (1), 0.8 (0), 0.8 (1), 0.4 (1), 0.2 (0); 3 positives, 2 negatives
  const labels = [1, 0, 1, 1, 0];
  const probs = [0.9, 0.8, 0.8, 0.4, 0.2];

  test('ROC corners, one per distinct score, descending', () => {
    assert.deepEqual(
      rocCurve(labels, probs).map((p) => [p.threshold, p.fpr, p.tpr]),
      [[Number.POSITIVE_INFINITY, 0, 0], [0.9, 0, 1 / 3], [0.8, 0.5, 2 / 3], [0.4, 0.5, 1], [0.2, 1, 1]],
    );
  });

  test('precision-recall corners start at (recall 0, precision 1)', () => {
    assert.deepEqual(
      prCurve(labels, probs).map((p) => [p.threshold, p.recall, p.precision]),
      [[null, 0, 1], [0.9, 1 / 3, 1], [0.8, 2 / 3, 2 / 3], [0.4, 1, 3 / 4], [0.2, 1, 3 / 5]],
    );
  });

  test('calibration: ten equal-width bins, 1.0 in the last, empty bins null', () => {
    const bins = calibrationBins([0, 1, 1, 0, 1, 1], [0.05, 0.12, 0.18, 0.55, 0.99, 1]);
    assert.equal(bins.length, 10);
    assert.deepEqual(bins.map((b) => b.count), [1, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
    assert.deepEqual([bins[0]?.low, bins[0]?.high, bins[9]?.low, bins[9]?.high], [0, 0.1, 0.9, 1]);
    assert.ok(Math.abs((bins[1]?.meanPredicted ?? 0) - 0.15) < 1e-12, `bin 1 mean ${bins[1]?.meanPredicted}`);
    assert.equal(bins[1]?.observed, 1);
    assert.equal(bins[5]?.observed, 0);
    assert.equal(bins[2]?.meanPredicted, null);
    assert.equal(bins[2]?.observed, null);
    assert.ok(Math.abs((bins[9]?.meanPredicted ?? 0) - 0.995) < 1e-12, `bin 9 mean ${bins[9]?.meanPredicted}`);
  });

  test("Youden's J: the threshold with the largest TPR − FPR, the higher one on a tie", () => {
    // thresholds: 0.9 → J 1/3, 0.8 → 2/3 − 1/2, 0.4 → 1 − 1/2, 0.2 → 0
    const y = youdenThreshold(labels, probs);
    assert.ok(y !== null, 'a threshold');
    assert.equal(y.threshold, 0.4);
    assert.equal(y.j, 0.5);
    // two equal maxima (0.9 and 0.5 both give J 1/2): the higher threshold
    assert.deepEqual(youdenThreshold([1, 0, 1, 0], [0.9, 0.7, 0.5, 0.3]), { threshold: 0.9, j: 0.5 });
    assert.equal(youdenThreshold([1, 1], [0.3, 0.6]), null);
  });
});
