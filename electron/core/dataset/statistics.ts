/** Small, exact statistics the audit and the insights need: quantiles, Tukey fences, AUC significance (ROC AUC itself is ml/metrics.ts). */
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
  return 2 * (1 - normalCdf(z));
}

function normalCdf(z: number): number {
  // Abramowitz & Stegun 7.1.26 on erf; |error| < 1.5e-7.
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return 0.5 * (1 + (x >= 0 ? erf : -erf));
}
