/**
 * Frozen-base features: the TensorFlow.js `FeatureExtractor` (the interface lives in feature-extractor.ts,
 * shared with the ONNX Runtime engine) and the disk cache that lets a second run, or a second head on the
 * same base, skip the base entirely. A cache entry is keyed by what determines the vector: architecture,
 * input size, resize mode, a hash of the base's weight values, and the image's sha256.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../../atomic-write';
import { throwIfAborted } from '../../jobs/progress';
import { loadPixels, packPixels, type ImageSource, type ResizeMode } from '../pixels';
import { checkBatch, type ExtractOptions, type ExtractorInfo, type FeatureExtractor, type ImageBatch } from '../feature-extractor';
import { preprocess } from '../models/preprocessing';
import type { TtaView } from './tta';
import type { Preprocessing } from '../models/types';

export type { FeatureExtractor, ImageBatch } from '../feature-extractor';

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const err = new Error('cancelled');
  err.name = 'AbortError';
  return err;
}

/**
 * Runs a LayersModel whose output is one pooled vector per image ([n, d]), e.g. `buildBase(name,
 * {pooling: 'avg'})` with its weights loaded. The model stays the caller's unless `owns` is set.
 */
export class TfjsFeatureExtractor implements FeatureExtractor {
  readonly inputSize: number;
  readonly featureSize: number;
  readonly info: ExtractorInfo;
  readonly #model: tf.LayersModel;
  readonly #preprocessing: Preprocessing;
  readonly #owns: boolean;

  constructor(model: tf.LayersModel, preprocessing: Preprocessing, opts: { owns?: boolean } = {}) {
    const inShape = model.inputs[0]?.shape;
    const outShape = model.outputs[0]?.shape;
    if (!inShape || inShape.length !== 4 || inShape[1] !== inShape[2] || typeof inShape[1] !== 'number' || inShape[3] !== 3) {
      throw new RangeError(`feature extractor: model ${model.name} must take square RGB images; its input is [${String(inShape)}]`);
    }
    if (!outShape || outShape.length !== 2 || typeof outShape[1] !== 'number') {
      throw new RangeError(`feature extractor: model ${model.name} must output pooled vectors [n, d]; its output is [${String(outShape)}]`);
    }
    this.inputSize = inShape[1];
    this.featureSize = outShape[1];
    this.#model = model;
    this.#preprocessing = preprocessing;
    this.#owns = opts.owns ?? false;
    this.info = { engine: 'tfjs', provider: tf.getBackend(), threads: null };
  }

  async extract(batches: Iterable<ImageBatch> | AsyncIterable<ImageBatch>, opts: ExtractOptions = {}): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const size = this.inputSize;
    for await (const batch of batches) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      checkBatch(batch, size);
      if (batch.count === 0) continue;
      const y = tf.tidy(() => {
        const x = tf.tensor4d(batch.pixels instanceof Float32Array ? batch.pixels : Float32Array.from(batch.pixels), [batch.count, size, size, 3]);
        const r = this.#model.predict(preprocess(x, this.#preprocessing));
        if (Array.isArray(r)) throw new Error(`feature extractor: model ${this.#model.name} has ${r.length} outputs`);
        return r;
      });
      const values = (await y.data()) as Float32Array;
      y.dispose();
      for (let i = 0; i < batch.count; i++) out.push(values.slice(i * this.featureSize, (i + 1) * this.featureSize));
      opts.onProgress?.({ done: out.length, total: opts.total ?? null });
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.#owns) this.#model.dispose();
  }
}

