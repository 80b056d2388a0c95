/**
 * Test-time augmentation of a transfer run's evaluation. A frozen head scores cached base features, so a
 * view's probability needs the base's features of that view: they are extracted once, like the image's own,
 * and cached beside them (`<sha>.<view>.f32`), standardised by the training split's statistics and scored by
 * the same head. The head trains on the images' own features only. A top fine-tuned on cached activations is
 * scored with TTA as the whole classifier on the views' pixels (ONNX Runtime where it loads), because the
 * activation cache holds no crops.
 */
import * as tf from '@tensorflow/tfjs';
import type { EnginePref } from '../../../../shared/names';
import type { FeatureExtractor, ImageBatch } from '../feature-extractor';
import { createFeatureExtractor } from '../inference/engine';
import { extractFeatures, type FeatureCache } from '../inference/features';
import { predictProbabilities } from '../inference/probabilities';
import { ttaMean, type TtaMode, type TtaView } from '../inference/tta';
import type { Preprocessing } from '../models/types';
import { loadPixels, packPixels, type ImageSource, type ResizeMode } from '../pixels';
import type { TrainItem } from '../runs/store';
import { standardize, type featureStats } from '../../stats/standardize';

export type EvalSplit = 'val' | 'test' | 'submission';
export type EvalItems = Record<EvalSplit, TrainItem[]>;

/** Rows `idx` of per-image feature vectors as one [n, dim] tensor. */
export function featureTensor(features: readonly Float32Array[], idx: readonly number[], dim: number): tf.Tensor2D {
  const buf = new Float32Array(idx.length * dim);
  idx.forEach((i, k) => {
    const f = features[i];
    if (!f || f.length !== dim) throw new RangeError(`features: row ${i} is missing or not ${dim} long`);
    buf.set(f, k * dim);
  });
  return tf.tensor2d(buf, [idx.length, dim]);
}

export interface HeadScorerInput {
  tta: TtaMode;
  head: tf.LayersModel;
  extractor: FeatureExtractor;
  cache: FeatureCache | null;
  cacheDir: string;
  resize: ResizeMode;
  items: EvalItems;
  /** The images' own standardised features per split (the identity view). */
  own: Record<EvalSplit, Float32Array[]>;
  stats: ReturnType<typeof featureStats>;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The head's probabilities for a split, the mean over the TTA views' features (each view extracted once). */
export function headScorer(input: HeadScorerInput): (split: EvalSplit) => Promise<Float32Array> {
  const dim = input.extractor.featureSize;
  const order: EvalSplit[] = ['val', 'test', 'submission'];
  const all = order.flatMap((s) => input.items[s]);
  const byView = new Map<string, Promise<Record<EvalSplit, Float32Array[]>>>();
  const viewFeatures = (view: TtaView): Promise<Record<EvalSplit, Float32Array[]>> => {
    if (view.name === '') return Promise.resolve(input.own);
    let p = byView.get(view.name);
    if (p === undefined) {
      p = extractFeatures(input.extractor, input.cache, input.cacheDir, all as ImageSource[], {
        resize: input.resize,
        view,
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.onProgress ? { onProgress: input.onProgress } : {}),
      }).then(({ features }) => {
        const std = standardize(features, input.stats);
        const a = input.items.val.length;
        const b = a + input.items.test.length;
        return { val: std.slice(0, a), test: std.slice(a, b), submission: std.slice(b) };
      });
      byView.set(view.name, p);
    }
    return p;
  };
  return (split) =>
    ttaMean(input.tta, async (view) => {
      const f = (await viewFeatures(view))[split];
      return predictProbabilities(input.head, f.length, (idx) => featureTensor(f, idx, dim), 256);
    });
}

/** The whole classifier (base and head, one output) on each view's pixels, averaged: for a top fine-tuned on cached activations. */
export async function classifierTtaScorer(
  classifier: tf.LayersModel,
  preprocessing: Preprocessing,
  engine: EnginePref,
  opts: { tta: TtaMode; cacheDir: string; size: number; resize: ResizeMode; items: EvalItems; batchSize: number },
): Promise<{ score: (split: EvalSplit) => Promise<Float32Array>; dispose: () => Promise<void> }> {
  const { extractor } = await createFeatureExtractor(engine, classifier, preprocessing);
  const score = async (split: EvalSplit): Promise<Float32Array> => {
    const px = await loadPixels(opts.cacheDir, opts.items[split] as ImageSource[], opts.size, opts.resize);
    return ttaMean(opts.tta, async (view) => {
      // one batch of a view's pixels alive at a time
      function* batches(): Generator<ImageBatch> {
        for (let b = 0; b < px.length; b += opts.batchSize) {
          const part = px.slice(b, b + opts.batchSize).map((img) => view.apply(img, opts.size));
          yield { pixels: packPixels(part, opts.size), count: part.length };
        }
      }
      const out = await extractor.extract(batches());
      return Float32Array.from(out, (v) => v[0] ?? Number.NaN);
    });
  };
  return { score, dispose: () => extractor.dispose() };
}
