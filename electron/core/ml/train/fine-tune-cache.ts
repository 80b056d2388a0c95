/**
 * Transfer stage 2 on cached activations. Fine-tuning the top N layers of a frozen base never changes what
 * the layers below them compute, so ONNX Runtime runs everything below a cut once per image and the
 * activations there go to disk; TensorFlow.js then trains only the model above the cut (the top base layers
 * and the head) on them, epoch after epoch, instead of running the whole base forward and backward on
 * pixels. The cut must be one tensor that everything above depends on: in Inception, ResNet and Xception
 * that is a block boundary, so the cut snaps down to the nearest one below the lowest unfrozen layer (the
 * layers between stay frozen but are computed in the top model).
 *
 * Without augmentation the activations are one per image; with it, training images also get the
 * activations of their horizontal mirror (cached too) and each epoch draws one of the two per image. Crops
 * and colour jitter would need a copy per draw and are not done here.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted } from '../../jobs/progress';
import { loadPixels, packPixels, type ImageSource, type ResizeMode } from '../pixels';
import { VectorCache } from '../inference/features';
import { mirror } from '../inference/tta';
import { buildTopModel, chooseCut, type CutChoice } from '../models/submodel';
import type { Preprocessing } from '../models/types';
import type { Rng } from '../../random';

export interface ActivationKey {
  architecture: string;
  inputSize: number;
  resize: ResizeMode;
  /** sha256 (hex) of what identifies the base's weights. */
  weightsHash: string;
  cut: string;
}

/**
 * Under cache/features (so `cache clear` removes them with the features): one little-endian float32 file
 * per image and variant, `<dir>/<sha[0:2]>/<sha>.f32` and `<sha>.flip.f32`.
 */
export function activationCacheDir(cacheDir: string, key: ActivationKey): string {
  return join(cacheDir, 'features', `cut-${key.architecture}-${key.inputSize}-${key.resize}-${key.weightsHash.slice(0, 16)}-${key.cut}`);
}

export type Variant = 'plain' | 'flip';

export class ActivationCache extends VectorCache {
  constructor(cacheDir: string, key: ActivationKey, size: number) {
    super(activationCacheDir(cacheDir, key), size);
  }
}

const variantSuffix = (v: Variant): string => (v === 'flip' ? '.flip' : '');

/** Mirrors an RGB image (HWC, uint8) left to right: the same mirror as test-time augmentation's. */
export const flipHorizontal = mirror;

export interface ActivationRequest {
  src: ImageSource;
  variant: Variant;
}

