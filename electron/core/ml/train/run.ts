/**
 * One training run as the worker executes it: the job, the messages it sends and what the scratch and
 * transfer paths share (execute.ts dispatches to them). Nothing here touches SQLite: the main thread records what the messages say, so a run
 * can execute in a worker thread or in-process (tests, or where workers are unavailable) alike.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunEpoch } from '../../../../shared/contract';
import type { ThroughputBasis } from '../../../../shared/contract-compare';
import type { ErrorPayload } from '../../../../shared/errors';
import type { Best } from './loop';
import type { TrainConfig } from './config';
import type { PredictionRow, TrainItem } from '../runs/store';
export { predictionRows, type PredictionRow } from '../runs/store';
import type { Rng } from '../../random';
import { writeCheckpoint } from '../runs/checkpoint';
import type { Preprocessing } from '../models/types';
import type { TtaMode } from '../inference/tta';
import { logLoss, rocAuc } from '../../stats/metrics';

export interface RunJob {
  runId: string;
  config: TrainConfig;
  cacheDir: string;
  /** models/<run-id>: the best checkpoint in TensorFlow.js format. */
  runDir: string;
  items: { train: TrainItem[]; val: TrainItem[]; test: TrainItem[]; submission: TrainItem[] };
  /** Class names, index = label (written beside the checkpoint for predict). */
  classes: string[];
  /** The weights cache (tests point it at a temp folder); default the per-user one. */
  weightsDir?: string;
}

/** Writes the best model and its run.json (what predict needs) into the run's folder. */
export async function saveCheckpoint(model: tf.LayersModel, job: RunJob, preprocessing: Preprocessing): Promise<void> {
  await writeCheckpoint(model, job.runDir, {
    runId: job.runId,
    model: job.config.model,
    inputSize: job.config.inputSize,
    resize: job.config.resize,
    preprocessing,
    classes: job.classes,
  });
}

export interface Environment {
  backend: string;
  device: string;
  /** What computed frozen-base features: tfjs | onnx, or 'none' for end-to-end training. */
  engine: string;
  /** The engine's provider: 'cpu' / 'cuda' for ONNX Runtime, the backend for TensorFlow.js. */
  provider?: string;
  /** Why the requested engine was not used ('auto' fell back to TensorFlow.js), else absent. */
  engineFallback?: string;
  /** Transfer stage 2 on cached activations: where the model was cut and what trains (config JSON `fineTune`). */
  fineTune?: string;
  /** Transfer runs: the engine that trained the head and the top (`engine` is the features' engine), config JSON `trainEngine`. */
  trainEngine?: string;
  params: number;
}


export type RunMessage =
  | { type: 'environment'; env: Environment }
  | { type: 'progress'; phase: string; done: number; total: number; metrics?: Record<string, number> }
  | { type: 'epoch'; row: RunEpoch }
  | { type: 'predictions'; rows: PredictionRow[] }
  /** A new best checkpoint is on disk: its epoch and the predictions it made so far (validation at least). */
  | { type: 'checkpoint'; best: Best; rows: PredictionRow[] }
  /**
   * imagesPerSecond counts training examples per second of training; `throughputBasis` says what an example
   * was: an image through the whole network ('pixels'), or a cached base feature vector through the head
   * only ('features': the base ran once per image, not once per epoch, so the figure is not the model's speed).
   */
  | { type: 'finished'; status: 'done' | 'cancelled'; best: Best | null; imagesPerSecond: number | null; throughputBasis: ThroughputBasis }
  | { type: 'failed'; error: ErrorPayload };

export interface RunIo {
  post(m: RunMessage): void;
  cancelled(): boolean;
  /** Chooses and initialises the backend; returns its name and device. */
  initBackend(pref: TrainConfig['backend']): Promise<{ backend: string; device: string }>;
}

/** Progress at most ~10 a second (always the first and last step of a phase). */
export function throttle(post: (m: RunMessage) => void, intervalMs = 100): (phase: string, done: number, total: number, metrics?: Record<string, number>) => void {
  let last = 0;
  let lastPhase = '';
  return (phase, done, total, metrics) => {
    const now = Date.now();
    if (phase === lastPhase && done < total && now - last < intervalMs) return;
    last = now;
    lastPhase = phase;
    post({ type: 'progress', phase, done, total, ...(metrics ? { metrics } : {}) });
  };
}

/** Keras's glorot_uniform for kernels and zero biases, drawn from the run's seed (tfjs's own draw is unseeded). */
export function seedInit(model: tf.LayersModel, rng: Rng): void {
  for (const w of model.trainableWeights) {
    const shape = w.shape.map((d) => d ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (/kernel$/.test(w.originalName) && shape.length >= 2) {
      const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const fanIn = (shape[shape.length - 2] ?? 1) * receptive;
      const fanOut = (shape[shape.length - 1] ?? 1) * receptive;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = rng.range(-limit, limit);
    } else if (/bias$/.test(w.originalName)) {
      values = new Float32Array(size);
    } else {
      continue;
    }
    const t = tf.tensor(values, shape);
    w.write(t);
    t.dispose();
  }
}

/** Copies weights between models layer by layer, by name (the classifier and base share Keras's names). */
export function copyWeightsByName(from: tf.LayersModel, to: tf.LayersModel): number {
  let copied = 0;
  for (const layer of to.layers) {
    if (layer.weights.length === 0) continue;
    let src: tf.layers.Layer;
    try {
      src = from.getLayer(layer.name);
    } catch {
      continue;
    }
    if (src.weights.length !== layer.weights.length) continue;
    const values = src.getWeights();
    layer.setWeights(values);
    copied++;
  }
  return copied;
}

/**
 * The kept epoch's scores recomputed on the val probabilities the run stores, when TTA made them differ
 * from the ones the epoch was chosen by: the run's recorded score is the score of its predictions.
 */
export function bestWithTta(best: Best | null, tta: TtaMode, valLabels: readonly number[], valProbs: Float32Array): Best | null {
  if (best === null || tta === 'none' || valProbs.length === 0) return best;
  return { ...best, valAuc: rocAuc(valLabels, valProbs), valLogLoss: logLoss(valLabels, valProbs) };
}

export function indexRange(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
