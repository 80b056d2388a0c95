import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapIntervals, delongTest } from '../../../electron/core/stats/intervals';
import { erf, erfc, normalCdf, twoSidedP } from '../../../electron/core/stats/statistics';
import { logLoss, rocAuc } from '../../../electron/core/stats/metrics';
import { Rng } from '../../../electron/core/random';

const close = (actual: number, expected: number, rel: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs ${expected}`);

/** Two correlated scores for the same labelled items: a shared signal plus each predictor's own noise. */
function pairedCase(seed: number, n: number): { labels: number[]; a: number[]; b: number[] } {
  const rng = new Rng(seed);
  const labels: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 3 === 0 ? 1 : 0;
    const shared = rng.next() + (y === 1 ? 0.45 : 0);
    labels.push(y);
    // rounding to 2 decimals makes ties, which DeLong's components count one half
    a.push(Math.round(((shared + rng.next() * 0.6) / 2.1) * 100) / 100);
    b.push(Math.round(((shared + rng.next() * 1.2 - 0.2) / 2.5 + 0.1) * 100) / 100);
  }
  return { labels, a, b };
}

/** DeLong's variance of AUC(a) − AUC(b) from its definition: ψ over every pair, components, sample covariances. */
function bruteDeLong(labels: readonly number[], a: readonly number[], b: readonly number[]): { diff: number; variance: number } {
  const pos = labels.flatMap((y, i) => (y === 1 ? [i] : []));
  const neg = labels.flatMap((y, i) => (y === 0 ? [i] : []));
  const psi = (x: number, y: number): number => (x > y ? 1 : x === y ? 0.5 : 0);
  const comps = (s: readonly number[]): { v10: number[]; v01: number[] } => ({
    v10: pos.map((i) => neg.reduce((t, j) => t + psi(s[i] as number, s[j] as number), 0) / neg.length),
    v01: neg.map((j) => pos.reduce((t, i) => t + psi(s[i] as number, s[j] as number), 0) / pos.length),
  });
  const cov = (x: number[], y: number[]): number => {
    const mx = x.reduce((t, v) => t + v, 0) / x.length;
    const my = y.reduce((t, v) => t + v, 0) / y.length;
    return x.reduce((t, v, k) => t + (v - mx) * ((y[k] as number) - my), 0) / (x.length - 1);
  };
  const A = comps(a);
  const B = comps(b);
  const aucA = A.v10.reduce((t, v) => t + v, 0) / pos.length;
  const aucB = B.v10.reduce((t, v) => t + v, 0) / pos.length;
  const s10 = cov(A.v10, A.v10) + cov(B.v10, B.v10) - 2 * cov(A.v10, B.v10);
  const s01 = cov(A.v01, A.v01) + cov(B.v01, B.v01) - 2 * cov(A.v01, B.v01);
  return { diff: aucA - aucB, variance: s10 / pos.length + s01 / neg.length };
}

describe('normal distribution', () => {
  test('erf and erfc against tabulated values (relative error < 2e-7, tails included)', () => {
    close(erf(0.5), 0.5204998778130465, 2e-7, 'erf(0.5)');
    close(erf(1), 0.8427007929497149, 2e-7, 'erf(1)');
    close(erf(2), 0.9953222650189527, 2e-7, 'erf(2)');
    close(erf(-1), -0.8427007929497149, 2e-7, 'erf(-1)');
    close(erfc(3), 2.209049699858544e-5, 2e-7, 'erfc(3)');
    close(erfc(5), 1.5374597944280349e-12, 2e-7, 'erfc(5)');
    // erfc's relative error is an absolute one on erf near 0
    assert.ok(Math.abs(erf(0)) < 2e-7, `erf(0) = ${erf(0)}`);
  });

  test('normal CDF and two-sided p', () => {
    close(normalCdf(1.959963984540054), 0.975, 2e-7, 'Φ(1.96)');
    close(normalCdf(-1), 0.15865525393145707, 2e-7, 'Φ(−1)');
    close(twoSidedP(1.959963984540054), 0.05, 2e-6, 'p(1.96)');
    close(twoSidedP(-2.5758293035489), 0.01, 2e-6, 'p(−2.576)');
    close(twoSidedP(0.85), 0.3953250862453848, 2e-6, 'p(0.85)');
    assert.equal(twoSidedP(0), 1);
  });
});

describe("DeLong's test", () => {
  test('identical predictors: difference 0, z 0, p 1', () => {
    const { labels, a } = pairedCase(3, 90);
    const t = delongTest(labels, a, a);
    assert.ok(t !== null, 'test defined');
    assert.deepEqual([t.difference, t.z, t.p, t.se], [0, 0, 1, 0]);
  });

  test('variance equals the structural-components formula computed by brute force (ties included)', () => {
    for (const [seed, n] of [[5, 60], [9, 150], [21, 301]] as const) {
      const { labels, a, b } = pairedCase(seed, n);
      const t = delongTest(labels, a, b);
      assert.ok(t !== null, 'test defined');
      const brute = bruteDeLong(labels, a, b);
      assert.ok(brute.variance > 0, `variance ${brute.variance}`);
      close(t.aucA, rocAuc(labels, a) ?? Number.NaN, 1e-12, 'aucA');
      close(t.aucB, rocAuc(labels, b) ?? Number.NaN, 1e-12, 'aucB');
      close(t.difference, brute.diff, 1e-9, 'difference');
      close(t.se, Math.sqrt(brute.variance), 1e-9, `se (seed ${seed})`);
      close(t.z, brute.diff / Math.sqrt(brute.variance), 1e-9, 'z');
      close(t.p, twoSidedP(brute.diff / Math.sqrt(brute.variance)), 1e-12, 'p');
    }
  });

  test('swapping the predictors negates z and keeps p; a clearly better predictor is significant', () => {
    const { labels, a, b } = pairedCase(9, 300);
    const ab = delongTest(labels, a, b);
    const ba = delongTest(labels, b, a);
    assert.ok(ab && ba, 'both tests defined');
    assert.ok(Math.abs(ab.z + ba.z) < 1e-12 && Math.abs(ab.p - ba.p) < 1e-12, JSON.stringify({ ab, ba }));
    // the label itself plus a little noise against pure noise
    const rng = new Rng(4);
    const good = labels.map((y) => y * 0.5 + rng.next() * 0.6);
    const noise = labels.map(() => rng.next());
    const t = delongTest(labels, good, noise);
    assert.ok(t && t.z > 5 && t.p < 1e-6, JSON.stringify(t));
  });

  test('null when a class has fewer than two items', () => {
    assert.equal(delongTest([1, 0, 0], [0.9, 0.1, 0.2], [0.8, 0.3, 0.1]), null);
  });
});

describe('bootstrap intervals', () => {
  const sample = (seed: number, n: number): { labels: number[]; probs: number[] } => {
    const { labels, a } = pairedCase(seed, n);
    return { labels, probs: a };
  };

  test('contain the point estimates and are reproducible with the seed', () => {
    const { labels, probs } = sample(12, 200);
    const r = bootstrapIntervals(labels, probs, { seed: 1 });
    const auc = rocAuc(labels, probs) ?? Number.NaN;
    const ll = logLoss(labels, probs);
    assert.ok(r.auc && r.logLoss, 'intervals defined');
    assert.ok(r.auc.low < auc && auc < r.auc.high, JSON.stringify({ auc, ci: r.auc }));
    assert.ok(r.logLoss.low < ll && ll < r.logLoss.high, JSON.stringify({ ll, ci: r.logLoss }));
    assert.deepEqual(bootstrapIntervals(labels, probs, { seed: 1 }), r);
    assert.notDeepEqual(bootstrapIntervals(labels, probs, { seed: 2 }), r);
  });

  test('narrow as the sample grows (about 1/√n)', () => {
    const small = sample(13, 60);
    const large = sample(13, 960);
    const w = (x: { low: number; high: number } | null): number => (x ? x.high - x.low : Number.NaN);
    const rs = bootstrapIntervals(small.labels, small.probs);
    const rl = bootstrapIntervals(large.labels, large.probs);
    // 16x the images: about a quarter of the width; allow 0.15 to 0.4
    const ratio = w(rl.auc) / w(rs.auc);
    assert.ok(ratio > 0.15 && ratio < 0.4, `AUC width ratio ${ratio}`);
    const lratio = w(rl.logLoss) / w(rs.logLoss);
    assert.ok(lratio > 0.15 && lratio < 0.4, `log loss width ratio ${lratio}`);
  });

  test("the AUC interval's width agrees with DeLong's standard error (±1.96 se, within 20 %)", () => {
    const { labels, probs } = sample(14, 300);
    const r = bootstrapIntervals(labels, probs, { resamples: 2000 });
    // DeLong of a predictor against a constant (AUC 1/2, no variance) is the single-AUC standard error
    const t = delongTest(labels, probs, labels.map(() => 0.5));
    assert.ok(r.auc && t, 'interval and test defined');
    close((r.auc.high - r.auc.low) / (2 * 1.959964), t.se, 0.2, 'bootstrap half-width / 1.96 vs DeLong se');
  });
});
