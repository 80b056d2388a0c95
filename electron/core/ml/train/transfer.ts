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
import type { EngineInfo } from './engine';
import { engineLabel, fitOnEngine } from './engine-fit';
import { disposeSnapshot, fit, predictProbabilities, restoreWeights, snapshotWeights, type Best, type FitHooks, type FitOptions } from './loop';
import { classifierTtaScorer, featureTensor, headScorer } from './transfer-tta';
import { ttaMean } from '../inference/tta';
import { bestWithTta, copyWeightsByName, predictionRows, saveCheckpoint, seedInit, throttle, type Environment, type PredictionRow, type RunIo, type RunJob } from './run';
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
function withTrainEngine(env: Environment, part: 'head' | 'top', info: EngineInfo, fallback: string | null): Environment {
  const own = `${part}: ${engineLabel(info)}`;
  return {
    ...env,
    trainEngine: env.trainEngine !== undefined ? `${env.trainEngine}, ${own}` : own,
    ...(env.engineFallback === undefined && fallback !== null ? { engineFallback: `${part}: ${fallback}` } : {}),
  };
}

function better(a: Best | null, b: Best | null): boolean {
  if (a === null) return false;
  if (b === null) return true;
  const x = a.valAuc ?? -1;
  const y = b.valAuc ?? -1;
  return x > y || (x === y && a.valLogLoss < b.valLogLoss);
}

/** What every step of a transfer run shares. */
interface Ctx {
  job: RunJob;
  io: RunIo;
  arch: TransferModelName;
  size: number;
  rng: Rng;
  progress: ReturnType<typeof throttle>;
  signal: AbortSignal;
  checkCancel: () => void;
  items: RunJob['items'];
}

type Split = 'train' | 'val' | 'test' | 'submission';
type Slices<T> = Record<Split, T[]>;

/** One array in the order train, val, test, submission, cut back into the four. */
function sliceSplits<T>(all: readonly T[], items: RunJob['items']): Slices<T> {
  const a = items.train.length;
  const b = a + items.val.length;
  const c = b + items.test.length;
  return { train: all.slice(0, a), val: all.slice(a, b), test: all.slice(b, c), submission: all.slice(c) };
}

/** The val, test and submission rows from one probability function per split. */
async function rowsFrom(items: RunJob['items'], predict: (split: Exclude<Split, 'train'>) => Promise<Float32Array>): Promise<PredictionRow[]> {
  return [
    ...predictionRows(items.val, 'val', await predict('val')),
    ...predictionRows(items.test, 'test', await predict('test')),
    ...predictionRows(items.submission, 'submission', await predict('submission')),
  ];
}

/** Work (seconds, images) and the result of one stage-2 path; null when the path does not apply. */
interface Stage2Result {
  /** Stopped by the person: `best` is what to report, `rows` are not made. */
  cancelled: boolean;
  best: Best | null;
  rows: PredictionRow[] | null;
  seconds: number;
  images: number;
  /** Stage 2 ran images through the network (from pixels), not cached activations through the top. */
  fromPixels: boolean;
}

interface Stage2Args {
  classifier: tf.LayersModel;
  open: string[];
  preprocessing: Preprocessing;
  weightsHash: string | null;
  common: Omit<FitOptions, 'epochs' | 'lr' | 'stage' | 'firstEpoch' | 'training' | 'phase'>;
  hooks: FitHooks;
  labels: { train: number[]; val: number[] };
  firstEpoch: number;
  best: Best | null;
  runEnv: Environment;
}

