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

/**
 * The Mann-Whitney statistic prepared once for one set of (label, probability) pairs: the probabilities
 * sorted and grouped into ties, so the area for any weighting of the same items (a bootstrap resample is
 * a weighting by how often each item was drawn) costs O(n) instead of a new sort. Each positive-negative
 * pair counts 1 when the positive scores higher and 1/2 when they tie, so this is exactly `rocAuc`.
 */
export interface PreparedAuc {
  /** The area with each item counted `weights[i]` times (1 each when omitted); null when a class weighs 0. */
  auc(weights?: ArrayLike<number>): number | null;
  /**
   * DeLong's structural components: for each positive the share of negatives it outscores (ties 1/2),
   * and for each negative the share of positives that outscore it, in item order. Their means are the AUC.
   */
  placements(): { positives: number[]; negatives: number[] } | null;
}

export function prepareAuc(labels: ArrayLike<number>, probs: ArrayLike<number>): PreparedAuc {
  check(labels, probs);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (probs[a] as number) - (probs[b] as number));
  // groupEnd[g] is one past the last sorted position of tie group g
  const groupEnd: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = order[i + 1];
    if (next === undefined || probs[next] !== probs[order[i] as number]) groupEnd.push(i + 1);
  }
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = n - positives;
  return {
    auc(weights) {
      let negBelow = 0;
      let wPosAll = 0;
      let sum = 0;
      let start = 0;
      for (const end of groupEnd) {
        let wPos = 0;
        let wNeg = 0;
        for (let k = start; k < end; k++) {
          const i = order[k] as number;
          const w = weights === undefined ? 1 : (weights[i] as number);
          if (labels[i] === 1) wPos += w;
          else wNeg += w;
        }
        sum += wPos * (negBelow + wNeg / 2);
        negBelow += wNeg;
        wPosAll += wPos;
        start = end;
      }
      if (wPosAll === 0 || negBelow === 0) return null;
      return sum / (wPosAll * negBelow);
    },
    placements() {
      if (positives === 0 || negatives === 0) return null;
      const pos = new Array<number>(n).fill(Number.NaN);
      const neg = new Array<number>(n).fill(Number.NaN);
      let negBelow = 0;
      let posBelow = 0;
      let start = 0;
      for (const end of groupEnd) {
        let p = 0;
        let q = 0;
        for (let k = start; k < end; k++) (labels[order[k] as number] === 1 ? p++ : q++);
        for (let k = start; k < end; k++) {
          const i = order[k] as number;
          if (labels[i] === 1) pos[i] = (negBelow + q / 2) / negatives;
          else neg[i] = 1 - (posBelow + p / 2) / positives;
        }
        negBelow += q;
        posBelow += p;
        start = end;
      }
      return { positives: pos.filter((v) => !Number.isNaN(v)), negatives: neg.filter((v) => !Number.isNaN(v)) };
    },
  };
}

/** ROC AUC, or null when one class is absent (the area is undefined then). */
export function rocAuc(labels: ArrayLike<number>, probs: ArrayLike<number>): number | null {
  return prepareAuc(labels, probs).auc();
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

/** The confusion cell of one image at a threshold: a probability ≥ threshold predicts 1. */
export function confusionCell(label: number, probability: number, threshold: number): keyof Confusion {
  const predicted = probability >= threshold;
  if (label === 1) return predicted ? 'tp' : 'fn';
  return predicted ? 'fp' : 'tn';
}

/** Counts at a threshold (confusionCell's rule). */
export function confusion(labels: ArrayLike<number>, probs: ArrayLike<number>, threshold = 0.5): Confusion {
  check(labels, probs);
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) c[confusionCell(labels[i] as number, probs[i] as number, threshold)]++;
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

export interface PrPoint {
  /** null on the first point (recall 0, precision 1), as scikit-learn starts the curve. */
  threshold: number | null;
  recall: number;
  precision: number;
}

/** Precision-recall corners: one point per distinct probability (descending), after a (0, 1) start. */
export function prCurve(labels: ArrayLike<number>, probs: ArrayLike<number>): PrPoint[] {
  const roc = rocCurve(labels, probs);
  let positives = 0;
  let negatives = 0;
  for (let i = 0; i < labels.length; i++) labels[i] === 1 ? positives++ : negatives++;
  const points: PrPoint[] = [{ threshold: null, recall: 0, precision: 1 }];
  for (const r of roc.slice(1)) {
    const tp = Math.round(r.tpr * positives);
    const fp = Math.round(r.fpr * negatives);
    points.push({ threshold: r.threshold, recall: r.tpr, precision: tp + fp > 0 ? tp / (tp + fp) : 1 });
  }
  return points;
}

export interface CalibrationBin {
  low: number;
  high: number;
  count: number;
  /** null for an empty bin. */
  meanPredicted: number | null;
  observed: number | null;
}

/** Equal-width bins of predicted probability ([low, high), the last one closed): mean prediction vs observed rate. */
export function calibrationBins(labels: ArrayLike<number>, probs: ArrayLike<number>, bins = 10): CalibrationBin[] {
  check(labels, probs);
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const p = probs[i] as number;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b] = (count[b] as number) + 1;
    sumP[b] = (sumP[b] as number) + p;
    sumY[b] = (sumY[b] as number) + (labels[i] as number);
  }
  return count.map((c, b) => ({
    low: b / bins,
    high: (b + 1) / bins,
    count: c,
    meanPredicted: c > 0 ? (sumP[b] as number) / c : null,
    observed: c > 0 ? (sumY[b] as number) / c : null,
  }));
}

/**
 * The threshold (one of the probabilities; ≥ predicts 1) that maximises Youden's J = TPR − FPR. On a tie
 * the highest such threshold wins. Null when a class is absent (J is undefined then).
 */
export function youdenThreshold(labels: ArrayLike<number>, probs: ArrayLike<number>): { threshold: number; j: number } | null {
  const roc = rocCurve(labels, probs);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] === 1 ? 1 : 0;
  if (positives === 0 || positives === labels.length) return null;
  let best: { threshold: number; j: number } | null = null;
  for (const r of roc.slice(1)) {
    const j = r.tpr - r.fpr;
    if (best === null || j > best.j) best = { threshold: r.threshold, j };
  }
  return best;
}
