/**
 * Transfer learning. Stage 1: the frozen base runs once per image (features cached on disk by
 * architecture, input size, weights and image) and the head (GAP → dropout → Dense sigmoid) trains on
 * the vectors in seconds. Stage 2 (fineTuneLayers > 0): the classifier, base + trained head, with the top
 * N weighted base layers unfrozen, trains from pixels at a lower learning rate; BatchNormalization stays
 * in inference mode (Keras's advice for fine-tuning), and stage 2 is kept only if it beats stage 1.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { batchTensor, DEFAULT_AUGMENT } from '../augment';
import { loadPixels, type ImageSource } from '../pixels';
import type { FeatureExtractor } from '../feature-extractor';
import { extractFeatures, FeatureCache } from '../inference/features';
import { prepareCachedFineTune } from './fine-tune-cache';
import { buildBase, buildClassifier, buildHead, HEAD_PREFIX } from '../models';
import { createFeatureExtractor } from '../inference/engine';
import type { Preprocessing, TransferModelName } from '../models/types';
import { Rng } from '../../random';
import { featureStats, standardize } from '../../stats/standardize';
import type { TrainItem } from '../runs/store';
import { classWeightsFor } from './config';
import { disposeSnapshot, fit, predictProbabilities, restoreWeights, snapshotWeights, type Best, type FitHooks, type FitOptions } from './loop';
import { copyWeightsByName, predictionRows, saveCheckpoint, seedInit, throttle, type Environment, type PredictionRow, type RunIo, type RunJob } from './run';
import { loadWeightsInto } from '../weights';

function featureTensor(features: readonly Float32Array[], idx: readonly number[], dim: number): tf.Tensor2D {
  const buf = new Float32Array(idx.length * dim);
  idx.forEach((i, k) => {
    const f = features[i];
    if (!f || f.length !== dim) throw new RangeError(`features: row ${i} is missing or not ${dim} long`);
    buf.set(f, k * dim);
  });
  return tf.tensor2d(buf, [idx.length, dim]);
}

/** Dense(W, b) on (x − m) / s equals Dense(W / s, b − (m / s)·W) on x: rewrites the layer to take raw x. */
export function foldStandardization(model: tf.LayersModel, stats: { mean: Float32Array; std: Float32Array }): void {
  const first = model.layers.find((l) => l.name === `${HEAD_PREFIX}hidden`) ?? model.getLayer(`${HEAD_PREFIX}dense`);
  const [kernel, bias] = first.getWeights();
  if (!kernel || !bias) throw new Error(`${first.name} has no kernel and bias`);
  const folded = tf.tidy(() => {
    const s = tf.tensor2d(stats.std, [stats.std.length, 1]);
    const m = tf.tensor2d(stats.mean, [1, stats.mean.length]);
    const w = tf.div(kernel, s);
    const b = tf.sub(bias, tf.matMul(tf.div(m, tf.reshape(s, [1, -1])), kernel).reshape([-1]));
    return [w, b];
  });
  first.setWeights(folded);
  tf.dispose(folded);
}

/** Freezes the whole classifier except its head and the top `n` base layers that own weights. */
export function unfreezeTop(model: tf.LayersModel, n: number): string[] {
  const weighted = model.layers.filter((l) => !l.name.startsWith(HEAD_PREFIX) && l.weights.length > 0);
  const open = new Set(weighted.slice(Math.max(0, weighted.length - n)).map((l) => l.name));
  for (const l of model.layers) l.trainable = l.name.startsWith(HEAD_PREFIX) || open.has(l.name);
  return [...open];
}

function better(a: Best | null, b: Best | null): boolean {
  if (a === null) return false;
  if (b === null) return true;
  const x = a.valAuc ?? -1;
  const y = b.valAuc ?? -1;
  return x > y || (x === y && a.valLogLoss < b.valLogLoss);
}

