/**
 * An image's probability with its faces, one rule for label doubts (doubts/faces.ts) and for a model scored
 * with `--faces` (ml/inference/faces.ts): the mean of the whole image's probability and its most confident
 * face's (p of class 1 highest), or the whole image's alone where no face was found.
 *
 * Measured on the real Spot the Mask labels, out of fold over the 1,107 train+val images of the seed-42 split:
 * - doubts' logistic heads on nsfwjs InceptionV3 features (1,302 images): AUC 0.939 whole image → 0.981;
 * - the fine-tuned nsfwjs InceptionV3 5-fold run, each fold's own checkpoint scoring its held-out images'
 *   crops (no training on faces): AUC 0.951 → 0.970, log loss 0.306 → 0.231. The highest face alone scored
 *   0.934 (faces that are not the subject, a mask photo whose face was missed), the mean over an image's faces
 *   0.974: the highest is kept, the rule the doubts chose for their recall, so both mean the same thing.
 */
export function withFaceScore(whole: number, faces: ArrayLike<number>): number {
  if (faces.length === 0) return whole;
  let best = -Infinity;
  for (let k = 0; k < faces.length; k++) {
    const v = faces[k];
    if (v !== undefined && Number.isFinite(v)) best = Math.max(best, v);
  }
  return Number.isFinite(best) ? (whole + best) / 2 : whole;
}
