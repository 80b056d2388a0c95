/**
 * A tf.layers model's probabilities for rows it is handed batch by batch, in inference mode: what a training
 * engine reports for a split and what scoring a stopped run's checkpoint uses.
 */
import * as tf from '@tensorflow/tfjs';

/** The model's one output for `x` (training: dropout on, BatchNormalization's batch statistics). */
export function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  const out = model.apply(x, { training });
  if (Array.isArray(out) || !(out instanceof tf.Tensor)) throw new Error(`model ${model.name} must have one output`);
  return out;
}

/** Probabilities for `count` rows, batch by batch, in inference mode. */
export async function predictProbabilities(
  model: tf.LayersModel,
  count: number,
  batch: (indices: readonly number[]) => tf.Tensor,
  batchSize: number,
  cancelled: () => boolean = () => false,
): Promise<Float32Array> {
  const out = new Float32Array(count);
  for (let start = 0; start < count; start += batchSize) {
    if (cancelled()) break;
    const idx = Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k);
    const p = tf.tidy(() => {
      const x = batch(idx);
      return forward(model, x, false);
    });
    out.set((await p.data()) as Float32Array, start);
    p.dispose();
  }
  return out;
}
