/**
 * Binary classification metrics on probabilities of the positive class. ROC AUC is exact: the
 * Mann-Whitney statistic on ranks with ties averaged, so a tie between a positive and a negative counts
 * one half (what scikit-learn's roc_auc_score returns). Log loss clips as scikit-learn did, to
 * [1e-15, 1 − 1e-15], so one confident mistake costs 34.5 rather than infinity.
 */

export const LOG_LOSS_EPS = 1e-15;

function check(labels: ArrayLike<number>, probs: ArrayLike<number>): void {
  if (labels.length !== probs.length) {
    throw new RangeError(`metrics: ${labels.length} labels but ${probs.length} probabilities`);
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`metrics: label ${i} is ${String(y)}, expected 0 or 1`);
    const p = probs[i];
    if (p === undefined || Number.isNaN(p)) throw new RangeError(`metrics: probability ${i} is not a number`);
  }
}

/** ROC AUC, or null when one class is absent (the area is undefined then). */
export function rocAuc(labels: ArrayLike<number>, probs: ArrayLike<number>): number | null {
  check(labels, probs);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (probs[a] as number) - (probs[b] as number));
  let positives = 0;
  let rankSumPositives = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const p = probs[order[i] as number] as number;
    while (j + 1 < n && probs[order[j + 1] as number] === p) j++;
    // ranks i+1 … j+1 shared by the tie group: each gets their mean
    const meanRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[order[k] as number] === 1) {
        positives++;
        rankSumPositives += meanRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean binary cross-entropy (natural log), probabilities clipped to [1e-15, 1 − 1e-15]. */
export function logLoss(labels: ArrayLike<number>, probs: ArrayLike<number>): number {
  check(labels, probs);
  if (labels.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, probs[i] as number));
    sum += labels[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  }
  return sum / labels.length;
}

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Counts at a threshold: a probability ≥ threshold predicts 1. */
export function confusion(labels: ArrayLike<number>, probs: ArrayLike<number>, threshold = 0.5): Confusion {
  check(labels, probs);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const predicted = (probs[i] as number) >= threshold;
    if (labels[i] === 1) predicted ? c.tp++ : c.fn++;
    else predicted ? c.fp++ : c.tn++;
  }
  return c;
}

export interface BinaryMetrics {
  count: number;
  auc: number | null;
  logLoss: number;
  accuracy: number;
  /** 0 when nothing was predicted positive (scikit-learn's zero_division=0). */
  precision: number;
  recall: number;
  f1: number;
  confusion: Confusion;
}

export function binaryMetrics(labels: ArrayLike<number>, probs: ArrayLike<number>, threshold = 0.5): BinaryMetrics {
  const c = confusion(labels, probs, threshold);
  const n = labels.length;
  const precision = c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0;
  const recall = c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0;
  return {
    count: n,
    auc: rocAuc(labels, probs),
    logLoss: logLoss(labels, probs),
    accuracy: n > 0 ? (c.tp + c.tn) / n : Number.NaN,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    confusion: c,
  };
}

export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/**
 * The ROC curve's corners: one point per distinct probability (descending), starting at (0, 0) with an
 * infinite threshold. The trapezoids under these points sum to `rocAuc`.
 */
export function rocCurve(labels: ArrayLike<number>, probs: ArrayLike<number>): RocPoint[] {
  check(labels, probs);
  const n = labels.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = n - positives;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (probs[b] as number) - (probs[a] as number));
  const points: RocPoint[] = [{ threshold: Number.POSITIVE_INFINITY, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const p = probs[order[i] as number] as number;
    while (i < n && probs[order[i] as number] === p) {
      if (labels[order[i] as number] === 1) tp++;
      else fp++;
      i++;
    }
    points.push({ threshold: p, fpr: negatives > 0 ? fp / negatives : 0, tpr: positives > 0 ? tp / positives : 0 });
  }
  return points;
}

/** Area under a curve of (fpr, tpr) points by the trapezoid rule. */
export function trapezoidArea(points: readonly RocPoint[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as RocPoint;
    const b = points[i] as RocPoint;
    area += ((b.fpr - a.fpr) * (a.tpr + b.tpr)) / 2;
  }
  return area;
}
