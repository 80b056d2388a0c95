/**
 * The contract's training half: what a run is (its options, epochs, scores and predictions) and the states a
 * job or run goes through. `contract.ts` re-exports every name here and uses them in its method table.
 */
import { z } from 'zod';
import { ThroughputBasis } from './contract-compare';
import { BACKEND_PREFS, ENGINE_PREFS, LR_SCHEDULES, MODEL_NAMES, NAMED_WEIGHTS, OPTIMIZERS, RESIZE_MODES, TTA_MODES } from './names';

/** 'interrupted': the process running it is gone (killed, crashed); what it had saved is kept. */
export const JobStatus = z.enum(['running', 'done', 'failed', 'cancelled', 'interrupted']);
export type JobStatus = z.infer<typeof JobStatus>;

/** What a run id looks like (`<time>-<model>-<hex>`, or a prefix of one): a slash, '%' or space never is. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Named weights a run can start from (a file path is the fourth choice). */
export const WeightsSource = z.enum(NAMED_WEIGHTS);
export type WeightsSource = z.infer<typeof WeightsSource>;

/** What can train on this machine: per model, each named weights source and whether it is here. */
export const TrainModelInfo = z.object({
  model: z.enum(MODEL_NAMES),
  pretrained: z.boolean(),
  defaultInputSize: z.number().int(),
  minInputSize: z.number().int(),
  sources: z.array(z.object({ weights: WeightsSource, available: z.boolean(), reason: z.string().nullable() })),
  /** What "train all" starts from: ImageNet when present, else nsfwjs (InceptionV3), 'none' for scratch; null: nothing here. */
  best: WeightsSource.nullable(),
  /** Why `best` is null, in a line, with the command that fixes it. */
  reason: z.string().nullable(),
  /** The whole way to get the weights, offline copy included (what `train --all` prints for a skipped model). */
  help: z.string().nullable(),
});
export type TrainModelInfo = z.infer<typeof TrainModelInfo>;

/** Every option is optional: the model's defaults fill the rest (the run records the filled-in config). */
export const TrainInput = z.object({
  model: z.enum(MODEL_NAMES),
  epochs: z.number().int().positive().max(10_000).optional(),
  batchSize: z.number().int().positive().max(4096).optional(),
  lr: z.number().positive().max(10).optional(),
  optimizer: z.enum(OPTIMIZERS).optional(),
  lrSchedule: z.enum(LR_SCHEDULES).optional(),
  inputSize: z.number().int().min(8).max(1024).optional(),
  resize: z.enum(RESIZE_MODES).optional(),
  /** imagenet | none | nsfwjs (inception_v3) | a path to a Keras .h5 or a TensorFlow.js model.json */
  weights: z.string().min(1).optional(),
  fineTuneLayers: z.number().int().nonnegative().optional(),
  fineTuneEpochs: z.number().int().positive().optional(),
  augment: z.boolean().optional(),
  backend: z.enum(BACKEND_PREFS).optional(),
  engine: z.enum(ENGINE_PREFS).optional(),
  seed: z.number().int().nonnegative().optional(),
  patience: z.number().int().positive().optional(),
  /**
   * K-fold training: K models on K stratified, duplicate-grouped folds of train+val; the run is scored out of
   * fold over every labelled image and predicts with the folds' mean. Absent: one model on the train/val split.
   */
  folds: z.number().int().min(2).max(20).optional(),
  /** Test-time augmentation of the run's evaluation (val, test, submission rows), recorded on the run. */
  tta: z.enum(TTA_MODES).optional(),
  /**
   * Score the images' faces too: after training, each val, test and submission image's faces are cropped and
   * scored by the run's model, and its probability is the mean of the whole image's and its highest face's.
   */
  faces: z.boolean().optional(),
  /** none | balanced | [weight of class 0, weight of class 1] */
  classWeights: z.union([z.enum(['none', 'balanced']), z.tuple([z.number().positive(), z.number().positive()])]).optional(),
});
export type TrainInput = z.infer<typeof TrainInput>;

export const RunEpoch = z.object({
  /** 1-based, numbered on across stages, and across folds in a K-fold run (fold 2's first epoch follows fold 1's last). */
  epoch: z.number().int(),
  /**
   * A K-fold run's fold that trained this epoch (1-based, as `RunInfo.folds` counts them); null for a
   * single-split run, and for a K-fold run trained before the studio recorded it (when its epochs could not say).
   */
  fold: z.number().int().positive().nullable(),
  stage: z.union([z.literal(1), z.literal(2)]),
  loss: z.number(),
  acc: z.number(),
  auc: z.number().nullable(),
  valLoss: z.number(),
  valAcc: z.number(),
  valAuc: z.number().nullable(),
  lr: z.number(),
  seconds: z.number(),
  imagesPerSecond: z.number(),
});
export type RunEpoch = z.infer<typeof RunEpoch>;

export const RunInfo = z.object({
  id: z.string(),
  model: z.string(),
  config: z.record(z.string(), z.unknown()),
  backend: z.string(),
  device: z.string(),
  engine: z.string(),
  status: JobStatus,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  seconds: z.number().nullable(),
  params: z.number().int().nullable(),
  splitSeed: z.number().int().nullable(),
  dataHash: z.string(),
  trainImages: z.number().int(),
  valImages: z.number().int(),
  weightsSource: z.string(),
  /** Null for an ensemble whose members differ in input size. */
  inputSize: z.number().int().nullable(),
  /** The kept epoch's validation scores; an ensemble has no epoch (null) but its validation scores. */
  best: z.object({ epoch: z.number().int().nullable(), valAuc: z.number().nullable(), valLogLoss: z.number() }).nullable(),
  imagesPerSecond: z.number().nullable(),
  /** What imagesPerSecond counts (null: not recorded, an older run or an ensemble). */
  throughputBasis: ThroughputBasis.nullable(),
  error: z.string().nullable(),
  /**
   * A K-fold run's K and its finished folds (1-based): its `best` is then the out-of-fold score over the
   * finished folds' images, not one validation split's. Null for a single-split run or an ensemble.
   */
  folds: z.object({ k: z.number().int(), finished: z.array(z.number().int()) }).nullable(),
  /** Its val, test and submission rows were scored with their faces too (`train --faces`), so its score is. */
  faces: z.boolean(),
});
export type RunInfo = z.infer<typeof RunInfo>;

export const RunPrediction = z.object({
  imageId: z.number().int(),
  fileName: z.string(),
  split: z.string(),
  label: z.string().nullable(),
  probability: z.number(),
});
export type RunPrediction = z.infer<typeof RunPrediction>;
