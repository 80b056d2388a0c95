import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryMetrics, confusion, logLoss, rocAuc, rocCurve, trapezoidArea } from '../../../electron/core/stats/metrics';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

describe('rocAuc', () => {
  test('perfect, inverted and uninformative rankings', () => {
    assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
    assert.equal(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
    assert.equal(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5);
  });

  test('hand-computed case: scikit-learn docs example', () => {
    // y=[0,0,1,1], s=[0.1,0.4,0.35,0.8]: pairs (pos,neg) ordered right: (0.35>0.1),(0.8>0.1),(0.8>0.4); wrong: (0.35<0.4) → 3/4
    assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  });

  test('ties between classes count one half', () => {
    // positives {0.5, 0.9}, negatives {0.5, 0.1}: pairs (0.5 vs 0.5)=½, (0.5 vs 0.1)=1, (0.9 vs 0.5)=1, (0.9 vs 0.1)=1 → 3.5/4
    assert.equal(rocAuc([1, 1, 0, 0], [0.5, 0.9, 0.5, 0.1]), 0.875);
    // three-way tie with 1 positive, 2 negatives, plus a clear positive: (½+½ + 1+1)/(2·2) = 0.75
    assert.equal(rocAuc([1, 0, 0, 1], [0.3, 0.3, 0.3, 0.7]), 0.75);
  });

  test('agrees with brute-force pair counting on random data', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const labels: number[] = [];
    const probs: number[] = [];
    for (let i = 0; i < 300; i++) {
      labels.push(rnd() < 0.4 ? 1 : 0);
      probs.push(Math.round(rnd() * 20) / 20); // many ties
    }
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < labels.length; i++) {
      for (let j = 0; j < labels.length; j++) {
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          const a = probs[i] as number;
          const b = probs[j] as number;
          wins += a > b ? 1 : a === b ? 0.5 : 0;
        }
      }
    }
    close(rocAuc(labels, probs) ?? Number.NaN, wins / pairs);
  });

  test('one class only: null', () => {
    assert.equal(rocAuc([1, 1], [0.2, 0.3]), null);
    assert.equal(rocAuc([], []), null);
  });

  test('refuses bad input', () => {
    assert.throws(() => rocAuc([0, 1], [0.5]), /2 labels but 1 probabilities/);
    assert.throws(() => rocAuc([0, 2], [0.5, 0.5]), /label 1 is 2/);
  });
});

describe('logLoss', () => {
  test('hand-computed', () => {
    // −(ln 0.8 + ln 0.6) / 2 for y=[1,0], p=[0.8,0.4]
    close(logLoss([1, 0], [0.8, 0.4]), -(Math.log(0.8) + Math.log(0.6)) / 2);
    close(logLoss([1, 1, 0, 0], [0.5, 0.5, 0.5, 0.5]), Math.log(2));
  });

  test('clips at 1e-15', () => {
    close(logLoss([1], [0]), -Math.log(1e-15), 1e-9);
    // 1 − (1 − 1e-15) is 1.11e-15 in float64, as in scikit-learn
    close(logLoss([0], [1]), -Math.log(1 - (1 - 1e-15)));
    assert.ok(Number.isFinite(logLoss([1, 0], [0, 1])));
  });
});

describe('thresholded metrics', () => {
  test('confusion, accuracy, precision, recall, F1 at 0.5', () => {
    const y = [1, 1, 1, 0, 0, 0, 1, 0];
    const p = [0.9, 0.6, 0.4, 0.5, 0.1, 0.2, 0.7, 0.8];
    // predicted 1 (≥0.5): idx 0,1,3,6,7 → tp=3 (0,1,6), fp=2 (3,7); fn=1 (2); tn=2 (4,5)
    assert.deepEqual(confusion(y, p), { tp: 3, fp: 2, tn: 2, fn: 1 });
    const m = binaryMetrics(y, p);
    close(m.accuracy, 5 / 8);
    close(m.precision, 3 / 5);
    close(m.recall, 3 / 4);
    close(m.f1, (2 * 0.6 * 0.75) / (0.6 + 0.75));
    assert.equal(m.count, 8);
  });

  test('nothing predicted positive: precision 0, F1 0', () => {
    const m = binaryMetrics([1, 0], [0.1, 0.2]);
    assert.equal(m.precision, 0);
    assert.equal(m.recall, 0);
    assert.equal(m.f1, 0);
  });
});

describe('rocCurve', () => {
  test('corner points with ties merged; the trapezoid area equals rocAuc', () => {
    const y = [1, 1, 0, 0];
    const p = [0.5, 0.9, 0.5, 0.1];
    const pts = rocCurve(y, p);
    assert.deepEqual(
      pts.map((q) => [q.threshold, q.fpr, q.tpr]),
      [
        [Number.POSITIVE_INFINITY, 0, 0],
        [0.9, 0, 0.5],
        [0.5, 0.5, 1],
        [0.1, 1, 1],
      ],
    );
    close(trapezoidArea(pts), rocAuc(y, p) ?? Number.NaN);
  });
});
