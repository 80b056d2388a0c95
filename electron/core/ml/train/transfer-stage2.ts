/**
 * Stage 2 of a transfer run: the classifier with its top base layers open trains on ONNX Runtime's (or
 * TensorFlow.js's) engine from activations cached at a cut below them, or from pixels where there is no such
 * cut; it is kept only if it beats stage 1. What every step of a transfer run shares (Ctx, the split slices)
 * lives here too, since stage 1 in transfer.ts reads it.
 */
import * as tf from '@tensorflow/tfjs';
import { batchTensor, DEFAULT_AUGMENT } from '../augment';
import { loadPixels, type ImageSource } from '../pixels';
import { prepareCachedFineTune } from './fine-tune-cache';
import type { Preprocessing, TransferModelName } from '../models/types';
import { Rng } from '../../random';
import type { TrainItem } from '../runs/store';
import type { EngineInfo } from './engine';
import { engineLabel, fitOnEngine } from './engine-fit';
import { disposeSnapshot, fit, predictProbabilities, restoreWeights, snapshotWeights, type Best, type FitHooks, type FitOptions } from './loop';
import { classifierTtaScorer } from './transfer-tta';
import { ttaMean } from '../inference/tta';
import { predictionRows, throttle, type Environment, type PredictionRow, type RunIo, type RunJob } from './run';

export function withTrainEngine(env: Environment, part: 'head' | 'top', info: EngineInfo, fallback: string | null): Environment {
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
export interface Ctx {
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

export type Split = 'train' | 'val' | 'test' | 'submission';
export type Slices<T> = Record<Split, T[]>;

/** One array in the order train, val, test, submission, cut back into the four. */
export function sliceSplits<T>(all: readonly T[], items: RunJob['items']): Slices<T> {
  const a = items.train.length;
  const b = a + items.val.length;
  const c = b + items.test.length;
  return { train: all.slice(0, a), val: all.slice(a, b), test: all.slice(b, c), submission: all.slice(c) };
}

/** The val, test and submission rows from one probability function per split. */
export async function rowsFrom(items: RunJob['items'], predict: (split: Exclude<Split, 'train'>) => Promise<Float32Array>): Promise<PredictionRow[]> {
  return [
    ...predictionRows(items.val, 'val', await predict('val')),
    ...predictionRows(items.test, 'test', await predict('test')),
    ...predictionRows(items.submission, 'submission', await predict('submission')),
  ];
}

/** Work (seconds, images) and the result of one stage-2 path; null when the path does not apply. */
export interface Stage2Result {
  /** Stopped by the person: `best` is what to report, `rows` are not made. */
  cancelled: boolean;
  best: Best | null;
  rows: PredictionRow[] | null;
  seconds: number;
  images: number;
  /** Stage 2 ran images through the network (from pixels), not cached activations through the top. */
  fromPixels: boolean;
}

export interface Stage2Args {
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
export async function fineTuneCached(ctx: Ctx, a: Stage2Args): Promise<Stage2Result | 'cancelled' | null> {
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
export async function fineTunePixels(ctx: Ctx, a: Stage2Args): Promise<Stage2Result | 'cancelled'> {
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
