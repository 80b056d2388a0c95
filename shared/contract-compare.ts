/**
 * The contract's comparison half: what `mask-studio compare`, `ensemble`, `doubts`, `report` and
 * `predict --explain` return, and the app's Compare view reads. `contract.ts` spreads these methods into
 * its table, so one dispatcher and one typed client serve both halves.
 */
import { z } from 'zod';
import { ENGINE_PREFS, EXPORT_FORMATS, TTA_MODES } from './names';

/**
 * What a run's imagesPerSecond counts: 'pixels', images through the whole network per second of training;
 * 'features', cached base features through the head only (a frozen transfer run: the base ran once per image,
 * so the figure is far above what the network itself does and is not comparable with 'pixels').
 */
export const THROUGHPUT_BASES = ['pixels', 'features'] as const;
export const ThroughputBasis = z.enum(THROUGHPUT_BASES);
export type ThroughputBasis = z.infer<typeof ThroughputBasis>;

export const EvalSplit = z.enum(['val', 'test']);
export type EvalSplit = z.infer<typeof EvalSplit>;

/** A 95 % interval (percentile bootstrap over images, seeded: the same data gives the same interval). */
export const Interval = z.object({ low: z.number(), high: z.number() });
export type Interval = z.infer<typeof Interval>;

export const CompareRow = z.object({
  id: z.string(),
  /** Architecture name, or 'ensemble'. */
  model: z.string(),
  kind: z.enum(['trained', 'ensemble']),
  /** The ensemble's member run ids (empty for a trained run). */
  members: z.array(z.string()),
  name: z.string().nullable(),
  backend: z.string(),
  device: z.string(),
  engine: z.string(),
  /** Null for an ensemble whose members differ in input size. */
  inputSize: z.number().int().nullable(),
  weightsSource: z.string(),
  seed: z.number().int().nullable(),
  epochs: z.number().int(),
  bestEpoch: z.number().int().nullable(),
  /** Images scored on the split. */
  count: z.number().int(),
  /**
   * K of a K-fold run, whose validation scores are out of fold over every labelled train+val image and whose
   * test scores are the fold ensemble's; null: a single-split run (scored on its one validation split).
   */
  folds: z.number().int().nullable(),
  /**
   * The test-time augmentation its probabilities were averaged over (runs from before TTA: 'none'); null for
   * an ensemble of runs with different modes.
   */
  tta: z.enum(TTA_MODES).nullable(),
  /** Its images' faces were scored too (`train --faces`): each probability is the mean of the whole image's and its highest face's. */
  faces: z.boolean(),
  /** Folds of a K-fold run that did not finish (cancelled or interrupted), 1-based; empty otherwise. */
  missingFolds: z.array(z.number().int()),
  auc: z.number().nullable(),
  aucCi: Interval.nullable(),
  logLoss: z.number(),
  logLossCi: Interval.nullable(),
  accuracy: z.number(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  params: z.number().int().nullable(),
  seconds: z.number().nullable(),
  imagesPerSecond: z.number().nullable(),
  throughputBasis: ThroughputBasis.nullable(),
  /** True on the first row: highest AUC, then lowest log loss. */
  best: z.boolean(),
});
export type CompareRow = z.infer<typeof CompareRow>;

/** Runs of one model with the same settings and different seeds: mean ± sample standard deviation. */
export const SeedSummary = z.object({
  model: z.string(),
  /** The settings the runs share, written out ('input 128, weights imagenet, lr 0.001, …'). */
  settings: z.string(),
  runs: z.array(z.string()),
  auc: z.object({ mean: z.number(), sd: z.number() }).nullable(),
  logLoss: z.object({ mean: z.number(), sd: z.number() }),
});
export type SeedSummary = z.infer<typeof SeedSummary>;

/** DeLong's test for two correlated ROC AUCs on the same images (two-sided). */
export const DeLongTest = z.object({
  a: z.string(),
  b: z.string(),
  /** The images both runs scored: the paired test and its two AUCs are over these (a K-fold run's out-of-fold rows share only the validation split's with a single-split run). */
  images: z.number().int(),
  aucA: z.number(),
  aucB: z.number(),
  difference: z.number(),
  se: z.number(),
  z: z.number(),
  p: z.number(),
});
export type DeLongTest = z.infer<typeof DeLongTest>;

export const Comparison = z.object({
  split: EvalSplit,
  rows: z.array(CompareRow),
  seedGroups: z.array(SeedSummary),
  /** Between the two best rows with an AUC; null with fewer than two. */
  delong: DeLongTest.nullable(),
  /** Runs left out and why (no predictions on the split, a different split, still running). */
  skipped: z.array(z.object({ id: z.string(), reason: z.string() })),
});
export type Comparison = z.infer<typeof Comparison>;

export const ConfusionCell = z.object({ count: z.number().int(), imageIds: z.array(z.number().int()) });
export type ConfusionCell = z.infer<typeof ConfusionCell>;

export const ConfusionAt = z.object({
  threshold: z.number(),
  tp: ConfusionCell,
  fp: ConfusionCell,
  tn: ConfusionCell,
  fn: ConfusionCell,
});
export type ConfusionAt = z.infer<typeof ConfusionAt>;

export const RunEvaluation = z.object({
  runId: z.string(),
  split: EvalSplit,
  count: z.number().int(),
  positives: z.number().int(),
  /** Class names in position order: index 1 is the positive class the probabilities are of. */
  classes: z.array(z.string()),
  row: CompareRow,
  roc: z.array(z.object({ threshold: z.number().nullable(), fpr: z.number(), tpr: z.number() })),
  pr: z.array(z.object({ threshold: z.number().nullable(), recall: z.number(), precision: z.number() })),
  /** Ten equal-width bins of predicted probability. */
  calibration: z.array(
    z.object({
      low: z.number(),
      high: z.number(),
      count: z.number().int(),
      meanPredicted: z.number().nullable(),
      observed: z.number().nullable(),
    }),
  ),
  atHalf: ConfusionAt,
  /** At the threshold that maximises Youden's J = TPR − FPR. */
  atYouden: ConfusionAt.extend({ j: z.number() }),
});
export type RunEvaluation = z.infer<typeof RunEvaluation>;

export const DoubtRow = z.object({
  imageId: z.number().int(),
  relPath: z.string(),
  given: z.string(),
  suggested: z.string(),
  /** Out-of-fold probability of the given label. */
  probability: z.number(),
  rank: z.number().int(),
  findingId: z.number().int().nullable(),
  /**
   * Of the doubts at or above this rank, the share that were planted flips when the same images were
   * computed again with flipped labels (`calibrate`); null when the doubts were not calibrated.
   */
  expectedPrecision: z.number().min(0).max(1).nullable(),
});
export type DoubtRow = z.infer<typeof DoubtRow>;

/** What `calibrate` measured: planted flips, found again by doubts computed from scratch on the flipped labels. */
export const DoubtsCalibration = z.object({
  /**
   * 'refit': the doubts' own logistic heads fit again on each trial's flipped labels. 'backbone': the doubts
   * came from a K-fold run, whose models cannot be retrained cheaply; its backbone's logistic heads stood in.
   */
  method: z.enum(['refit', 'backbone']),
  trials: z.number().int(),
  flipRate: z.number(),
  /** Flips planted per trial (the same count each trial: a share of each class). */
  planted: z.number().int(),
  /** Means over the trials: the trial doubt list's recall and precision on the planted flips. */
  recall: z.number(),
  precision: z.number(),
  /** Mean length of a trial's doubt list. */
  doubts: z.number(),
  /** Features the stand-in heads used ('backbone' only; else null). */
  backbone: z.string().nullable(),
  seconds: z.number(),
});
export type DoubtsCalibration = z.infer<typeof DoubtsCalibration>;

export const DoubtsInput = z.object({
  run: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  folds: z.number().int().min(2).max(20).default(5),
  seed: z.number().int().default(1),
  /** The backbone's input size (default: the run's, else the architecture's). */
  inputSize: z.number().int().min(32).max(1024).optional(),
  /** Weights for `model`: imagenet | nsfwjs | a file (default: imagenet when present, else nsfwjs for inception_v3). */
  weights: z.string().min(1).optional(),
  engine: z.enum(ENGINE_PREFS).optional(),
  /** Test-time views whose frozen-base features are averaged before the heads (default flip-crops). */
  tta: z.enum(TTA_MODES).optional(),
  /**
   * Look at the faces too (the default for a backbone's doubts: measured on the real data, precision of the doubts on planted flips
   * 0.33 → 0.67 at recall 0.80): each image's faces found (BlazeFace), cropped and scored by a head on their
   * features; an image's probability is the mean of its whole-image one and the highest of its faces'.
   * A K-fold run's own probabilities have no faces: off there by default, refused when asked for.
   */
  faces: z.boolean().optional(),
  /** Plant label flips into the same images and measure each rank's expected precision (costs `trials` more fits). */
  calibrate: z.boolean().default(false),
  /** Seeded trials averaged (default 5). */
  trials: z.number().int().min(1).max(20).optional(),
  /** Share of each class flipped per trial (default 0.05). */
  flipRate: z.number().min(0.01).max(0.25).optional(),
}).superRefine((v, ctx) => {
  for (const key of ['trials', 'flipRate'] as const) {
    if (v[key] !== undefined && !v.calibrate) ctx.addIssue({ code: 'custom', path: [key], message: 'only means something with calibrate (--calibrate)' });
  }
});

export const DoubtsResult = z.object({
  model: z.string(),
  folds: z.number().int(),
  images: z.number().int(),
  /** Per-class confidence thresholds (mean out-of-fold probability of the class over images labelled so). */
  thresholds: z.record(z.string(), z.number()),
  /** Out-of-fold AUC, a check that the probabilities mean something. */
  oofAuc: z.number().nullable(),
  doubts: z.array(DoubtRow),
  seconds: z.number(),
  /** Null when not calibrated. */
  calibration: DoubtsCalibration.nullable(),
});
export type DoubtsResult = z.infer<typeof DoubtsResult>;

/**
 * How the Zindi submission treats sample rows the run has no probability for (the sample lists an image with
 * no file, or one excluded or unreadable): refuse (neither), write `fill` for each (stated in a note next to
 * the CSV), or leave them out (`partial`). The CLI's --fill / --partial and the serve route's ?fill= /
 * ?partial=1 parse through this schema.
 */
const submissionChoice = {
  fill: z.number().min(0).max(1).optional(),
  partial: z.boolean().optional(),
  /**
   * Test-time augmentation of the submission rows. Absent or the run's own mode: the probabilities the run
   * stored. Another mode: the run's checkpoint (or fold ensemble) scores the submission images again with it,
   * for this file only (the run's stored rows stay as they are).
   */
  tta: z.enum(TTA_MODES).optional(),
};
const oneChoice = (o: { fill?: number | undefined; partial?: boolean | undefined }): boolean => !(o.fill !== undefined && o.partial === true);
const ONE_CHOICE = 'Choose one: fill the rows without a prediction with a probability, or leave them out (partial), not both';
export const SubmissionOptions = z.object(submissionChoice).refine(oneChoice, { message: ONE_CHOICE });
export type SubmissionOptions = z.infer<typeof SubmissionOptions>;

export const MISSING_PREDICTION_REASONS = ['no-file', 'file-gone', 'excluded', 'unreadable', 'not-predicted'] as const;
export const MissingPredictionReason = z.enum(MISSING_PREDICTION_REASONS);
export type MissingPredictionReason = z.infer<typeof MissingPredictionReason>;

/** Which sample rows a run can write, and why the others cannot be predicted. */
export const SubmissionCheck = z.object({
  runId: z.string(),
  /** The sample submission's path. */
  sample: z.string(),
  /** Rows of the sample that name an image. */
  rows: z.number().int(),
  predicted: z.number().int(),
  /** Rows without a prediction, by reason, each with the first few image names. */
  missing: z.array(z.object({ reason: MissingPredictionReason, text: z.string(), count: z.number().int(), examples: z.array(z.string()) })),
  /** One sentence for people: what is missing and why ("194 of the 509 rows have no image file: …"); null when every row is predicted. */
  summary: z.string().nullable(),
});
export type SubmissionCheck = z.infer<typeof SubmissionCheck>;

export const SubmissionResult = z.object({
  out: z.string(),
  /** Rows written. */
  rows: z.number().int(),
  /** Rows written with the fill probability. */
  filled: z.number().int(),
  /** Sample rows left out (partial). */
  omitted: z.number().int(),
  /** The test-time augmentation the written probabilities were averaged over. */
  tta: z.enum(TTA_MODES),
  /** The companion note next to the CSV (written when a row was filled or left out), else null. */
  note: z.string().nullable(),
  sample: z.string(),
});
export type SubmissionResult = z.infer<typeof SubmissionResult>;

/** The last label-doubt computation: what the Review queue shows as the evidence behind every doubt. */
export const DoubtsInfo = z.object({
  model: z.string(),
  weights: z.string(),
  inputSize: z.number().int(),
  /** The run whose settings it reused, when it was computed for a run (Grad-CAM reads that run's model). */
  runId: z.string().nullable(),
  folds: z.number().int(),
  images: z.number().int(),
  oofAuc: z.number().nullable(),
  doubts: z.number().int(),
  createdAt: z.string(),
  /** The views whose features were averaged; null for a K-fold run's own probabilities (and before views were recorded). */
  tta: z.enum(TTA_MODES).nullable(),
  /** Whether the images' faces were scored too (`faces`). */
  faces: z.boolean(),
  /** Null when the computation was not calibrated. */
  calibration: DoubtsCalibration.nullable(),
});
export type DoubtsInfo = z.infer<typeof DoubtsInfo>;

export const compareMethods = {
  'compare.list': { input: z.object({ split: EvalSplit.default('val') }), output: Comparison },
  'compare.run': { input: z.object({ id: z.string().min(1), split: EvalSplit.default('val') }), output: RunEvaluation },
  'ensemble.create': {
    input: z.object({ runs: z.array(z.string().min(1)).min(2), name: z.string().min(1).optional() }),
    output: z.object({ runId: z.string() }),
  },
  /** K-fold out-of-fold probabilities and confident learning; a job (its result is a DoubtsResult). */
  'doubts.start': { input: DoubtsInput, output: z.object({ jobId: z.string() }) },
  'doubts.list': { input: z.object({}).strict(), output: z.array(DoubtRow) },
  /** Null before the first computation. */
  'doubts.info': { input: z.object({}).strict(), output: DoubtsInfo.nullable() },
  /** Accepts a label-doubt finding: a label event with source 'model-suggestion' (undoable). */
  'doubts.accept': {
    input: z.object({ findingId: z.number().int() }),
    output: z.object({ imageId: z.number().int(), label: z.string(), batch: z.number().int() }),
  },
  /** Grad-CAM over the image for a run: a PNG as a data URL. */
  'runs.explain': {
    input: z.object({ id: z.string().min(1), imageId: z.number().int() }),
    output: z.object({ dataUrl: z.string(), probability: z.number(), layer: z.string(), through: z.string().nullable(), label: z.string() }),
  },
  /**
   * A run's best model as ONNX or TensorFlow.js files plus model-card.json (what `export-model` writes), into
   * the library's exports/<run id>-<format> folder: a page never names where a writer writes.
   */
  'runs.export': {
    input: z.object({
      id: z.string().min(1),
      format: z.enum(EXPORT_FORMATS).default('onnx'),
      /** Default the run's own; ONNX carries flip inside the graph, other modes are described in the model card. */
      tta: z.enum(TTA_MODES).optional(),
    })
    // strict: an old caller's outDir is refused with its name, not silently ignored
    .strict(),
    output: z.object({ dir: z.string(), files: z.array(z.string()) }),
  },
  /** What `submission.write` would write for the run: rows predicted, and the missing ones by reason. */
  'submission.check': { input: z.object({ id: z.string().min(1) }), output: SubmissionCheck },
  /**
   * The Zindi CSV (image,target in the sample's order) into the library's exports/ folder (a page names no
   * path); with missing rows, `fill` or `partial` must be chosen.
   */
  'submission.write': {
    input: z.object({ id: z.string().min(1), ...submissionChoice }).refine(oneChoice, { message: ONE_CHOICE }),
    output: SubmissionResult,
  },
  /** The HTML report, written to the library's exports/ folder (the CLI's `report --out` names its own file). */
  'report.write': {
    input: z.object({ split: EvalSplit.default('val') }).strict(),
    output: z.object({ out: z.string(), bytes: z.number().int() }),
  },
} as const;
