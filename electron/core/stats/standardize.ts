/**
 * Per-dimension standardisation of feature vectors, light enough for any module (no TensorFlow.js): the
 * transfer head trains on it (train-transfer.ts folds it into its first Dense layer afterwards) and the
 * label doubts' out-of-fold logistic regressions do too.
 */

export interface FeatureStats {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * Per-dimension mean and standard deviation of the training rows (one learning rate then suits every base,
 * whatever the scale of its features); a constant dimension keeps its scale (sd 1).
 */
export function featureStats(train: readonly Float32Array[], dim: number): FeatureStats {
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (const f of train) for (let j = 0; j < dim; j++) mean[j] = (mean[j] ?? 0) + (f[j] ?? 0) / train.length;
  for (const f of train) for (let j = 0; j < dim; j++) std[j] = (std[j] ?? 0) + ((f[j] ?? 0) - (mean[j] ?? 0)) ** 2 / train.length;
  for (let j = 0; j < dim; j++) {
    const s = Math.sqrt(std[j] ?? 0);
    std[j] = s > 1e-6 ? s : 1; // a constant dimension stays as it is
  }
  return { mean, std };
}

export function standardize(features: readonly Float32Array[], stats: FeatureStats): Float32Array[] {
  return features.map((f) => f.map((v, j) => (v - (stats.mean[j] ?? 0)) / (stats.std[j] ?? 1)));
}
