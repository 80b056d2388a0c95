/**
 * The scratch CNN trained end to end from pixels, with seeded augmentation, on the engine the run asked for
 * (ONNX Runtime's training graph when 'auto' can load it). The checkpoint is the tfjs model either way.
 */
import { batchTensor, DEFAULT_AUGMENT } from '../augment';
import { loadPixels, type ImageSource } from '../pixels';
import { buildClassifier } from '../models';
import { Rng } from '../../random';
import { fit } from './loop';
import { classWeightsFor } from './config';
import { createTrainEngine, type TrainEngine } from './engine';
import { ttaMean } from '../inference/tta';
import { bestWithTta, predictionRows, saveCheckpoint, seedInit, throttle, type PredictionRow, type RunIo, type RunJob } from './run';
import type { TrainItem } from '../runs/store';

/** The dropout masks (either engine's) get their own stream from the run's seed, leaving the run's stream (shuffles) as it was. */
function dropoutSeed(seed: number): number {
  return new Rng((seed ^ 0x5eed) >>> 0).seed();
}

/** The decoded pixels of each split, in the job's order. */
interface SplitPixels {
  train: Uint8Array[];
  val: Uint8Array[];
  test: Uint8Array[];
  submission: Uint8Array[];
}

/** Decodes (or reads from the cache) every image of the run at its input size; null when cancelled meanwhile. */
async function decodeSplits(job: RunJob, io: RunIo, progress: ReturnType<typeof throttle>): Promise<SplitPixels | null> {
  const cfg = job.config;
  const { train, val, test, submission } = job.items;
  const all: TrainItem[] = [...train, ...val, ...test, ...submission];
  const signal = new AbortController();
  const pixels = await loadPixels(job.cacheDir, all as ImageSource[], cfg.inputSize, cfg.resize, {
    signal: signal.signal,
    onProgress: (done, total) => {
      if (io.cancelled()) signal.abort();
      progress('decode', done, total);
    },
  }).catch((err: unknown) => {
    if (io.cancelled()) return null;
    throw err;
  });
  if (pixels === null) return null;
  const a = train.length;
  const b = a + val.length;
  const c = b + test.length;
  return { train: pixels.slice(0, a), val: pixels.slice(a, b), test: pixels.slice(b, c), submission: pixels.slice(c) };
}

/** Evaluation only: each split's probability is the mean over the TTA views of its cached pixels. */
async function scoreSplits(engine: TrainEngine, job: RunJob, px: SplitPixels, progress: ReturnType<typeof throttle>): Promise<{ valProbs: Float32Array; rows: PredictionRow[] }> {
  const cfg = job.config;
  const size = cfg.inputSize;
  const predict = async (images: Uint8Array[]): Promise<Float32Array> =>
    ttaMean(cfg.tta, (view) => engine.predict(images.length, (idx) => batchTensor(idx.map((i) => view.apply(images[i] as Uint8Array, size)), idx.map((_, k) => k), size, 'unit'), cfg.batchSize));
  const { val, test, submission } = job.items;
  progress('predict', 0, 3);
  const valProbs = await predict(px.val);
  const rows = [
    ...predictionRows(val, 'val', valProbs),
    ...predictionRows(test, 'test', await predict(px.test)),
    ...predictionRows(submission, 'submission', await predict(px.submission)),
  ];
  progress('predict', 3, 3);
  return { valProbs, rows };
}

export async function runScratch(job: RunJob, io: RunIo, env: { backend: string; device: string }): Promise<void> {
  const cfg = job.config;
  const size = cfg.inputSize;
  const progress = throttle((m) => io.post(m));
  const rng = new Rng(cfg.seed);
  const augRng = new Rng(rng.seed());
  const { train, val } = job.items;
  const px = await decodeSplits(job, io, progress);
  if (px === null) {
    io.post({ type: 'finished', status: 'cancelled', best: null, imagesPerSecond: null, throughputBasis: 'pixels' });
    return;
  }

  const model = buildClassifier('scratch', { inputSize: size });
  let engine: TrainEngine | null = null;
  try {
    seedInit(model, rng);
    const choice = await createTrainEngine(cfg.engine, model, { optimizer: cfg.optimizer, lr: cfg.lr, momentum: cfg.momentum, training: true, seed: dropoutSeed(cfg.seed) });
    engine = choice.engine;
    io.post({
      type: 'environment',
      env: { ...env, engine: engine.info.engine, provider: engine.info.provider, ...(choice.fallback !== null ? { engineFallback: choice.fallback } : {}), params: model.countParams() },
    });
    const trainLabels = train.map((t) => t.label);
    const result = await fit(
      model,
      {
        trainLabels,
        trainBatch: (idx) => batchTensor(px.train, idx, size, 'unit', cfg.augment ? { rng: augRng, opts: DEFAULT_AUGMENT } : undefined),
        valLabels: val.map((v) => v.label),
        valBatch: (idx) => batchTensor(px.val, idx, size, 'unit'),
      },
      {
        epochs: cfg.epochs,
        batchSize: cfg.batchSize,
        lr: cfg.lr,
        schedule: cfg.lrSchedule,
        optimizer: cfg.optimizer,
        momentum: cfg.momentum,
        patience: cfg.patience,
        classWeights: classWeightsFor(cfg.classWeights, trainLabels),
        rng,
        stage: 1,
        firstEpoch: 1,
        training: true,
        phase: 'train',
        engine,
      },
      {
        cancelled: () => io.cancelled(),
        progress,
        epoch: (row) => io.post({ type: 'epoch', row }),
        // the checkpoint first, then its scores: a run killed in between still has a checkpoint to use
        improved: async (best, valProbs) => {
          await saveCheckpoint(model, job, 'unit');
          io.post({ type: 'checkpoint', best, rows: predictionRows(val, 'val', valProbs) });
        },
      },
    );
    const imagesPerSecond = result.trainSeconds > 0 ? result.trainImages / result.trainSeconds : null;
    if (result.cancelled) {
      io.post({ type: 'finished', status: 'cancelled', best: result.best, imagesPerSecond, throughputBasis: 'pixels' });
      return;
    }
    const { valProbs, rows } = await scoreSplits(engine, job, px, progress);
    io.post({ type: 'predictions', rows });
    io.post({ type: 'finished', status: 'done', best: bestWithTta(result.best, cfg.tta, val.map((v) => v.label), valProbs), imagesPerSecond, throughputBasis: 'pixels' });
  } finally {
    await engine?.dispose();
    model.dispose();
  }
}
