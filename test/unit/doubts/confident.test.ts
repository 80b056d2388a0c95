import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { confidentLearning } from '../../../electron/core/doubts/confident';
import { fitLogistic, predictLogistic, toMatrix } from '../../../electron/core/doubts/logistic';
import { Rng } from '../../../electron/core/random';

const binary = (p1: readonly number[]): number[][] => p1.map((p) => [1 - p, p]);

describe('confident learning on hand cases', () => {
  test('thresholds are the mean self-probability per class; confident off-diagonals become issues, ranked by self-confidence', () => {
    // labelled 0: four sure of 0, one the model puts at p(1) = 0.95, one at 0.9
    // labelled 1: four sure of 1, one the model puts at p(1) = 0.1
    const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    const p1 = [0.05, 0.1, 0.1, 0.05, 0.95, 0.9, 0.9, 0.95, 0.9, 0.85, 0.1];
    const r = confidentLearning(labels, binary(p1));
    const t0 = (0.95 + 0.9 + 0.9 + 0.95 + 0.05 + 0.1) / 6;
    const t1 = (0.9 + 0.95 + 0.9 + 0.85 + 0.1) / 5;
    assert.ok(Math.abs((r.thresholds[0] ?? 0) - t0) < 1e-12);
    assert.ok(Math.abs((r.thresholds[1] ?? 0) - t1) < 1e-12);
    // image 4 (p1 .95 ≥ t1 .74) and 5 (.9) count as 1; image 10 (p0 .9 ≥ t0 .64) counts as 0
    assert.deepEqual(r.joint, [[4, 2], [1, 4]]);
    assert.deepEqual(r.issues.map((i) => [i.index, i.given, i.suggested]), [[4, 0, 1], [5, 0, 1], [10, 1, 0]]);
    assert.ok(Math.abs((r.issues[0]?.selfConfidence ?? 0) - 0.05) < 1e-12, 'ranked by p(given), lowest first');
    assert.ok(Math.abs((r.issues[2]?.selfConfidence ?? 0) - 0.1) < 1e-12);
  });

  test('prune by noise rate takes the calibrated count by margin, and never an image whose given label is the most probable', () => {
    // labelled 0: three sure, two confidently 1 (p1 .95 ≥ t1 .9), two at p1 .45 (above no threshold: t0 ≈ .557)
    const labels = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
    const p1 = [0.1, 0.1, 0.1, 0.95, 0.95, 0.45, 0.45, 0.9, 0.9, 0.9, 0.9];
    const r = confidentLearning(labels, binary(p1));
    assert.deepEqual(r.joint, [[3, 2], [0, 4]]);
    // calibrated: 2 / 5 · 7 = 2.8 → the 3 largest margins p1 − p0: both .95 and one .45, whose argmax is its label
    assert.ok(Math.abs((r.calibrated[0]?.[1] ?? 0) - 2.8) < 1e-12);
    assert.deepEqual(r.issues.map((i) => i.index), [3, 4]);
    assert.ok(r.issues.every((i) => i.suggested === 1));
  });

  test('a clean, well-separated set has no issues', () => {
    const labels = [0, 0, 0, 1, 1, 1];
    const r = confidentLearning(labels, binary([0.2, 0.3, 0.1, 0.7, 0.8, 0.9]));
    assert.deepEqual(r.issues, []);
    assert.deepEqual(r.joint, [[2, 0], [0, 2]]);
  });

  test('three classes: the suggested class is the confidently predicted one', () => {
    const labels = [0, 0, 0, 1, 1, 1, 2, 2, 2];
    const probs = [
      [0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.05, 0.05, 0.9],
      [0.1, 0.8, 0.1], [0.05, 0.9, 0.05], [0.1, 0.85, 0.05],
      [0.1, 0.1, 0.8], [0.05, 0.05, 0.9], [0.1, 0.1, 0.8],
    ];
    const r = confidentLearning(labels, probs);
    assert.deepEqual(r.issues.map((i) => [i.index, i.given, i.suggested]), [[2, 0, 2]]);
  });
});

describe('logistic regression (L-BFGS)', () => {
  test('recovers a known direction on separable-ish Gaussian data and matches the optimality condition', () => {
    const rng = new Rng(5);
    const d = 20;
    const n = 400;
    const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const rows: Float32Array[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 2;
      const x = Float32Array.from({ length: d }, (_, j) => gauss() + (j === 0 ? (label ? 1.5 : -1.5) : 0));
      rows.push(x);
      y.push(label);
    }
    const x = toMatrix(rows, d);
    const l2 = 0.01;
    const m = fitLogistic(x, y, { l2 });
    // the first weight dominates, positive
    assert.ok((m.w[0] ?? 0) > 1, `w0 ${m.w[0]}`);
    for (let j = 1; j < d; j++) assert.ok(Math.abs(m.w[j] ?? 0) < 0.5 * (m.w[0] ?? 0), `w${j} ${m.w[j]}`);
    // gradient of the objective is ~0 at the solution
    const p = predictLogistic(m, x);
    for (const j of [0, 1, 7]) {
      let g = l2 * (m.w[j] ?? 0);
      for (let i = 0; i < n; i++) g += (((p[i] ?? 0) - (y[i] ?? 0)) * (rows[i]?.[j] ?? 0)) / n;
      assert.ok(Math.abs(g) < 1e-4, `gradient ${j}: ${g}`);
    }
    const acc = y.filter((v, i) => ((p[i] ?? 0) > 0.5 ? 1 : 0) === v).length / n;
    assert.ok(acc > 0.9, `training accuracy ${acc}`);
  });
});
