/**
 * Confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in Dataset
 * Labels", JAIR 2021), on out-of-fold probabilities, for any number of classes:
 *
 * 1. Per-class threshold t_j = mean p(j) over the images labelled j (the model's expected confidence in j).
 * 2. Confident joint C[i][j]: an image labelled i counts in column j when p(j) ≥ t_j (of several such
 *    classes, the most probable one); images above no threshold are not counted.
 * 3. Calibrate C so each row sums to the number of images labelled i.
 * 4. Prune by noise rate (the paper's Cl:PBNR, cleanlab's default): for each i ≠ j, the round(C̃[i][j])
 *    images labelled i with the largest margin p(j) − p(i) are label issues, suggested j.
 * 5. As cleanlab does, an image whose most probable class is its given label is never an issue.
 *
 * Issues are ranked by self-confidence p(given), lowest first.
 *
 * Other cuts were measured and not taken (real Spot the Mask labels, 5 % of each class flipped, seeds 5, 6, 7,
 * the views' mean features, means over the seeds): this one, recall 0.73, precision 0.34 (141 doubts);
 * cleanlab's 'both' (also p(suggested) ≥ its threshold) and the confident joint's off-diagonal, 0.65 / 0.43
 * (98); the global top-K by self-confidence with K the calibrated noise count, the same as this one in the
 * binary case; p(given) < 0.2, 0.56 / 0.54; < 0.1, 0.33 / 0.71. The ranking itself is the limit: where it
 * reaches 80 % of the flips, 0.31 of the images above are flips, so no cut of it gives both 0.80 and 0.60.
 * Fixed L2 strengths (0.01–1, on the image's own features) instead of the log-loss grid, a k-nearest-neighbour
 * vote and its mean with the logistic probabilities did no better; 299 px features alone were between the
 * 224 px image (0.22 at 80 % recall) and its views (0.31); 299 px with its mirror, 0.33; the 224 px views'
 * mean with the 299 px features, 0.34–0.35, for extractions at a second size (not taken yet). With nsfwjs
 * InceptionV3 features, ~0.35 looks like the ceiling; a better backbone (ImageNet weights) is the next lever.
 */

export interface LabelIssue {
  index: number;
  given: number;
  suggested: number;
  /** p(given): the self-confidence the ranking uses. */
  selfConfidence: number;
  /** p(suggested) − p(given). */
  margin: number;
}

export interface ConfidentLearningResult {
  /** t_j per class; NaN for a class nobody is labelled with. */
  thresholds: number[];
  /** C[given][counted as]. */
  joint: number[][];
  /** Calibrated joint: rows sum to the class counts. */
  calibrated: number[][];
  /** Ranked, lowest self-confidence first (ties by index). */
  issues: LabelIssue[];
}

/** `probs[i]` holds p(class j) for image i (each row sums to 1); `labels[i]` is its given class. */
export function confidentLearning(labels: readonly number[], probs: ReadonlyArray<ArrayLike<number>>): ConfidentLearningResult {
  const n = labels.length;
  if (probs.length !== n) throw new RangeError(`${probs.length} probability rows for ${n} labels`);
  const k = probs[0]?.length ?? 0;
  const p = (i: number, j: number): number => probs[i]?.[j] ?? 0;
  const classCount = new Array<number>(k).fill(0);
  const sums = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    const s = labels[i] ?? -1;
    if (!Number.isInteger(s) || s < 0 || s >= k) throw new RangeError(`image ${i}: label ${s} outside 0..${k - 1}`);
    classCount[s]! += 1;
    sums[s]! += p(i, s);
  }
  const thresholds = sums.map((s, j) => ((classCount[j] ?? 0) > 0 ? s / (classCount[j] ?? 1) : Number.NaN));

  const joint = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (let j = 0; j < k; j++) {
      const t = thresholds[j] ?? Number.NaN;
      if (Number.isNaN(t) || p(i, j) < t) continue;
      if (best < 0 || p(i, j) > p(i, best)) best = j;
    }
    if (best >= 0) joint[labels[i] ?? 0]![best]! += 1;
  }
  const calibrated = joint.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (total > 0 ? (c / total) * (classCount[i] ?? 0) : 0));
  });

  const picked = new Map<number, LabelIssue>();
  for (let i = 0; i < k; i++) {
    const members: number[] = [];
    for (let x = 0; x < n; x++) if (labels[x] === i) members.push(x);
    for (let j = 0; j < k; j++) {
      if (j === i) continue;
      const count = Math.round(calibrated[i]?.[j] ?? 0);
      if (count <= 0) continue;
      const byMargin = members
        .map((x) => ({ x, margin: p(x, j) - p(x, i) }))
        .sort((a, b) => b.margin - a.margin || a.x - b.x)
        .slice(0, count);
      for (const { x, margin } of byMargin) {
        const prev = picked.get(x);
        if (!prev || margin > prev.margin) picked.set(x, { index: x, given: i, suggested: j, selfConfidence: p(x, i), margin });
      }
    }
  }
  const issues = [...picked.values()].filter((issue) => {
    let argmax = 0;
    for (let j = 1; j < k; j++) if (p(issue.index, j) > p(issue.index, argmax)) argmax = j;
    return argmax !== issue.given;
  });
  issues.sort((a, b) => a.selfConfidence - b.selfConfidence || a.index - b.index);
  return { thresholds, joint, calibrated, issues };
}

/**
 * Every image ranked: the issues in their order, then the others by self-confidence, lowest first (ties by
 * index). What a calibration trial reads its precision at each rank from, past the end of its list too.
 */
export function rankAll(labels: readonly number[], probs: ReadonlyArray<ArrayLike<number>>, issues: readonly LabelIssue[]): number[] {
  const listed = new Set(issues.map((i) => i.index));
  const rest: Array<{ x: number; s: number }> = [];
  labels.forEach((l, x) => {
    if (!listed.has(x)) rest.push({ x, s: probs[x]?.[l] ?? 0 });
  });
  rest.sort((a, b) => a.s - b.s || a.x - b.x);
  return [...issues.map((i) => i.index), ...rest.map((r) => r.x)];
}
