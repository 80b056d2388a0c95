/**
 * The one interface every inference path goes through (frozen-base features, prediction, evaluation, label
 * doubts): raw pixels in, one pooled feature vector per image out. Engines: ONNX Runtime (onnx/runtime.ts)
 * and TensorFlow.js. Kept narrow so an engine is easy to add and to swap.
 */

/**
 * `count` images, NHWC, raw RGB in [0, 255] (not preprocessed: the extractor applies its model's
 * preprocessing), already resized to the extractor's `inputSize`: pixels.length = count·size·size·3.
 */
export interface ImageBatch {
  pixels: Float32Array | Uint8Array;
  count: number;
}

export interface ExtractProgress {
  done: number;
  /** Known when the caller said how many images to expect. */
  total: number | null;
}

export interface ExtractOptions {
  /** Images expected in all (for progress only). */
  total?: number;
  onProgress?: (p: ExtractProgress) => void;
  /** Aborting stops after the batch in flight; `extract` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ExtractorInfo {
  engine: 'onnx' | 'tfjs';
  /** e.g. 'cpu' / 'cuda' for ONNX Runtime, the tfjs backend name for TensorFlow.js. */
  provider: string;
  threads: number | null;
}

export interface FeatureExtractor {
  readonly inputSize: number;
  /** Length of each feature vector. */
  readonly featureSize: number;
  readonly info: ExtractorInfo;
  /** One Float32Array of `featureSize` per image, in input order. */
  extract(batches: Iterable<ImageBatch> | AsyncIterable<ImageBatch>, opts?: ExtractOptions): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** Checks a batch's size against the extractor's input size; the message says what was received. */
export function checkBatch(batch: ImageBatch, inputSize: number): void {
  const expected = batch.count * inputSize * inputSize * 3;
  if (!Number.isInteger(batch.count) || batch.count < 0 || batch.pixels.length !== expected) {
    throw new RangeError(
      `image batch: ${batch.pixels.length} values for ${batch.count} images of ${inputSize}×${inputSize}×3 (expected ${expected})`,
    );
  }
}
