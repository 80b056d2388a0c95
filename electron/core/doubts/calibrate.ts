/**
 * How far to trust a doubt at a given rank, measured on the same images: plant label flips (a fixed share of
 * each class, seeded), compute the doubts again from probabilities refit on the flipped labels (the folds
 * are drawn again on them too, as a real computation would), and count, at each rank of that list, the share
 * of the doubts at or above it that are planted flips. Several seeded trials are averaged.
 *
 * What the figure is and is not:
 * - A doubt that is a real label error, not a planted one, counts as wrong: the estimate leans low.
 * - The planted list judges labels with the planted errors on top of the real ones, so a rank of it sits in
 *   a list richer in errors than the one it is read against, and a random flip of a clear photo is easier to
 *   find than a real error (often an unclear one): that leans high. Neither is corrected for, and on the real
 *   Spot the Mask labels the second wins by far: the figure read 0.80 at rank 10, while by eye 1 of the top
 *   12 doubts was a label error and 11 were the models' own mistakes on clear photos. So it says how
 *   precisely the list would find errors if 5 % of labels were wrong at random, not how many are.
 * - Past the end of a trial's own list the trial's ranking goes on over the images it did not doubt (by the
 *   same score), so every rank of the real list gets a figure.
 * Cumulative precision is not monotone by construction (a flip at rank 2 after a clean image at rank 1 lifts
 * it from 0 to 0.5), and the figures are not forced to be.
 *
 * Everything here is a function of the labels, the groups, the seeds and the probabilities the caller
 * computes: nothing depends on time or on the order work finishes in.
 */
import { assignFolds } from '../dataset/folds';
import { throwIfAborted } from '../jobs/progress';
import { Rng } from '../random';

export interface Planted {
  /** The labels with the flips applied. */
  noisy: number[];
  /** Indices of the flipped images. */
  flipped: Set<number>;
}

/**
 * round(rate · n_c) images of each class c, drawn by a seeded shuffle of that class's indices (in index
 * order, so the draw depends on the rows' order, which the caller keeps by content), flipped to the other
 * class. Binary labels only (the doubts are binary for now).
 */
export function plantFlips(labels: readonly number[], rate: number, seed: number): Planted {
  if (!(rate > 0 && rate < 0.5)) throw new RangeError(`flip rate must be in (0, 0.5); received ${rate}`);
  const rng = new Rng(seed);
  const flipped = new Set<number>();
  for (const c of [0, 1]) {
    const members: number[] = [];
    labels.forEach((l, i) => {
      if (l !== 0 && l !== 1) throw new RangeError(`image ${i}: label ${l} is not 0 or 1`);
      if (l === c) members.push(i);
    });
    rng.shuffle(members);
    for (const i of members.slice(0, Math.round(rate * members.length))) flipped.add(i);
  }
  return { noisy: labels.map((l, i) => (flipped.has(i) ? 1 - l : l)), flipped };
}

/**
 * Precision at each rank r (1-based, stored at r − 1): the share of `order`'s first r images that are in
 * `flipped`. `order` is a ranking of every image, the doubts first.
 */
export function precisionAtRanks(order: readonly number[], flipped: ReadonlySet<number>): Float64Array {
  const out = new Float64Array(order.length);
  let hits = 0;
  order.forEach((i, r) => {
    if (flipped.has(i)) hits++;
    out[r] = hits / (r + 1);
  });
  return out;
}

export interface RankedDoubts {
  /** The doubt list: indices, best doubt first. */
  doubts: number[];
  /** Every index: the doubts, then the rest by the same score. */
  order: number[];
}

export interface TrialResult {
  seed: number;
  planted: number;
  doubts: number;
  /** Planted flips in the doubt list. */
  hits: number;
}

export interface CalibrationCurve {
  trials: TrialResult[];
  /** Mean over trials of the precision at each rank (index r − 1), one value per image. */
  precision: Float64Array;
  /** Means over trials of the doubt list's recall and precision on the planted flips. */
  recall: number;
  listPrecision: number;
}

export interface CalibrateOptions {
  labels: readonly number[];
  /** Each image's duplicate group: the trials' folds keep a group together, as the real folds do. */
  groups: readonly (string | number)[];
  folds: number;
  /** The fold seed, as the real computation's; the trials' flip seeds are drawn from it. */
  seed: number;
  trials: number;
  flipRate: number;
  /** p(class 1) per image, fit on `labels` over `folds` (out of fold). */
  probabilities: (labels: readonly number[], folds: Int32Array, trial: number) => Float64Array | Promise<Float64Array>;
  /** The doubt list the real computation makes from such probabilities. */
  rank: (labels: readonly number[], p1: Float64Array) => RankedDoubts;
  signal?: AbortSignal | undefined;
}

/** The flip seed of each trial: a child stream of the fold seed, so one --seed reproduces everything. */
export function trialSeeds(seed: number, trials: number): number[] {
  const rng = new Rng(seed ^ 0x5f1195);
  return Array.from({ length: trials }, () => rng.seed());
}

export async function calibrate(opts: CalibrateOptions): Promise<CalibrationCurve> {
  const n = opts.labels.length;
  if (opts.groups.length !== n) throw new RangeError(`${opts.groups.length} groups for ${n} labels`);
  if (!Number.isInteger(opts.trials) || opts.trials < 1) throw new RangeError(`trials must be a whole number ≥ 1; received ${opts.trials}`);
  const sum = new Float64Array(n);
  const trials: TrialResult[] = [];
  let recall = 0;
  let listPrecision = 0;
  for (const [t, seed] of trialSeeds(opts.seed, opts.trials).entries()) {
    throwIfAborted(opts.signal);
    const { noisy, flipped } = plantFlips(opts.labels, opts.flipRate, seed);
    const folds = assignFolds(noisy.map((label, i) => ({ label, group: opts.groups[i] ?? i })), opts.folds, opts.seed);
    const p1 = await opts.probabilities(noisy, folds, t);
    const ranked = opts.rank(noisy, p1);
    if (ranked.order.length !== n) throw new RangeError(`a ranking of ${ranked.order.length} images for ${n}`);
    const curve = precisionAtRanks(ranked.order, flipped);
    for (let r = 0; r < n; r++) sum[r] = (sum[r] ?? 0) + (curve[r] ?? 0);
    const hits = ranked.doubts.filter((i) => flipped.has(i)).length;
    trials.push({ seed, planted: flipped.size, doubts: ranked.doubts.length, hits });
    recall += flipped.size > 0 ? hits / flipped.size : 0;
    listPrecision += ranked.doubts.length > 0 ? hits / ranked.doubts.length : 0;
  }
  const k = opts.trials;
  return { trials, precision: sum.map((s) => s / k), recall: recall / k, listPrecision: listPrecision / k };
}

/** The curve's figure for a 1-based rank; ranks past the curve (a list longer than the images) take its last. */
export function expectedPrecisionAt(curve: Float64Array, rank: number): number | null {
  if (curve.length === 0) return null;
  return curve[Math.min(curve.length, Math.max(1, rank)) - 1] ?? null;
}
