/**
 * Is one model better than another, or is it noise? Percentile bootstrap intervals for AUC and log loss
 * (seeded, so the same predictions give the same interval every time) and DeLong's test for two
 * correlated AUCs measured on the same images.
 */
import { LOG_LOSS_EPS, prepareAuc } from './metrics';
import { quantile, twoSidedP } from './statistics';
import { Rng } from '../random';
import type { Interval } from '../../../shared/contract-compare';

export const BOOTSTRAP_RESAMPLES = 1000;
export const BOOTSTRAP_SEED = 20240905;

export interface BootstrapResult {
  auc: Interval | null;
  logLoss: Interval | null;
}

/**
 * 95 % percentile intervals over `resamples` resamples of the images, drawn within each class so every
 * resample keeps the class counts (and the AUC stays defined). A weighting by draw counts replaces
 * copying arrays, so one run of ~200 images costs a few milliseconds.
 */
export function bootstrapIntervals(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  opts: { resamples?: number; seed?: number; level?: number } = {},
): BootstrapResult {
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const level = opts.level ?? 0.95;
  const n = labels.length;
  const prepared = prepareAuc(labels, probs);
  if (n === 0) return { auc: null, logLoss: null };
  const pos: number[] = [];
  const neg: number[] = [];
  const loss = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, probs[i] as number));
    loss[i] = labels[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
    (labels[i] === 1 ? pos : neg).push(i);
  }
  const rng = new Rng(opts.seed ?? BOOTSTRAP_SEED);
  const weights = new Float64Array(n);
  const aucs: number[] = [];
  const losses: number[] = [];
  for (let r = 0; r < resamples; r++) {
    weights.fill(0);
    for (const group of [pos, neg]) {
      for (let k = 0; k < group.length; k++) {
        const i = group[Math.floor(rng.next() * group.length)] as number;
        weights[i] = (weights[i] as number) + 1;
      }
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (weights[i] as number) * (loss[i] as number);
    losses.push(sum / n);
    const a = prepared.auc(weights);
    if (a !== null) aucs.push(a);
  }
  const tail = (1 - level) / 2;
  const interval = (values: number[]): Interval | null => {
    if (values.length === 0) return null;
    values.sort((a, b) => a - b);
    return { low: quantile(values, tail), high: quantile(values, 1 - tail) };
  };
  return { auc: interval(aucs), logLoss: interval(losses) };
}

export interface DeLongResult {
  aucA: number;
  aucB: number;
  /** aucA − aucB. */
  difference: number;
  se: number;
  z: number;
  p: number;
}

function covariance(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += ((x[i] as number) - mx) * ((y[i] as number) - my);
  return s / (n - 1);
}

const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * DeLong, DeLong & Clarke-Pearson (1988): two predictors' AUCs on the same labelled items, the variance of
 * their difference from the structural components (each positive's and each negative's placement), and a
 * two-sided normal test. Null when a class has fewer than two items (the covariance is undefined).
 * Identical predictors give z 0, p 1; a zero variance with a nonzero difference gives z ±MAX_VALUE, p 0.
 */
export function delongTest(labels: ArrayLike<number>, probsA: ArrayLike<number>, probsB: ArrayLike<number>): DeLongResult | null {
  const a = prepareAuc(labels, probsA).placements();
  const b = prepareAuc(labels, probsB).placements();
  if (!a || !b) return null;
  const m = a.positives.length;
  const n = a.negatives.length;
  if (m < 2 || n < 2) return null;
  const aucA = mean(a.positives);
  const aucB = mean(b.positives);
  const s10 = covariance(a.positives, a.positives) + covariance(b.positives, b.positives) - 2 * covariance(a.positives, b.positives);
  const s01 = covariance(a.negatives, a.negatives) + covariance(b.negatives, b.negatives) - 2 * covariance(a.negatives, b.negatives);
  const variance = Math.max(0, s10 / m + s01 / n);
  const se = Math.sqrt(variance);
  const difference = aucA - aucB;
  // rounding leaves ~1e-17 of "variance" for identical predictors: treat what is below that as none
  if (se < 1e-12) {
    const same = Math.abs(difference) < 1e-12;
    return { aucA, aucB, difference, se: 0, z: same ? 0 : Math.sign(difference) * Number.MAX_VALUE, p: same ? 1 : 0 };
  }
  const z = difference / se;
  return { aucA, aucB, difference, se, z, p: twoSidedP(z) };
}
