/**
 * The one training loop every stage uses (scratch end to end, the transfer head on cached features,
 * fine-tuning): seeded shuffles, weighted binary cross-entropy, SGD with momentum or Adam, a validation
 * pass per epoch, early stopping on validation AUC and the best epoch's weights restored at the end.
 * A custom loop rather than `model.fit`: class weights, a cancel check before every batch, and the
 * trainable variables named explicitly (fine-tuning) without fighting fit's callbacks. The step itself is an
 * engine's (engine.ts): TensorFlow.js unless the caller passes ONNX Runtime's.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunEpoch } from '../../../../shared/contract';
import type { LrSchedule } from '../../../../shared/names';
import { binaryMetrics, logLoss, rocAuc } from '../../stats/metrics';
import type { Optimizer } from './config';
import { TfjsEngine, type TrainEngine } from './engine';
import type { Rng } from '../../random';

export { predictProbabilities } from '../inference/probabilities';

export interface FitData {
  trainLabels: readonly number[];
  /** Input tensor for these training rows (augmented if the stage augments); the loop disposes it. */
  trainBatch(indices: readonly number[]): tf.Tensor;
  valLabels: readonly number[];
  valBatch(indices: readonly number[]): tf.Tensor;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** How the learning rate moves over `epochs` (an early stop ends it wherever it is). */
  schedule: LrSchedule;
  optimizer: Optimizer;
  momentum: number;
  patience: number;
  classWeights: [number, number];
  rng: Rng;
  stage: 1 | 2;
  /** Epoch numbers continue across stages. */
  firstEpoch: number;
  /** Dropout active while training (off in fine-tuning, which also keeps BatchNormalization in inference mode). */
  training: boolean;
  phase: string;
  /** The engine that runs the steps (the caller disposes it); default TensorFlow.js on the model. */
  engine?: TrainEngine;
}

export interface FitHooks {
  cancelled(): boolean;
  progress(phase: string, done: number, total: number, metrics?: Record<string, number>): void;
  epoch(row: RunEpoch): void;
  /** After an epoch that beat the best so far (the model holds that epoch's weights), with its validation probabilities. */
  improved?(best: Best, valProbs: Float32Array): Promise<void>;
}

export interface Best {
  epoch: number;
  valAuc: number | null;
  valLogLoss: number;
}

export interface FitResult {
  epochs: RunEpoch[];
  best: Best | null;
  cancelled: boolean;
  trainSeconds: number;
  trainImages: number;
}

/**
 * Every layer's weights, layer by layer. Not `model.getWeights()`: that lists trainable weights first, so
 * its order changes when layers are frozen or unfrozen between taking and restoring a snapshot.
 */
export function snapshotWeights(model: tf.LayersModel): tf.Tensor[][] {
  return model.layers.map((l) => l.getWeights().map((t) => tf.keep(t.clone())));
}

export function restoreWeights(model: tf.LayersModel, snapshot: readonly tf.Tensor[][]): void {
  model.layers.forEach((l, i) => {
    const w = snapshot[i];
    if (w && w.length > 0) l.setWeights(w);
  });
}

export function disposeSnapshot(snapshot: readonly tf.Tensor[][] | null): void {
  snapshot?.forEach((ws) => ws.forEach((t) => t.dispose()));
}

/** The learning rate of epoch `e` (0-based) of `epochs` under `schedule` (shared/names.ts says how each moves). */
export function scheduledLr(lr: number, schedule: LrSchedule, e: number, epochs: number): number {
  if (schedule === 'constant' || epochs <= 1) return lr;
  return lr * 0.5 * (1 + Math.cos((Math.PI * e) / epochs));
}

function isBetter(auc: number | null, loss: number, best: Best | null): boolean {
  if (best === null) return true;
  const a = auc ?? -1;
  const b = best.valAuc ?? -1;
  return a > b || (a === b && loss < best.valLogLoss);
}

/** What one epoch's batches gave: the training probabilities with their labels, the summed loss, the time. */
interface EpochPass {
  cancelled: boolean;
  probs: number[];
  labels: number[];
  lossSum: number;
  seconds: number;
}

/** Counters that run across epochs: the batches done (for progress) and the best so far (shown with it). */
interface FitCounters {
  globalBatch: number;
  totalBatches: number;
  best: Best | null;
}

