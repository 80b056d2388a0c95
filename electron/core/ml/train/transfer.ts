/**
 * Transfer learning. Stage 1: the frozen base runs once per image (features cached on disk by
 * architecture, input size, weights and image) and the head (GAP → dropout → Dense sigmoid) trains on
 * the vectors in seconds. Stage 2 (fineTuneLayers > 0): the classifier, base + trained head, with the top
 * N weighted base layers unfrozen, trains from pixels at a lower learning rate; BatchNormalization stays
 * in inference mode (Keras's advice for fine-tuning), and stage 2 is kept only if it beats stage 1.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { ImageSource } from '../pixels';
import type { FeatureExtractor } from '../feature-extractor';
import { extractFeatures, FeatureCache } from '../inference/features';
import { buildBase, buildClassifier, buildHead, HEAD_PREFIX } from '../models';
import { createFeatureExtractor } from '../inference/engine';
import type { Preprocessing, TransferModelName } from '../models/types';
import { Rng } from '../../random';
import { featureStats, standardize } from '../../stats/standardize';
import type { TrainItem } from '../runs/store';
import { classWeightsFor } from './config';
import { fitOnEngine } from './engine-fit';
import { fineTuneCached, fineTunePixels, rowsFrom, sliceSplits, withTrainEngine, type Ctx, type Slices, type Stage2Args, type Stage2Result } from './transfer-stage2';
import type { Best, FitHooks } from './loop';
import { featureTensor, headScorer } from './transfer-tta';
import { bestWithTta, copyWeightsByName, saveCheckpoint, seedInit, throttle, type Environment, type PredictionRow, type RunIo, type RunJob } from './run';
import { loadWeightsInto } from '../weights';

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

/** The environment with the engine that trains `part` (head, top) added to what it records. */
/** Stage 1's input: every image's frozen-base features, standardised by the training split's statistics. */
async function stage1Features(
  ctx: Ctx,
  extractor: FeatureExtractor,
  weightsHash: string | null,
): Promise<{ slices: Slices<Float32Array>; stats: ReturnType<typeof featureStats>; cache: FeatureCache | null } | 'cancelled'> {
  const cfg = ctx.job.config;
  const all: TrainItem[] = [...ctx.items.train, ...ctx.items.val, ...ctx.items.test, ...ctx.items.submission];
  // features agree within 1e-4 between the engines, so the cache is shared by both (not keyed by engine)
  const cache =
    weightsHash === null
      ? null
      : new FeatureCache(ctx.job.cacheDir, { architecture: ctx.arch, inputSize: ctx.size, resize: cfg.resize, weightsHash }, extractor.featureSize);
  let features: Float32Array[];
  try {
    ({ features } = await extractFeatures(extractor, cache, ctx.job.cacheDir, all as ImageSource[], {
      resize: cfg.resize,
      signal: ctx.signal,
      onProgress: (done, total) => {
        ctx.checkCancel();
        ctx.progress('features', done, total);
      },
    }));
  } catch (err) {
    if (ctx.io.cancelled()) return 'cancelled';
    throw err;
  }
  const stats = featureStats(features.slice(0, ctx.items.train.length), extractor.featureSize);
  return { slices: sliceSplits(standardize(features, stats), ctx.items), stats, cache };
}

function postCancelled(io: RunIo, best: Best | null): void {
  io.post({ type: 'finished', status: 'cancelled', best, imagesPerSecond: null, throughputBasis: 'features' });
}

/** What stage 1 leaves for the classifier's stages: the base, the fitted head, its features and settings. */
interface HeadStage {
  base: tf.LayersModel;
  head: tf.LayersModel;
  extractor: FeatureExtractor;
  features: Exclude<Awaited<ReturnType<typeof stage1Features>>, 'cancelled'>;
  stage1: Awaited<ReturnType<typeof fitOnEngine>>;
  preprocessing: Preprocessing;
  weightsHash: string | null;
  common: Stage2Args['common'];
  hooks: FitHooks;
  labels: Stage2Args['labels'];
  runEnv: Environment;
}

/**
 * The whole classifier (base + head, standardisation folded in): stage 2's fine-tuning when asked for, then
 * the run's checkpoint, its predictions (with TTA, the mean over the views) and its end.
 */
