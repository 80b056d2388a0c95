/**
 * Batches as tensors: uint8 pixels → float → (augmentation) → the model's preprocessing. Augmentation is
 * for end-to-end training only and is seeded: random resized crop and horizontal flip in one
 * cropAndResize (a box whose x1 > x2 samples the crop mirrored), then per-image brightness and contrast.
 */
import * as tf from '@tensorflow/tfjs';
import { preprocess } from './models/preprocessing';
import type { Preprocessing } from './models/types';
import type { Rng } from '../random';

export interface AugmentOptions {
  flip: boolean;
  /** Random resized crop: the crop's area is in [minArea, 1] of the image, its aspect in [1/maxAspect, maxAspect]. */
  minArea: number;
  maxAspect: number;
  /** Brightness shift up to ± this fraction of full scale. */
  brightness: number;
  /** Contrast factor in [1 − contrast, 1 + contrast]. */
  contrast: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { flip: true, minArea: 0.6, maxAspect: 4 / 3, brightness: 0.15, contrast: 0.2 };

/** One crop box per image, normalised [y1, x1, y2, x2]; flipped boxes have x1 > x2. */
export function augmentBoxes(count: number, rng: Rng, opts: AugmentOptions): number[][] {
  const boxes: number[][] = [];
  for (let i = 0; i < count; i++) {
    const area = rng.range(opts.minArea, 1);
    const logAspect = rng.range(-Math.log(opts.maxAspect), Math.log(opts.maxAspect));
    const aspect = Math.exp(logAspect);
    const w = Math.min(1, Math.sqrt(area * aspect));
    const h = Math.min(1, Math.sqrt(area / aspect));
    const x0 = rng.range(0, 1 - w);
    const y0 = rng.range(0, 1 - h);
    const flip = opts.flip && rng.next() < 0.5;
    boxes.push(flip ? [y0, x0 + w, y0 + h, x0] : [y0, x0, y0 + h, x0 + w]);
  }
  return boxes;
}

/**
 * `images[indices[k]]` as one preprocessed NHWC tensor (the caller disposes it). Pixels are size·size·3
 * uint8 each; with `augment`, every image gets its own crop, flip, brightness and contrast from `rng`.
 */
export function batchTensor(
  images: readonly Uint8Array[],
  indices: readonly number[],
  size: number,
  preprocessing: Preprocessing,
  augment?: { rng: Rng; opts: AugmentOptions },
): tf.Tensor4D {
  const per = size * size * 3;
  const buf = new Float32Array(indices.length * per);
  indices.forEach((idx, k) => {
    const img = images[idx];
    if (!img || img.length !== per) throw new RangeError(`batch: image ${idx} is missing or not ${size}×${size}×3`);
    buf.set(img, k * per);
  });
  return tf.tidy(() => {
    let x: tf.Tensor4D = tf.tensor4d(buf, [indices.length, size, size, 3]);
    if (augment) {
      const { rng, opts } = augment;
      const n = indices.length;
      const boxes = augmentBoxes(n, rng, opts);
      x = tf.image.cropAndResize(x, tf.tensor2d(boxes, [n, 4]), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [size, size], 'bilinear');
      const contrast = Array.from({ length: n }, () => rng.range(1 - opts.contrast, 1 + opts.contrast));
      const shift = Array.from({ length: n }, () => rng.range(-opts.brightness, opts.brightness) * 255);
      const mean = tf.mean(x, [1, 2, 3], true);
      const c = tf.tensor4d(contrast, [n, 1, 1, 1]);
      const b = tf.tensor4d(shift, [n, 1, 1, 1]);
      x = tf.clipByValue(tf.add(tf.add(tf.mul(tf.sub(x, mean), c), mean), b), 0, 255) as tf.Tensor4D;
    }
    return preprocess(x, preprocessing);
  });
}

/** Labels as a [n, 1] float tensor, in `indices` order. */
export function labelTensor(labels: ArrayLike<number>, indices: readonly number[]): tf.Tensor2D {
  const y = new Float32Array(indices.length);
  indices.forEach((idx, k) => {
    y[k] = labels[idx] ?? 0;
  });
  return tf.tensor2d(y, [indices.length, 1]);
}
