/**
 * The FeatureExtractor on ONNX Runtime: the base is exported once with Keras's preprocessing and global
 * average pooling inside the graph, so raw pixels go in and pooled features come out of one native call.
 */
import type * as tf from '@tensorflow/tfjs';
import { throwIfAborted } from '../../jobs/progress';
import {
  checkBatch,
  type ExtractOptions,
  type ExtractorInfo,
  type FeatureExtractor,
  type ImageBatch,
} from '../feature-extractor';
import type { Preprocessing } from '../models/types';
import { exportOnnx } from './export';
import { getSession, releaseSession, runBatch, type OnnxSession, type OnnxSessionOptions } from './runtime';

export interface OnnxExtractorOptions extends OnnxSessionOptions {
  /** Images per ONNX Runtime call (larger input batches are split). Default 8. */
  maxBatch?: number;
}

export class OnnxFeatureExtractor implements FeatureExtractor {
  readonly info: ExtractorInfo;
  private released = false;

  private constructor(
    private readonly session: OnnxSession,
    readonly inputSize: number,
    readonly featureSize: number,
    private readonly maxBatch: number,
  ) {
    this.info = { engine: 'onnx', provider: session.provider, threads: session.threads };
  }

  /**
   * From a tfjs base (its current weights) and the preprocessing its weights expect. A base whose output is
   * a 4-D feature map gets global average pooling appended; one that already pools is kept as it is.
   */
  static async fromModel(
    base: tf.LayersModel,
    preprocessing: Preprocessing,
    opts: OnnxExtractorOptions = {},
  ): Promise<OnnxFeatureExtractor> {
    const exported = exportOnnx(base, { preprocessing, pool: 'avg' });
    return OnnxFeatureExtractor.fromOnnx(exported.bytes, opts);
  }

  /**
   * From an ONNX model (path or bytes) that takes raw RGB [batch, S, S, 3] in [0, 255] and returns
   * [batch, F], as `exportOnnx(base, { preprocessing, pool: 'avg' })` writes it.
   */
  static async fromOnnx(model: string | Uint8Array, opts: OnnxExtractorOptions = {}): Promise<OnnxFeatureExtractor> {
    const maxBatch = opts.maxBatch ?? 8;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer; received ${maxBatch}`);
    const session = await getSession(model, opts);
    try {
      const input = session.session.inputMetadata[0];
      const output = session.session.outputMetadata[0];
      const inShape = input?.isTensor ? input.shape : [];
      const outShape = output?.isTensor ? output.shape : [];
      const size = inShape[1];
      const features = outShape[1];
      if (inShape.length !== 4 || typeof size !== 'number' || inShape[2] !== size || inShape[3] !== 3) {
        throw new Error(`ONNX extractor: input must be [batch, S, S, 3]; the model's is [${inShape.join(', ')}]`);
      }
      if (outShape.length !== 2 || typeof features !== 'number') {
        throw new Error(`ONNX extractor: output must be pooled features [batch, F]; the model's is [${outShape.join(', ')}]`);
      }
      return new OnnxFeatureExtractor(session, size, features, maxBatch);
    } catch (err) {
      await releaseSession(session);
      throw err;
    }
  }

  async extract(batches: Iterable<ImageBatch> | AsyncIterable<ImageBatch>, opts: ExtractOptions = {}): Promise<Float32Array[]> {
    if (this.released) throw new Error('ONNX extractor used after dispose()');
    const { signal, onProgress } = opts;
    const total = opts.total ?? null;
    const size = this.inputSize;
    const perImage = size * size * 3;
    const f = this.featureSize;
    const out: Float32Array[] = [];
    throwIfAborted(signal);
    for await (const batch of batches) {
      checkBatch(batch, size);
      for (let start = 0; start < batch.count; start += this.maxBatch) {
        throwIfAborted(signal);
        const n = Math.min(this.maxBatch, batch.count - start);
        const px = batch.pixels.subarray(start * perImage, (start + n) * perImage);
        // a float32 copy of just this slice (uint8 converted); small next to the inference itself
        const data = new Float32Array(px);
        const r = await runBatch(this.session, data, [n, size, size, 3]);
        for (let i = 0; i < n; i++) out.push(r.data.slice(i * f, (i + 1) * f));
        onProgress?.({ done: out.length, total });
      }
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await releaseSession(this.session);
  }
}