/** Stage 2 on activations that ONNX Runtime cached at a cut below the open layers. */
async function fineTuneCached(ctx: Ctx, a: Stage2Args): Promise<Stage2Result | 'cancelled' | null> {
  const cfg = ctx.job.config;
  const cached = await prepareCachedFineTune({
    classifier: a.classifier, open: a.open, preprocessing: a.preprocessing, resize: cfg.resize, cacheDir: ctx.job.cacheDir,
    flip: cfg.augment, rng: new Rng(ctx.rng.seed()),
    key: a.weightsHash !== null ? { architecture: ctx.arch, weightsHash: a.weightsHash } : null,
    items: ctx.items,
    signal: ctx.signal,
    onProgress: (done, total) => {
      ctx.checkCancel();
      ctx.progress('activations', done, total);
    },
  }).catch((err: unknown) => {
    if (ctx.io.cancelled()) return 'cancelled' as const;
    throw err;
  });
  if (cached === 'cancelled' || cached === null) return cached;
  try {
    ctx.io.post({ type: 'environment', env: { ...a.runEnv, fineTune: cached.description } });
    // the top model trains on the run's engine: ONNX Runtime's training graph of the layers above the cut
    const stage2 = await fitOnEngine(
      cfg.engine,
      cached.top,
      { trainLabels: a.labels.train, trainBatch: cached.trainBatch, valLabels: a.labels.val, valBatch: cached.valBatch },
      { ...a.common, epochs: cfg.fineTuneEpochs, lr: cfg.fineTuneLr, stage: 2, firstEpoch: a.firstEpoch, training: false, phase: 'fine-tune' },
      a.hooks,
      (info, fallback) => ctx.io.post({ type: 'environment', env: withTrainEngine({ ...a.runEnv, fineTune: cached.description }, 'top', info, fallback) }),
    );
    const won = better(stage2.best, a.best);
    const result: Stage2Result = { cancelled: stage2.cancelled, best: won ? stage2.best : a.best, rows: null, seconds: stage2.trainSeconds, images: stage2.trainImages, fromPixels: false };
    if (stage2.cancelled) return result;
    // the top model is a copy: the classifier keeps stage 1's weights unless stage 2 won
    if (won) {
      cached.copyBack();
      result.rows = cfg.tta === 'none' ? await rowsFrom(ctx.items, (split) => cached.predict(split, cfg.batchSize)) : await classifierRows(ctx, a);
    }
    return result;
  } finally {
    cached.dispose();
  }
}

/** The fine-tuned classifier's rows with TTA: the activation cache holds no views, so the whole classifier scores their pixels. */
async function classifierRows(ctx: Ctx, a: Stage2Args): Promise<PredictionRow[]> {
  const cfg = ctx.job.config;
  const scorer = await classifierTtaScorer(a.classifier, a.preprocessing, cfg.engine, {
    tta: cfg.tta, cacheDir: ctx.job.cacheDir, size: ctx.size, resize: cfg.resize, items: ctx.items, batchSize: cfg.batchSize,
  });
  try {
    return await rowsFrom(ctx.items, scorer.score);
  } finally {
    await scorer.dispose();
  }
}

/** Stage 2 from pixels (TensorFlow.js engine, or no cut below the open layers). */
async function fineTunePixels(ctx: Ctx, a: Stage2Args): Promise<Stage2Result | 'cancelled'> {
  const cfg = ctx.job.config;
  const { size } = ctx;
  const all: TrainItem[] = [...ctx.items.train, ...ctx.items.val, ...ctx.items.test, ...ctx.items.submission];
  const pixels = await loadPixels(ctx.job.cacheDir, all as ImageSource[], size, cfg.resize, {
    signal: ctx.signal,
    onProgress: (done, total) => {
      ctx.checkCancel();
      ctx.progress('decode', done, total);
    },
  }).catch((err: unknown) => {
    if (ctx.io.cancelled()) return null;
    throw err;
  });
  if (pixels === null) return 'cancelled';
  const px = sliceSplits(pixels, ctx.items);
  const before = snapshotWeights(a.classifier);
  let result: Stage2Result;
  try {
    const augRng = new Rng(ctx.rng.seed());
    const stage2 = await fit(
      a.classifier,
      {
        trainLabels: a.labels.train,
        trainBatch: (idx) => batchTensor(px.train, idx, size, a.preprocessing, cfg.augment ? { rng: augRng, opts: DEFAULT_AUGMENT } : undefined),
        valLabels: a.labels.val,
        valBatch: (idx) => batchTensor(px.val, idx, size, a.preprocessing),
      },
      { ...a.common, epochs: cfg.fineTuneEpochs, lr: cfg.fineTuneLr, stage: 2, firstEpoch: a.firstEpoch, training: false, phase: 'fine-tune' },
      a.hooks,
    );
    const won = better(stage2.best, a.best);
    result = { cancelled: stage2.cancelled, best: won ? stage2.best : a.best, rows: null, seconds: stage2.trainSeconds, images: stage2.trainImages, fromPixels: true };
    if (stage2.cancelled) return result;
    if (!won) restoreWeights(a.classifier, before);
  } finally {
    disposeSnapshot(before);
  }
  result.rows = await rowsFrom(ctx.items, (split) =>
    ttaMean(cfg.tta, (view) =>
      predictProbabilities(a.classifier, px[split].length, (idx) => batchTensor(idx.map((i) => view.apply(px[split][i] as Uint8Array, size)), idx.map((_, k) => k), size, a.preprocessing), cfg.batchSize),
    ),
  );
  return result;
}

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
