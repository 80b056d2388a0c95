/**
 * What the training loop (train/loop.ts) asks of an engine, shared by its two implementations: TensorFlow.js
 * on the model's own variables (train/engine.ts) and ONNX Runtime running a training graph (onnx/training/).
 */
import type * as tf from '@tensorflow/tfjs';
import type { OptimizerName } from '../../../shared/names';

export interface StepResult {
  /** The batch's mean weighted binary cross-entropy, before the update. */
  loss: number;
  probs: Float32Array;
}

export interface EngineInfo {
  engine: 'tfjs' | 'onnx';
  /** ONNX Runtime's execution provider ('cpu', 'cuda'), or TensorFlow.js's backend. */
  provider: string;
}

/** A batch: its input (the caller disposes it), labels and per-image loss weights. */
export interface Batch {
  x: tf.Tensor;
  labels: readonly number[];
  weights: readonly number[];
}

export interface TrainEngine {
  readonly info: EngineInfo;
  /** How many batches one `steps` call takes at best (the loop hands it that many when it can). */
  readonly stepsPerRun: number;
  /** The learning rate of the steps from now on (a schedule's; the optimizer's state is kept). */
  setLearningRate(lr: number): void;
  /** One optimizer step per batch, in order; a result per batch. */
  steps(batches: readonly Batch[]): Promise<StepResult[]>;
  /** Probabilities for `count` rows in inference mode, batch by batch. */
  predict(count: number, batch: (indices: readonly number[]) => tf.Tensor, batchSize: number, cancelled?: () => boolean): Promise<Float32Array>;
  /** The model's weights become the engine's current ones. */
  pull(): void;
  /** The engine's weights become the model's (after the loop restored a snapshot into it). */
  push(): void;
  dispose(): Promise<void>;
}

export interface OptimizerOptions {
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
}