export interface ExtractActivationsOptions {
  pixelCacheDir: string;
  inputSize: number;
  resize: ResizeMode;
  /** Null: extract everything and keep nothing (random weights, which no other run shares). */
  cache: ActivationCache | null;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Images decoded and run per step (each step's results are cached before the next: resumable). */
  chunk?: number;
  /** Images per ONNX Runtime call. */
  batch?: number;
}

/**
 * The activations at layer `cut` of `model` for each request, in order, computed by ONNX Runtime on the
 * sub-graph from the raw pixels (preprocessing inside the graph) to the cut. Cached ones are read.
 * Throws if ONNX Runtime does not load (the caller then fine-tunes from pixels).
 */
export async function extractActivations(
  model: tf.LayersModel,
  preprocessing: Preprocessing,
  cut: string,
  requests: readonly ActivationRequest[],
  opts: ExtractActivationsOptions,
): Promise<Float32Array[]> {
  const out: Array<Float32Array | null> = await Promise.all(requests.map((r) => (opts.cache ? opts.cache.get(r.src.sha256, variantSuffix(r.variant)) : null)));
  const missing = out.flatMap((a, i) => (a === null ? [i] : []));
  const total = requests.length;
  let done = total - missing.length;
  opts.onProgress?.(done, total);
  if (missing.length === 0) return out.map((a) => a ?? new Float32Array(0));

  const [{ exportOnnx }, { getSession, releaseSession, runBatch }] = await Promise.all([import('../onnx/export'), import('../onnx/runtime')]);
  const exported = exportOnnx(model, { preprocessing, outputLayers: [cut] });
  const session = await getSession(exported.bytes);
  try {
    const size = opts.inputSize;
    const chunk = opts.chunk ?? 64;
    const batch = opts.batch ?? 8;
    for (let start = 0; start < missing.length; start += chunk) {
      throwIfAborted(opts.signal);
      const idx = missing.slice(start, start + chunk);
      const sources = idx.map((i) => requests[i]?.src).filter((s): s is ImageSource => s !== undefined);
      const pixels = await loadPixels(opts.pixelCacheDir, sources, size, opts.resize, opts.signal ? { signal: opts.signal } : {});
      const images = pixels.map((p, k) => (requests[idx[k] ?? -1]?.variant === 'flip' ? flipHorizontal(p, size) : p));
      for (let b = 0; b < images.length; b += batch) {
        throwIfAborted(opts.signal);
        const part = images.slice(b, b + batch);
        const r = await runBatch(session, packPixels(part, size), [part.length, size, size, 3]);
        const per = r.data.length / part.length;
        for (let k = 0; k < part.length; k++) {
          const i = idx[b + k];
          const req = i === undefined ? undefined : requests[i];
          if (i === undefined || !req) throw new Error('internal: activation request out of range');
          const a = r.data.slice(k * per, (k + 1) * per);
          out[i] = a;
          if (opts.cache) await opts.cache.put(req.src.sha256, a, variantSuffix(req.variant));
        }
        done += part.length;
        opts.onProgress?.(done, total);
      }
    }
  } finally {
    await releaseSession(session);
  }
  return out.map((a) => a ?? new Float32Array(0));
}

export interface CachedFineTuneInput {
  /** Base + head with stage 1's weights, its top layers already unfrozen (`open`). */
  classifier: tf.LayersModel;
  open: readonly string[];
  preprocessing: Preprocessing;
  resize: ResizeMode;
  /** What identifies the base (the cache key's rest is known here); null keeps nothing on disk. */
  key: Pick<ActivationKey, 'architecture' | 'weightsHash'> | null;
  cacheDir: string;
  items: { train: readonly ImageSource[]; val: readonly ImageSource[]; test: readonly ImageSource[]; submission: readonly ImageSource[] };
  /** Mirrored copies of the training images (see the file comment). */
  flip: boolean;
  rng: Rng;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface CachedFineTune {
  choice: CutChoice;
  /** What the run's config records: the cut, why there, and what stage 2 trains on. */
  description: string;
  /** The model above the cut: train this one, then `copyBack`. */
  top: tf.LayersModel;
  trainBatch(idx: readonly number[]): tf.Tensor;
  valBatch(idx: readonly number[]): tf.Tensor;
  /** Probabilities of the current top model for one split. */
  predict(split: 'val' | 'test' | 'submission', batchSize: number): Promise<Float32Array>;
  /** The top model's weights into the classifier (by layer name). */
  copyBack(): number;
  dispose(): void;
}

function describe(choice: CutChoice, open: number, flip: boolean): string {
  return (
    `cached activations at '${choice.cut}' [${choice.shape.join('x')}] (ONNX Runtime, once per image): ` +
    `the top ${open} weighted base layers and the head trainable; the ${choice.layersAbove} layers above the cut ` +
    `(${choice.weightedAbove} with weights, head included) run in TensorFlow.js; ` +
    (flip ? 'augmentation: horizontal flip only (mirrored copies cached)' : 'no augmentation')
  );
}

/**
 * Chooses the cut below the open layers, extracts (or reads) the activations of every image there and
 * builds the top model. Null when no cut lies below the open layers.
 */
export async function prepareCachedFineTune(input: CachedFineTuneInput): Promise<CachedFineTune | null> {
  const { classifier, items } = input;
  const choice = chooseCut(classifier, new Set(input.open));
  if (!choice) return null;
  const [inShape] = classifier.inputs.map((i) => i.shape);
  const inputSize = inShape?.[1];
  if (typeof inputSize !== 'number') throw new Error(`${classifier.name}: input size unknown`);
  const per = choice.shape.reduce((a, b) => a * b, 1);
  const key = input.key ? { ...input.key, inputSize, resize: input.resize, cut: choice.cut } : null;
  const cache = key ? new ActivationCache(input.cacheDir, key, per) : null;
  const splits = [items.train, items.val, items.test, items.submission];
  const requests: ActivationRequest[] = splits.flatMap((s) => s.map((src) => ({ src, variant: 'plain' as const })));
  if (input.flip) requests.push(...items.train.map((src) => ({ src, variant: 'flip' as const })));
  const acts = await extractActivations(classifier, input.preprocessing, choice.cut, requests, {
    pixelCacheDir: input.cacheDir,
    inputSize,
    resize: input.resize,
    cache,
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
  });
  const offsets: number[] = [];
  splits.reduce((o, s) => (offsets.push(o), o + s.length), 0);
  const slice = (k: number): Float32Array[] => acts.slice(offsets[k] ?? 0, (offsets[k] ?? 0) + (splits[k]?.length ?? 0));
  const bySplit = { train: slice(0), val: slice(1), test: slice(2), submission: slice(3) };
  const total = splits.reduce((a, s) => a + s.length, 0);
  const flipped = input.flip ? acts.slice(total) : null;

  const tensor = (rows: readonly Float32Array[], idx: readonly number[], pick?: (i: number) => Float32Array | undefined): tf.Tensor => {
    const buf = new Float32Array(idx.length * per);
    idx.forEach((i, k) => {
      const a = pick ? pick(i) : rows[i];
      if (!a || a.length !== per) throw new RangeError(`activations: row ${i} is missing or not ${per} long`);
      buf.set(a, k * per);
    });
    return tf.tensor(buf, [idx.length, ...choice.shape]);
  };
  const top = buildTopModel(classifier, choice.cut);
  let disposed = false;
  const rng = input.rng;
  return {
    choice,
    description: describe(choice, input.open.length, input.flip),
    top,
    trainBatch: (idx) => tensor(bySplit.train, idx, flipped ? (i) => (rng.next() < 0.5 ? flipped[i] : bySplit.train[i]) : undefined),
    valBatch: (idx) => tensor(bySplit.val, idx),
    async predict(split, batchSize) {
      const rows = bySplit[split];
      const probs = new Float32Array(rows.length);
      for (let s = 0; s < rows.length; s += batchSize) {
        const idx = Array.from({ length: Math.min(batchSize, rows.length - s) }, (_, k) => s + k);
        const p = tf.tidy(() => {
          const y = top.predict(tensor(rows, idx));
          if (Array.isArray(y)) throw new Error(`${top.name} has ${y.length} outputs`);
          return y;
        });
        probs.set((await p.data()) as Float32Array, s);
        p.dispose();
      }
      return probs;
    },
    copyBack() {
      let copied = 0;
      for (const layer of top.layers) {
        if (layer.weights.length === 0) continue;
        classifier.getLayer(layer.name).setWeights(layer.getWeights());
        copied++;
      }
      return copied;
    },
    dispose() {
      if (!disposed) top.dispose();
      disposed = true;
    },
  };
}