export async function runTransfer(job: RunJob, io: RunIo, env: { backend: string; device: string }): Promise<void> {
  const cfg = job.config;
  const arch = cfg.model as TransferModelName;
  const size = cfg.inputSize;
  const progress = throttle((m) => io.post(m));
  const rng = new Rng(cfg.seed);
  const { train, val, test, submission } = job.items;
  const all: TrainItem[] = [...train, ...val, ...test, ...submission];
  const cancelledResult = (best: Best | null): void => io.post({ type: 'finished', status: 'cancelled', best, imagesPerSecond: null, throughputBasis: 'features' });
  const abort = new AbortController();
  const checkCancel = (): void => {
    if (io.cancelled()) abort.abort();
  };

  // ---- stage 1: features
  progress('weights', 0, 1);
  const base = buildBase(arch, { inputSize: size, pooling: 'avg' });
  let head: tf.LayersModel | null = null;
  let extractor: FeatureExtractor | null = null;
  try {
    const loaded = await loadWeightsInto(arch, base, cfg.weights, job.weightsDir ? { dir: job.weightsDir } : {});
    const preprocessing: Preprocessing = loaded.preprocessing;
    progress('weights', 1, 1);
    // features agree within 1e-4 between the engines, so the cache below is shared by both (not keyed by engine)
    const choice = await createFeatureExtractor(cfg.engine, base, preprocessing);
    extractor = choice.extractor;
    const fallback = choice.fallback;
    const cache =
      loaded.weightsId === 'none'
        ? null
        : new FeatureCache(
            job.cacheDir,
            { architecture: arch, inputSize: size, resize: cfg.resize, weightsHash: createHash('sha256').update(loaded.weightsId).digest('hex') },
            extractor.featureSize,
          );
    let features: Float32Array[];
    try {
      ({ features } = await extractFeatures(extractor, cache, job.cacheDir, all as ImageSource[], {
        resize: cfg.resize,
        signal: abort.signal,
        onProgress: (done, total) => {
          checkCancel();
          progress('features', done, total);
        },
      }));
    } catch (err) {
      if (io.cancelled()) return cancelledResult(null);
      throw err;
    }
    const dim = extractor.featureSize;
    const stats = featureStats(features.slice(0, train.length), dim);
    const z = standardize(features, stats);
    const slices = {
      train: z.slice(0, train.length),
      val: z.slice(train.length, train.length + val.length),
      test: z.slice(train.length + val.length, train.length + val.length + test.length),
      submission: z.slice(train.length + val.length + test.length),
    };

    // ---- stage 1: head
    head = buildHead(dim, { dropout: cfg.headDropout });
    seedInit(head, rng);
    const runEnv: Environment = {
      ...env,
      engine: extractor.info.engine,
      provider: extractor.info.provider,
      ...(fallback !== null ? { engineFallback: fallback } : {}),
      params: base.countParams() + head.countParams(),
    };
    io.post({ type: 'environment', env: runEnv });
    const trainLabels = train.map((t) => t.label);
    const valLabels = val.map((v) => v.label);
    const common: Omit<FitOptions, 'epochs' | 'lr' | 'stage' | 'firstEpoch' | 'training' | 'phase'> = {
      batchSize: cfg.batchSize,
      optimizer: cfg.optimizer,
      momentum: cfg.momentum,
      patience: cfg.patience,
      classWeights: classWeightsFor(cfg.classWeights, trainLabels),
      rng,
    };
    const hooks: FitHooks = { cancelled: () => io.cancelled(), progress, epoch: (row) => io.post({ type: 'epoch', row }) };
    const headModel = head;
    const stage1 = await fit(
      headModel,
      {
        trainLabels,
        trainBatch: (idx) => featureTensor(slices.train, idx, dim),
        valLabels,
        valBatch: (idx) => featureTensor(slices.val, idx, dim),
      },
      { ...common, epochs: cfg.epochs, lr: cfg.lr, stage: 1, firstEpoch: 1, training: true, phase: 'head' },
      hooks,
    );
    // head epochs train on cached feature vectors; only fine-tuning from pixels runs images through the network
    let seconds = stage1.trainSeconds;
    let images = stage1.trainImages;
    let pixelSeconds = 0;
    let pixelImages = 0;
    if (stage1.cancelled) return cancelledResult(stage1.best);

    const headRows = async (): Promise<PredictionRow[]> => {
      const predict = async (f: Float32Array[]): Promise<Float32Array> =>
        predictProbabilities(headModel, f.length, (idx) => featureTensor(f, idx, dim), 256);
      return [
        ...predictionRows(val, 'val', await predict(slices.val)),
        ...predictionRows(test, 'test', await predict(slices.test)),
        ...predictionRows(submission, 'submission', await predict(slices.submission)),
      ];
    };
    const classifier = buildClassifier(arch, { inputSize: size, dropout: cfg.headDropout });
    try {
      copyWeightsByName(base, classifier);
      copyWeightsByName(headModel, classifier);
      foldStandardization(classifier, stats);
      let best = stage1.best;
      let rows: PredictionRow[];
      const open = cfg.fineTuneLayers > 0 ? unfreezeTop(classifier, cfg.fineTuneLayers) : [];
      // ---- stage 2 on activations that ONNX Runtime cached at a cut below the open layers
      const cached =
        cfg.fineTuneLayers > 0 && extractor.info.engine === 'onnx'
          ? await prepareCachedFineTune({
              classifier, open, preprocessing, resize: cfg.resize, cacheDir: job.cacheDir, flip: cfg.augment, rng: new Rng(rng.seed()),
              key: cache ? { architecture: arch, weightsHash: createHash('sha256').update(loaded.weightsId).digest('hex') } : null,
              items: { train, val, test, submission },
              signal: abort.signal,
              onProgress: (done, total) => {
                checkCancel();
                progress('activations', done, total);
              },
            }).catch((err: unknown) => {
              if (io.cancelled()) return 'cancelled' as const;
              throw err;
            })
          : null;
      if (cached === 'cancelled') return cancelledResult(best);
      if (cached) {
        try {
          io.post({ type: 'environment', env: { ...runEnv, fineTune: cached.description } });
          const stage2 = await fit(
            cached.top,
            { trainLabels, trainBatch: cached.trainBatch, valLabels, valBatch: cached.valBatch },
            { ...common, epochs: cfg.fineTuneEpochs, lr: cfg.fineTuneLr, stage: 2, firstEpoch: stage1.epochs.length + 1, training: false, phase: 'fine-tune' },
            hooks,
          );
          seconds += stage2.trainSeconds;
          images += stage2.trainImages;
          const won = better(stage2.best, best);
          if (stage2.cancelled) return cancelledResult(won ? stage2.best : best);
          // the top model is a copy: the classifier keeps stage 1's weights unless stage 2 won
          if (won) {
            best = stage2.best;
            cached.copyBack();
            rows = [
              ...predictionRows(val, 'val', await cached.predict('val', cfg.batchSize)),
              ...predictionRows(test, 'test', await cached.predict('test', cfg.batchSize)),
              ...predictionRows(submission, 'submission', await cached.predict('submission', cfg.batchSize)),
            ];
          } else {
            rows = await headRows();
          }
        } finally {
          cached.dispose();
        }
      } else if (cfg.fineTuneLayers > 0) {
        // ---- stage 2 from pixels (TensorFlow.js engine, or no cut below the open layers)
        const pixels = await loadPixels(job.cacheDir, all as ImageSource[], size, cfg.resize, {
          signal: abort.signal,
          onProgress: (done, total) => {
            checkCancel();
            progress('decode', done, total);
          },
        }).catch((err: unknown) => {
          if (io.cancelled()) return null;
          throw err;
        });
        if (pixels === null) return cancelledResult(best);
        const px = {
          train: pixels.slice(0, train.length),
          val: pixels.slice(train.length, train.length + val.length),
          test: pixels.slice(train.length + val.length, train.length + val.length + test.length),
          submission: pixels.slice(train.length + val.length + test.length),
        };
        const before = snapshotWeights(classifier);
        try {
          const augRng = new Rng(rng.seed());
          const stage2 = await fit(
            classifier,
            {
              trainLabels,
              trainBatch: (idx) => batchTensor(px.train, idx, size, preprocessing, cfg.augment ? { rng: augRng, opts: DEFAULT_AUGMENT } : undefined),
              valLabels,
              valBatch: (idx) => batchTensor(px.val, idx, size, preprocessing),
            },
            {
              ...common,
              epochs: cfg.fineTuneEpochs,
              lr: cfg.fineTuneLr,
              stage: 2,
              firstEpoch: stage1.epochs.length + 1,
              training: false,
              phase: 'fine-tune',
            },
            hooks,
          );
          pixelSeconds += stage2.trainSeconds;
          pixelImages += stage2.trainImages;
          if (stage2.cancelled) return cancelledResult(better(stage2.best, best) ? stage2.best : best);
          if (better(stage2.best, best)) best = stage2.best;
          else restoreWeights(classifier, before);
        } finally {
          disposeSnapshot(before);
        }
        const predict = async (p: Uint8Array[]): Promise<Float32Array> =>
          predictProbabilities(classifier, p.length, (idx) => batchTensor(p, idx, size, preprocessing), cfg.batchSize);
        rows = [
          ...predictionRows(val, 'val', await predict(px.val)),
          ...predictionRows(test, 'test', await predict(px.test)),
          ...predictionRows(submission, 'submission', await predict(px.submission)),
        ];
      } else {
        rows = await headRows();
      }
      progress('save', 0, 1);
      await saveCheckpoint(classifier, job, preprocessing);
      progress('save', 1, 1);
      io.post({ type: 'predictions', rows });
      // a figure of one kind: images through the network when a stage trained from pixels, else feature vectors
      const fromPixels = pixelSeconds > 0;
      const [n, s] = fromPixels ? [pixelImages, pixelSeconds] : [images, seconds];
      io.post({ type: 'finished', status: 'done', best, imagesPerSecond: s > 0 ? n / s : null, throughputBasis: fromPixels ? 'pixels' : 'features' });
    } finally {
      classifier.dispose();
    }
  } finally {
    head?.dispose();
    await extractor?.dispose();
    base.dispose();
  }
}