/** One pass over the training images in the epoch's shuffled order, as many batches per engine run as it takes. */
async function trainEpoch(engine: TrainEngine, data: FitData, opts: FitOptions, hooks: FitHooks, epochNo: number, counters: FitCounters): Promise<EpochPass> {
  const n = data.trainLabels.length;
  const perEpoch = Math.ceil(n / opts.batchSize);
  const [w0, w1] = opts.classWeights;
  const order = opts.rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const pass: EpochPass = { cancelled: false, probs: [], labels: [], lossSum: 0, seconds: 0 };
  const t0 = performance.now();
  for (let b = 0; b < perEpoch; ) {
    if (hooks.cancelled()) {
      pass.cancelled = true;
      break;
    }
    // as many batches as the engine takes in one run (ONNX Runtime: several steps per run)
    const group = Array.from({ length: Math.min(engine.stepsPerRun, perEpoch - b) }, (_, g) => {
      const idx = order.slice((b + g) * opts.batchSize, (b + g + 1) * opts.batchSize);
      const labels = idx.map((i) => data.trainLabels[i] ?? 0);
      return { x: data.trainBatch(idx), labels, weights: labels.map((v) => (v === 1 ? w1 : w0)) };
    });
    const results = await engine.steps(group).finally(() => group.forEach((g) => g.x.dispose()));
    for (const [g, { loss, probs }] of results.entries()) {
      const labels = group[g]?.labels ?? [];
      for (let k = 0; k < probs.length; k++) {
        pass.probs.push(probs[k] ?? 0);
        pass.labels.push(labels[k] ?? 0);
      }
      b++;
      if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at epoch ${epochNo}, batch ${b}: lower the learning rate (--lr)`);
      pass.lossSum += loss * labels.length;
      counters.globalBatch++;
      const elapsed = (performance.now() - t0) / 1000;
      hooks.progress(opts.phase, counters.globalBatch, counters.totalBatches, {
        epoch: epochNo,
        batch: b,
        batches: perEpoch,
        loss: pass.lossSum / pass.probs.length,
        imagesPerSecond: pass.probs.length / Math.max(elapsed, 1e-6),
        ...(counters.best?.valAuc != null ? { bestValAuc: counters.best.valAuc } : {}),
      });
    }
  }
  pass.seconds = (performance.now() - t0) / 1000;
  return pass;
}

/** The epoch's row: its training figures and the validation images scored after it. */
function epochRow(opts: FitOptions, epochNo: number, lr: number, pass: EpochPass, n: number, valLabels: readonly number[], valProbs: Float32Array): RunEpoch {
  const val = binaryMetrics(valLabels, valProbs);
  const trainAcc = pass.probs.reduce((s, p, i) => s + ((p >= 0.5 ? 1 : 0) === pass.labels[i] ? 1 : 0), 0) / Math.max(1, pass.probs.length);
  return {
    epoch: epochNo,
    // one model's epochs: the K-fold trainer (kfold.ts) says which fold when it records them
    fold: null,
    stage: opts.stage,
    loss: pass.lossSum / Math.max(1, pass.probs.length),
    acc: trainAcc,
    auc: rocAuc(pass.labels, pass.probs),
    valLoss: logLoss(valLabels, valProbs),
    valAcc: val.accuracy,
    valAuc: val.auc,
    lr,
    seconds: pass.seconds,
    imagesPerSecond: n / Math.max(pass.seconds, 1e-6),
  };
}

/**
 * Epochs until the count, a cancel, or `patience` epochs without a better validation AUC; the model ends
 * with the best epoch's weights.
 */
export async function fit(model: tf.LayersModel, data: FitData, opts: FitOptions, hooks: FitHooks): Promise<FitResult> {
  const n = data.trainLabels.length;
  // TensorFlow.js's dropout masks draw from a stream seeded from the run's (engine.ts: withRandom)
  const engine = opts.engine ?? new TfjsEngine(model, opts, opts.training, opts.rng.seed());
  const counters: FitCounters = { globalBatch: 0, totalBatches: Math.ceil(n / opts.batchSize) * opts.epochs, best: null };
  const epochs: RunEpoch[] = [];
  let bestWeights: tf.Tensor[][] | null = null;
  let sinceBest = 0;
  let cancelled = false;
  let trainSeconds = 0;
  let trainImages = 0;
  try {
    for (let e = 0; e < opts.epochs && !cancelled; e++) {
      const epochNo = opts.firstEpoch + e;
      const lr = scheduledLr(opts.lr, opts.schedule, e, opts.epochs);
      engine.setLearningRate(lr);
      const pass = await trainEpoch(engine, data, opts, hooks, epochNo, counters);
      cancelled = pass.cancelled;
      if (cancelled) break;
      trainSeconds += pass.seconds;
      trainImages += n;
      const valProbs = await engine.predict(data.valLabels.length, data.valBatch, opts.batchSize);
      const row = epochRow(opts, epochNo, lr, pass, n, data.valLabels, valProbs);
      epochs.push(row);
      hooks.epoch(row);
      if (isBetter(row.valAuc, row.valLoss, counters.best)) {
        counters.best = { epoch: epochNo, valAuc: row.valAuc, valLogLoss: row.valLoss };
        disposeSnapshot(bestWeights);
        engine.pull();
        bestWeights = snapshotWeights(model);
        sinceBest = 0;
        await hooks.improved?.(counters.best, valProbs);
      } else if (++sinceBest >= opts.patience) {
        break;
      }
    }
    if (bestWeights) {
      restoreWeights(model, bestWeights);
      engine.push();
    }
  } finally {
    disposeSnapshot(bestWeights);
    if (!opts.engine) await engine.dispose();
  }
  return { epochs, best: counters.best, cancelled, trainSeconds, trainImages };
}