async function classifierStages(ctx: Ctx, a: HeadStage): Promise<void> {
  const { job, io } = ctx;
  const cfg = job.config;
  const classifier = buildClassifier(ctx.arch, { inputSize: ctx.size, dropout: cfg.headDropout });
  try {
    copyWeightsByName(a.base, classifier);
    copyWeightsByName(a.head, classifier);
    foldStandardization(classifier, a.features.stats);
    // the head's evaluation: with TTA, the mean over the views' (cached) features
    const headScore = headScorer({
      tta: cfg.tta, head: a.head, extractor: a.extractor, cache: a.features.cache, cacheDir: job.cacheDir, resize: cfg.resize, items: job.items, own: a.features.slices, stats: a.features.stats, signal: ctx.signal,
      onProgress: (done, total) => {
        ctx.checkCancel();
        ctx.progress('features (TTA)', done, total);
      },
    });
    const headRows = (): Promise<PredictionRow[]> => rowsFrom(job.items, headScore);
    if (cfg.fineTuneLayers > 0 && a.stage1.best !== null) {
      // stage 2 is the slow part: stage 1's model is the run's checkpoint until stage 2 beats it
      await saveCheckpoint(classifier, job, a.preprocessing);
      io.post({ type: 'checkpoint', best: a.stage1.best, rows: await headRows() });
    }
    // ---- stage 2: the top of the base, on cached activations where ONNX Runtime made them, else pixels
    let stage2: Stage2Result | 'cancelled' | null = null;
    if (cfg.fineTuneLayers > 0) {
      const args: Stage2Args = {
        classifier, open: unfreezeTop(classifier, cfg.fineTuneLayers), preprocessing: a.preprocessing, weightsHash: a.weightsHash, common: a.common, hooks: a.hooks, labels: a.labels,
        firstEpoch: a.stage1.epochs.length + 1, best: a.stage1.best, runEnv: a.runEnv,
      };
      if (a.extractor.info.engine === 'onnx') stage2 = await fineTuneCached(ctx, args);
      if (stage2 === null) stage2 = await fineTunePixels(ctx, args);
    }
    if (stage2 === 'cancelled') return postCancelled(io, a.stage1.best);
    if (stage2?.cancelled === true) return postCancelled(io, stage2.best);
    const rows = stage2?.rows ?? (await headRows());
    // head epochs train on cached feature vectors; only fine-tuning from pixels runs images through the network
    const fromPixels = stage2?.fromPixels === true;
    const seconds = fromPixels ? (stage2?.seconds ?? 0) : a.stage1.trainSeconds + (stage2?.seconds ?? 0);
    const images = fromPixels ? (stage2?.images ?? 0) : a.stage1.trainImages + (stage2?.images ?? 0);
    ctx.progress('save', 0, 1);
    await saveCheckpoint(classifier, job, a.preprocessing);
    ctx.progress('save', 1, 1);
    io.post({ type: 'predictions', rows });
    const valProbs = Float32Array.from(rows.filter((r) => r.split === 'val'), (r) => r.probability);
    const best = bestWithTta(stage2?.best ?? a.stage1.best, cfg.tta, a.labels.val, valProbs);
    io.post({ type: 'finished', status: 'done', best, imagesPerSecond: seconds > 0 ? images / seconds : null, throughputBasis: fromPixels ? 'pixels' : 'features' });
  } finally {
    classifier.dispose();
  }
}

export async function runTransfer(job: RunJob, io: RunIo, env: { backend: string; device: string }): Promise<void> {
  const cfg = job.config;
  const abort = new AbortController();
  const ctx: Ctx = {
    job, io, arch: cfg.model as TransferModelName, size: cfg.inputSize, rng: new Rng(cfg.seed), progress: throttle((m) => io.post(m)),
    signal: abort.signal,
    checkCancel: () => {
      if (io.cancelled()) abort.abort();
    },
    items: job.items,
  };
  const { train, val } = job.items;
  const cancelledResult = (best: Best | null): void => postCancelled(io, best);

  ctx.progress('weights', 0, 1);
  const base = buildBase(ctx.arch, { inputSize: ctx.size, pooling: 'avg' });
  let head: tf.LayersModel | null = null;
  let extractor: FeatureExtractor | null = null;
  try {
    const loaded = await loadWeightsInto(ctx.arch, base, cfg.weights, job.weightsDir ? { dir: job.weightsDir } : {});
    const preprocessing: Preprocessing = loaded.preprocessing;
    const weightsHash = loaded.weightsId === 'none' ? null : createHash('sha256').update(loaded.weightsId).digest('hex');
    ctx.progress('weights', 1, 1);
    const choice = await createFeatureExtractor(cfg.engine, base, preprocessing);
    extractor = choice.extractor;
    const stage1Input = await stage1Features(ctx, extractor, weightsHash);
    if (stage1Input === 'cancelled') return cancelledResult(null);
    const { slices } = stage1Input;
    const dim = extractor.featureSize;

    // ---- stage 1: the head on the cached features
    head = buildHead(dim, { dropout: cfg.headDropout });
    seedInit(head, ctx.rng);
    let runEnv: Environment = {
      ...env,
      engine: extractor.info.engine,
      provider: extractor.info.provider,
      ...(choice.fallback !== null ? { engineFallback: choice.fallback } : {}),
      params: base.countParams() + head.countParams(),
    };
    io.post({ type: 'environment', env: runEnv });
    const labels = { train: train.map((t) => t.label), val: val.map((v) => v.label) };
    const common: Stage2Args['common'] = {
      batchSize: cfg.batchSize,
      optimizer: cfg.optimizer,
      schedule: cfg.lrSchedule,
      momentum: cfg.momentum,
      patience: cfg.patience,
      classWeights: classWeightsFor(cfg.classWeights, labels.train),
      rng: ctx.rng,
    };
    const hooks: FitHooks = { cancelled: () => io.cancelled(), progress: ctx.progress, epoch: (row) => io.post({ type: 'epoch', row }) };
    const headModel = head;
    const stage1 = await fitOnEngine(
      cfg.engine,
      headModel,
      { trainLabels: labels.train, trainBatch: (idx) => featureTensor(slices.train, idx, dim), valLabels: labels.val, valBatch: (idx) => featureTensor(slices.val, idx, dim) },
      { ...common, epochs: cfg.epochs, lr: cfg.lr, stage: 1, firstEpoch: 1, training: true, phase: 'head' },
      hooks,
      (info, fallback) => {
        runEnv = withTrainEngine(runEnv, 'head', info, fallback);
        io.post({ type: 'environment', env: runEnv });
      },
    );
    if (stage1.cancelled) return cancelledResult(stage1.best);

    await classifierStages(ctx, { base, head: headModel, extractor, features: stage1Input, stage1, preprocessing, weightsHash, common, hooks, labels, runEnv });
  } finally {
    head?.dispose();
    await extractor?.dispose();
    base.dispose();
  }
}
