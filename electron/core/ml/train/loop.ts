/**
 * The one training loop every stage uses (scratch end to end, the transfer head on cached features,
 * fine-tuning): seeded shuffles, weighted binary cross-entropy, SGD with momentum or Adam, a validation
 * pass per epoch, early stopping on validation AUC and the best epoch's weights restored at the end.
 * A custom loop rather than `model.fit`: class weights, a cancel check before every batch, and the
 * trainable variables named explicitly (fine-tuning) without fighting fit's callbacks.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunEpoch } from '../../../../shared/contract';
import { binaryMetrics, logLoss, rocAuc } from '../../stats/metrics';
import type { Optimizer } from './config';
import { Rng } from '../../random';

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

const EPS = 1e-7;

function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  const vars: tf.Variable[] = [];
  for (const w of model.trainableWeights) {
    const v = w.read();
    if (!(v instanceof tf.Variable)) throw new Error(`weight ${w.name} is not backed by a variable`);
    vars.push(v);
  }
  return vars;
}

function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  const out = model.apply(x, { training });
  if (Array.isArray(out) || !(out instanceof tf.Tensor)) throw new Error(`model ${model.name} must have one output`);
  return out;
}

/** Probabilities for `count` rows, batch by batch, in inference mode. */
export async function predictProbabilities(
  model: tf.LayersModel,
  count: number,
  batch: (indices: readonly number[]) => tf.Tensor,
  batchSize: number,
  cancelled: () => boolean = () => false,
): Promise<Float32Array> {
  const out = new Float32Array(count);
  for (let start = 0; start < count; start += batchSize) {
    if (cancelled()) break;
    const idx = Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k);
    const p = tf.tidy(() => {
      const x = batch(idx);
      return forward(model, x, false);
    });
    out.set((await p.data()) as Float32Array, start);
    p.dispose();
  }
  return out;
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

/**
 * Runs `fn` with Math.random drawing from `rng`. TensorFlow.js draws a dropout mask's seed from Math.random
 * when the layer has none (a seeded layer would draw the same mask every batch). The training step is
 * synchronous, so within it nothing else in the thread can draw from this stream or interleave with it:
 * the masks depend on the run's seed and nothing else, in a worker or in-process alike.
 */
function withRandom<T>(rng: Rng, fn: () => T): T {
  const saved = Math.random;
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = saved;
  }
}

function makeOptimizer(opts: FitOptions): tf.Optimizer {
  return opts.optimizer === 'adam' ? tf.train.adam(opts.lr) : tf.train.momentum(opts.lr, opts.momentum);
}

function isBetter(auc: number | null, loss: number, best: Best | null): boolean {
  if (best === null) return true;
  const a = auc ?? -1;
  const b = best.valAuc ?? -1;
  return a > b || (a === b && loss < best.valLogLoss);
}

export async function fit(model: tf.LayersModel, data: FitData, opts: FitOptions, hooks: FitHooks): Promise<FitResult> {
  const n = data.trainLabels.length;
  const perEpoch = Math.ceil(n / opts.batchSize);
  const totalBatches = perEpoch * opts.epochs;
  const optimizer = makeOptimizer(opts);
  const vars = trainableVariables(model);
  const dropoutRng = new Rng(opts.rng.seed());
  const [w0, w1] = opts.classWeights;
  const epochs: RunEpoch[] = [];
  let best: Best | null = null;
  let bestWeights: tf.Tensor[][] | null = null;
  let sinceBest = 0;
  let cancelled = false;
  let trainSeconds = 0;
  let trainImages = 0;
  let globalBatch = 0;
  try {
    for (let e = 0; e < opts.epochs && !cancelled; e++) {
      const epochNo = opts.firstEpoch + e;
      const order = opts.rng.shuffle(Array.from({ length: n }, (_, i) => i));
      const trainProbs: number[] = [];
      const trainLabels: number[] = [];
      let lossSum = 0;
      const t0 = performance.now();
      for (let b = 0; b < perEpoch; b++) {
        if (hooks.cancelled()) {
          cancelled = true;
          break;
        }
        const idx = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
        const x = data.trainBatch(idx);
        const yArr = idx.map((i) => data.trainLabels[i] ?? 0);
        const held: { probs: tf.Tensor | null } = { probs: null };
        const cost: tf.Scalar = withRandom(dropoutRng, () => tf.tidy(() => {
          const y = tf.tensor2d(yArr, [idx.length, 1]);
          const w = tf.tensor2d(yArr.map((v) => (v === 1 ? w1 : w0)), [idx.length, 1]);
          const c = optimizer.minimize(
            () => {
              const p = forward(model, x, opts.training);
              held.probs = tf.keep(p);
              const pc = tf.clipByValue(p, EPS, 1 - EPS);
              const bce = tf.neg(tf.add(tf.mul(y, tf.log(pc)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pc)))));
              return tf.mean(tf.mul(bce, w)) as tf.Scalar;
            },
            true,
            vars,
          );
          if (!c) throw new Error('optimizer returned no loss');
          return c;
        }));
        x.dispose();
        const loss = (await cost.data())[0] ?? Number.NaN;
        cost.dispose();
        if (held.probs !== null) {
          const pv = (await held.probs.data()) as Float32Array;
          held.probs.dispose();
          for (let k = 0; k < pv.length; k++) {
            trainProbs.push(pv[k] ?? 0);
            trainLabels.push(yArr[k] ?? 0);
          }
        }
        if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at epoch ${epochNo}, batch ${b + 1}: lower the learning rate (--lr)`);
        lossSum += loss * idx.length;
        globalBatch++;
        const elapsed = (performance.now() - t0) / 1000;
        hooks.progress(opts.phase, globalBatch, totalBatches, {
          epoch: epochNo,
          batch: b + 1,
          batches: perEpoch,
          loss: lossSum / trainProbs.length,
          imagesPerSecond: trainProbs.length / Math.max(elapsed, 1e-6),
          ...(best?.valAuc != null ? { bestValAuc: best.valAuc } : {}),
        });
      }
      if (cancelled) break;
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      trainImages += n;
      const valProbs = await predictProbabilities(model, data.valLabels.length, data.valBatch, opts.batchSize);
      const val = binaryMetrics(data.valLabels, valProbs);
      const trainAcc = trainProbs.reduce((s, p, i) => s + ((p >= 0.5 ? 1 : 0) === trainLabels[i] ? 1 : 0), 0) / Math.max(1, trainProbs.length);
      const row: RunEpoch = {
        epoch: epochNo,
        stage: opts.stage,
        loss: lossSum / Math.max(1, trainProbs.length),
        acc: trainAcc,
        auc: rocAuc(trainLabels, trainProbs),
        valLoss: logLoss(data.valLabels, valProbs),
        valAcc: val.accuracy,
        valAuc: val.auc,
        lr: opts.lr,
        seconds,
        imagesPerSecond: n / Math.max(seconds, 1e-6),
      };
      epochs.push(row);
      hooks.epoch(row);
      if (isBetter(row.valAuc, row.valLoss, best)) {
        best = { epoch: epochNo, valAuc: row.valAuc, valLogLoss: row.valLoss };
        disposeSnapshot(bestWeights);
        bestWeights = snapshotWeights(model);
        sinceBest = 0;
        await hooks.improved?.(best, valProbs);
      } else if (++sinceBest >= opts.patience) {
        break;
      }
    }
    if (bestWeights) restoreWeights(model, bestWeights);
  } finally {
    disposeSnapshot(bestWeights);
    optimizer.dispose();
  }
  return { epochs, best, cancelled, trainSeconds, trainImages };
}