/** sha256 over every weight's shape and values, in the model's order: what "the same base" means. */
export function weightsHash(model: tf.LayersModel): string {
  const h = createHash('sha256');
  for (const w of model.weights) {
    const v = w.read();
    h.update(`${w.name}:${v.shape.join('x')};`);
    const data = v.dataSync();
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex');
}

export interface FeatureKey {
  architecture: string;
  inputSize: number;
  resize: ResizeMode;
  weightsHash: string;
}

export function featureCacheDir(cacheDir: string, key: FeatureKey): string {
  return join(cacheDir, 'features', `${key.architecture}-${key.inputSize}-${key.resize}-${key.weightsHash.slice(0, 16)}`);
}

/**
 * One little-endian float32 vector of a fixed length per file, `<dir>/<sha[0:2]>/<sha><suffix>.f32`: a
 * vector of another length (a file from another model) reads as missing.
 */
export class VectorCache {
  readonly dir: string;
  readonly #size: number;

  constructor(dir: string, size: number) {
    this.dir = dir;
    this.#size = size;
  }

  #file(sha256: string, suffix: string): string {
    return join(this.dir, sha256.slice(0, 2), `${sha256}${suffix}.f32`);
  }

  async get(sha256: string, suffix = ''): Promise<Float32Array | null> {
    try {
      const buf = await readFile(this.#file(sha256, suffix));
      if (buf.byteLength !== this.#size * 4) return null;
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    } catch {
      return null;
    }
  }

  async put(sha256: string, v: Float32Array, suffix = ''): Promise<void> {
    if (v.length !== this.#size) throw new RangeError(`vector cache ${this.dir}: ${v.length} values, expected ${this.#size}`);
    await writeFileAtomic(this.#file(sha256, suffix), new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
}

/** A frozen base's pooled features, one file per image. */
export class FeatureCache extends VectorCache {
  constructor(cacheDir: string, key: FeatureKey, featureSize: number) {
    super(featureCacheDir(cacheDir, key), featureSize);
  }
}

export interface ExtractCachedOptions {
  resize: ResizeMode;
  /** Images per extractor call; each chunk's vectors are cached before the next starts (resumable). */
  chunk?: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** A TTA view of each image (its features cached beside the image's own, suffixed by the view's name). */
  view?: TtaView;
}

/**
 * Features for every source, in order: cached ones read, the rest decoded (pixel cache), extracted and
 * written. `cache` null extracts everything (e.g. random weights, whose features no other run shares).
 */
export async function extractFeatures(
  extractor: FeatureExtractor,
  cache: FeatureCache | null,
  pixelCacheDir: string,
  sources: readonly ImageSource[],
  opts: ExtractCachedOptions,
): Promise<{ features: Float32Array[]; cached: number }> {
  const view = opts.view;
  const suffix = view && view.name !== '' ? `.${view.name}` : '';
  const features: Array<Float32Array | null> = await Promise.all(sources.map((s) => (cache ? cache.get(s.sha256, suffix) : null)));
  const missing = features.flatMap((f, i) => (f === null ? [i] : []));
  const cached = sources.length - missing.length;
  const total = sources.length;
  opts.onProgress?.(cached, total);
  const chunk = opts.chunk ?? 64;
  const batchSize = opts.batchSize ?? 16;
  const size = extractor.inputSize;
  for (let start = 0; start < missing.length; start += chunk) {
    throwIfAborted(opts.signal);
    const idx = missing.slice(start, start + chunk);
    const decoded = await loadPixels(pixelCacheDir, idx.map((i) => sources[i] as ImageSource), size, opts.resize, opts.signal ? { signal: opts.signal } : {});
    const pixels = view ? decoded.map((p) => view.apply(p, size)) : decoded;
    const batches: ImageBatch[] = [];
    for (let b = 0; b < pixels.length; b += batchSize) {
      const part = pixels.slice(b, b + batchSize);
      batches.push({ pixels: packPixels(part, size), count: part.length });
    }
    const done0 = cached + start;
    const vectors = await extractor.extract(batches, {
      total: idx.length,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (p) => opts.onProgress?.(done0 + p.done, total),
    });
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k] as number;
      const v = vectors[k];
      const src = sources[i];
      if (!v || !src) throw new Error(`feature extractor returned ${vectors.length} vectors for ${idx.length} images`);
      features[i] = v;
      if (cache) await cache.put(src.sha256, v, suffix);
    }
  }
  return { features: features.map((f) => f ?? new Float32Array(0)), cached };
}

export async function clearFeatureCache(cacheDir: string): Promise<void> {
  await rm(join(cacheDir, 'features'), { recursive: true, force: true });
}
