/**
 * Small, exact statistics the audit, the insights and the comparison need: quantiles, Tukey fences, the
 * normal distribution, AUC significance (ROC AUC itself is metrics.ts).
 */
import type { FivePoint } from '../../../shared/contract';

/** Quantile with linear interpolation between order statistics (numpy's default). `sorted` ascending. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of an empty list');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

/** Five-number summary with Tukey fences at k·IQR (k = 1.5 is Tukey's "outside"). */
export function fivePoint(values: readonly number[], k = 1.5): FivePoint | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const iqr = q3 - q1;
  const lowerFence = q1 - k * iqr;
  const upperFence = q3 + k * iqr;
  return {
    count: sorted.length,
    min: sorted[0]!,
    q1,
    median: quantile(sorted, 0.5),
    q3,
    max: sorted[sorted.length - 1]!,
    lowerFence,
    upperFence,
    outliers: sorted.filter((v) => v < lowerFence || v > upperFence).length,
    rule: `Tukey's fences at ${k}·IQR`,
  };
}

/**
 * The one outlier rule for image sizes, aspect ratios and byte counts (the audit's size-outlier findings,
 * `stats` and the Insights view): Tukey's fences at 1.5·IQR on the log of the values, reported back in the
 * original units. Why the log: these quantities are positive and skewed (a photo set spans 100 to 5,000 px,
 * 3 KB to 3 MB), so linear fences put the lower one below zero ("outside [-512, 1,588] px": nothing can be
 * under it) and flag a tenth of any real set on the long upper side, while on the log scale the fences are
 * ratios of the typical value (q1 / 4.8 and q3 · 4.8 for Spot the Mask's widths), never negative, and flag
 * what is far out both ways. Values that are not positive have no log and are left out.
 */
export const OUTLIER_K = 1.5;
export const OUTLIER_RULE = `Tukey's fences at ${OUTLIER_K}·IQR on the log scale`;

export function sizeSummary(values: readonly number[], k = OUTLIER_K): FivePoint | null {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const log = fivePoint(positive.map(Math.log), k);
  if (!log) return null;
  const lowerFence = Math.exp(log.lowerFence);
  const upperFence = Math.exp(log.upperFence);
  return {
    count: log.count,
    min: Math.exp(log.min),
    q1: Math.exp(log.q1),
    median: Math.exp(log.median),
    q3: Math.exp(log.q3),
    max: Math.exp(log.max),
    lowerFence,
    upperFence,
    outliers: positive.filter((v) => v < lowerFence || v > upperFence).length,
    rule: OUTLIER_RULE,
  };
}

/**
 * Two-sided p-value that an AUC this far from 0.5 arises by chance (normal approximation of the
 * Mann–Whitney U under the null, no tie correction: conservative enough for flagging).
 */
export function aucPValue(auc: number, nPos: number, nNeg: number): number {
  if (nPos === 0 || nNeg === 0 || !Number.isFinite(auc)) return 1;
  const sd = Math.sqrt((nPos + nNeg + 1) / (12 * nPos * nNeg));
  const z = Math.abs(auc - 0.5) / sd;
  return twoSidedP(z);
}

/** erfc(x) by Numerical Recipes' Chebyshev fit: relative error below 1.2e-7 everywhere, tails included. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export function erf(x: number): number {
  return 1 - erfc(x);
}

/** The standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedP(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}
