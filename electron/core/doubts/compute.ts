/**
 * `mask-studio doubts`: which labelled images the models doubt. Frozen-base features of every labelled,
 * usable image (any split but the unlabelled submission rows) → K folds, stratified by class and grouped by
 * duplicate group → out-of-fold probabilities from an L2 logistic regression per fold → confident learning
 * → the doubts stored (replacing the last computation) and written as `label-doubt` findings.
 */
import type { DoubtsCalibration, DoubtsResult } from '../../../shared/contract-compare';
import type { RunInfo } from '../../../shared/contract';
import type { TtaMode } from '../../../shared/names';
import { AppError } from '../../../shared/errors';
import { classCounts, classesInUse } from '../dataset/classes';
import { allImages, contentOrder } from '../dataset/images';
import type { Db } from '../db/open';
import type { Library } from '../library';
import type { Engine } from '../ml/inference/engine';
import type { BackendPref } from '../ml/train/config';
import { backboneFeatures, resolveBackbone, type Backbone, type FeatureOptions } from './backbone';
import { calibrate, expectedPrecisionAt, type RankedDoubts } from './calibrate';
import { confidentLearning, rankAll, type ConfidentLearningResult } from './confident';
import type { StoredDoubt } from '../dataset/doubt-findings';
import { assignFolds, duplicateComponents } from '../dataset/folds';
import { storedNearPairs } from '../dataset/near-pair-store';
import { L2_GRID, outOfFold, type OofOptions } from './oof';
import { faceFeatures, withFaces } from './faces';
import { rocAuc } from '../stats/metrics';
import { doubtsOfIssues, listDoubts, saveDoubts, writeDoubtFindings } from './store';
import { runDoubts, saveRunDoubts, unseenProbabilities, unseenSource, type UnseenSource } from './from-run';
import { steppedPhases } from '../jobs/progress';
import { getRun } from '../ml/runs/store';
import { ENSEMBLE_MODEL } from '../../../shared/names';
import { isTransfer } from '../../../shared/names';

export interface DoubtsOptions {
  run?: string | undefined;
  model?: string | undefined;
  /** Weights for --model (default: imagenet when present, else nsfwjs for inception_v3). */
  weights?: string | undefined;
  /** Default: the run's input size, else the architecture's default. */
  inputSize?: number | undefined;
  folds: number;
  seed: number;
  /** A fixed L2 strength instead of the grid search. */
  l2?: number | undefined;
  /** Plant flips and measure each rank's expected precision (calibrate.ts). */
  calibrate?: boolean | undefined;
  trials?: number | undefined;
  flipRate?: number | undefined;
  /** Views whose features are averaged (default DEFAULT_DOUBTS_TTA). */
  tta?: TtaMode | undefined;
  /** Score the images' faces too (faces.ts); default on, except for a K-fold run's own probabilities. */
  faces?: boolean | undefined;
  engine?: Engine;
  backend?: BackendPref;
  weightsDir?: string | undefined;
  signal?: AbortSignal | undefined;
  progress?: (phase: string, done: number, total: number) => void;
}

export interface DoubtsReport extends DoubtsResult {
  /** Null: the probabilities are a K-fold run's own, out of fold (`fromRun`), no backbone features. */
  backbone: Backbone | null;
  /** The K-fold run (or ensemble of K-fold runs) whose unseen probabilities were used, else null. */
  fromRun: string | null;
  /** An ensemble's K-fold members (empty otherwise). */
  fromMembers: string[];
  /** Labelled images a K-fold run has no unseen probability for (0 otherwise). */
  unscored: number;
  /** What computed features that were not cached: onnx | tfjs | cache. */
  engine: string;
  engineFallback: string | null;
  cachedFeatures: number;
  l2: number;
  /** The views whose features were averaged. */
  tta: TtaMode;
  /** With `faces`: images with a face that counts, the faces, and how many were detected / extracted now. */
  faces: { images: number; faces: number; detected: number; extracted: number } | null;
  /** OOF p(class 1) per image id: for benches and tests that score the doubts against a known truth. */
  oof: Map<number, number>;
}

interface LabelledRow {
  id: number;
  sha256: string;
  path: string;
  label: string;
}

export interface DoubtsFolds {
  /** Class names in position order: index = label. */
  classes: string[];
  /** The labelled, usable rows in content order. */
  rows: LabelledRow[];
  labels: number[];
  /** Each row's fold. */
  folds: Int32Array;
  /** Each row's duplicate component (what the folds keep together). */
  groups: number[];
}

/** Calibration's defaults: five seeded trials of 5 % of each class flipped. */
export const DEFAULT_TRIALS = 5;
export const DEFAULT_FLIP_RATE = 0.05;

/**
 * The backbone's features are the mean over the image, its mirror and their 90 % centre crops (was: the image
 * alone). `npm run bench -- doubts` (nsfwjs InceptionV3 224 px, 5 folds, 5 % flipped with seeds 5, 6, 7; load
 * 2–6 on a shared 2-core machine): out-of-fold AUC on the real labels 0.915 → 0.939, doubts on them 110 → 74;
 * with the flips, recall 0.642 / 0.652 / 0.741 → 0.657 / 0.773 / 0.796 (mean 0.678 → 0.742) and precision
 * 0.256 / 0.253 / 0.252 → 0.346 / 0.340 / 0.307 (mean 0.253 → 0.331); `--tta none` gives the old figures.
 * The whole photo alone stays short of the issue's 0.80 / 0.60 (no cut reaches it); the faces (faces.ts, on
 * by default) reach 0.795 / 0.658. The views cost three more extractions the first time (cached after, and shared with `train --tta`).
 */
export const DEFAULT_DOUBTS_TTA: TtaMode = 'flip-crops';

/**
 * The rows the doubts judge, in content order, and their folds: stratified by class, every member of a
 * duplicate component in one fold. The seed's shuffle runs over groups met in row
 * order, so that order is the images' content, never their row ids.
 */
export function doubtsFolds(db: Db, k: number, seed: number): DoubtsFolds {
  const classes = classesInUse(db);
  if (classes.length !== 2) {
    throw new AppError('CONFLICT', `label doubts are binary for now; ${classes.length} classes have included, readable images (images per class: ${classCounts(db)})`);
  }
  const rows = db
    .prepare(
      `SELECT id, sha256, path, label FROM images
       WHERE excluded = 0 AND decode_status = 'ok' AND missing = 0 AND label IS NOT NULL AND split != 'submission' ORDER BY ${contentOrder()}`,
    )
    .all() as LabelledRow[];
  const labels = rows.map((r) => classes.indexOf(r.label));
  for (const [c, name] of classes.entries()) {
    const count = labels.filter((l) => l === c).length;
    if (count < k) {
      throw new AppError('CONFLICT', `class '${name}' has ${count} labelled images; ${k} folds need at least ${k} of each`);
    }
  }
  const group = duplicateComponents(allImages(db).filter((i) => i.excluded === 0), storedNearPairs(db));
  const groups = rows.map((r) => group(r.id));
  const folds = assignFolds(rows.map((_, i) => ({ label: labels[i] ?? 0, group: groups[i] ?? i })), k, seed);
  return { classes, rows, labels, folds, groups };
}

/** The doubt list from out-of-fold p(class 1): confident learning's issues, and every image ranked after them. */
export function rankDoubts(labels: readonly number[], p1: ArrayLike<number>): { cl: ConfidentLearningResult; ranked: RankedDoubts } {
  const probs = Array.from(p1, (p) => [1 - p, p]);
  const cl = confidentLearning(labels, probs);
  return { cl, ranked: { doubts: cl.issues.map((i) => i.index), order: rankAll(labels, probs, cl.issues) } };
}

interface Calibrated {
  curve: Float64Array;
  summary: DoubtsCalibration;
}

/** Out-of-fold p(class 1) per image for labels and folds: the heads refit on whatever labels it is given. */
type Scorer = (labels: readonly number[], folds: Int32Array, opts: OofOptions) => { probabilities: Float64Array; l2: number };

/** The whole images' heads, and with `faces` the face head beside them (faces.ts). */
function scorer(features: readonly Float32Array[], faces: readonly Float32Array[][] | null): Scorer {
  return (labels, folds, opts) => {
    const whole = outOfFold(features, labels, folds, opts);
    // the face head chooses its own L2 (faces are another population than whole images); progress is the whole head's
    const faceOpts: OofOptions = { ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    return { probabilities: faces === null ? whole.probabilities : withFaces(whole.probabilities, faces, labels, folds, faceOpts), l2: whole.l2 };
  };
}

/**
 * Plants flips into the labels (calibrate.ts) and refits the out-of-fold heads on the backbone's features for
 * each trial, as the real computation fits them (folds drawn again on the flipped labels, L2 chosen again).
 */
async function calibrateOnFeatures(score: Scorer, f: DoubtsFolds, k: number, opts: DoubtsOptions, method: DoubtsCalibration['method'], backbone: string | null): Promise<Calibrated> {
  const started = performance.now();
  const trials = opts.trials ?? DEFAULT_TRIALS;
  const flipRate = opts.flipRate ?? DEFAULT_FLIP_RATE;
  const perTrial = (opts.l2 !== undefined ? 1 : L2_GRID.length) * k;
  const total = trials * perTrial;
  opts.progress?.('calibrate', 0, total);
  const c = await calibrate({
    labels: f.labels,
    groups: f.groups,
    folds: k,
    seed: opts.seed,
    trials,
    flipRate,
    signal: opts.signal,
    probabilities: (labels, folds, trial) =>
      score(labels, folds, {
        ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (done) => opts.progress?.('calibrate', trial * perTrial + done, total),
      }).probabilities,
    rank: (labels, p1) => rankDoubts(labels, p1).ranked,
  });
  const summary: DoubtsCalibration = {
    method,
    trials,
    flipRate,
    planted: c.trials[0]?.planted ?? 0,
    recall: c.recall,
    precision: c.listPrecision,
    doubts: c.trials.reduce((s, t) => s + t.doubts, 0) / trials,
    backbone,
    seconds: (performance.now() - started) / 1000,
  };
  return { curve: c.precision, summary };
}

const withPrecision = (doubts: StoredDoubt[], c: Calibrated | null): StoredDoubt[] =>
  doubts.map((d) => ({ ...d, expectedPrecision: c === null ? null : expectedPrecisionAt(c.curve, d.rank) }));

export async function computeDoubts(lib: Library, opts: DoubtsOptions): Promise<DoubtsReport> {
  const started = performance.now();
  if (opts.run !== undefined) {
    const run = getRun(lib.db, opts.run);
    const source = unseenSource(lib, run);
    if (source !== null) return fromRunDoubts(lib, run, source, opts, started);
  }
  return backboneDoubts(lib, opts, started);
}

/**
 * A K-fold run's own unseen probabilities (from-run.ts). Calibrating them honestly would mean retraining the
 * run's K models on every trial's flipped labels. Reusing its fixed probabilities against flipped labels
 * would over-estimate: out of fold, an image's own label never shaped its probability, but no model of the
 * run trained with the planted wrong labels among its other images either, so every probability would come
 * from models cleaner than any trained on that many errors, and would find the flips more easily than a real
 * computation could. So a calibration stands in the run's pretrained backbone with logistic heads refit per
 * trial (method 'backbone'): a frozen head is what a frozen K-fold run trains, and a fine-tuned run is usually
 * stronger, so this part leans low (what leans high in every calibration is said in calibrate.ts). A scratch
 * run has no backbone: refused, saying why.
 */
async function fromRunDoubts(lib: Library, run: RunInfo, source: UnseenSource, opts: DoubtsOptions, started: number): Promise<DoubtsReport> {
  if (opts.model !== undefined) throw new AppError('BAD_INPUT', 'doubts take --run ID or --model NAME, not both');
  if (opts.faces === true) {
    throw new AppError('BAD_INPUT', `run ${run.id} is a K-fold run: its doubts are its own probabilities (a run trained with 'train --faces' scored its faces itself); --faces scores faces with a backbone's heads ('--model inception_v3 --faces', or '--run' of a single-split transfer run)`);
  }
  const f = doubtsFolds(lib.db, 2, opts.seed);
  const r = runDoubts(lib, run, source, f);
  let calibrated: Calibrated | null = null;
  let backbone: Backbone | null = null;
  if (opts.calibrate === true) {
    try {
      // an ensemble's: its first member with a pretrained base (a scratch member has none)
      const standIn = source.kfold.find((m) => isTransfer(m.model) && m.weightsSource !== 'none') ?? source.kfold[0] ?? run;
      backbone = resolveBackbone(lib.db, { ...opts, run: standIn.id });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      throw new AppError('BAD_INPUT', `cannot calibrate the doubts of run ${run.id}: ${err.message}`);
    }
    const feats = await backboneFeatures(lib.cacheDir, backbone, f.rows, featureOptions(opts));
    // the run's own K, with folds drawn by calibrate() on each trial's labels
    calibrated = await calibrateOnFeatures(scorer(feats.features, null), f, r.folds, opts, 'backbone', `${backbone.model} (${backbone.weights} weights, ${backbone.inputSize} px)`);
  }
  const seconds = (performance.now() - started) / 1000;
  saveRunDoubts(lib, run, source, { ...r, doubts: withPrecision(r.doubts, calibrated) }, opts.seed, seconds, calibrated?.summary ?? null);
  return {
    model: run.model, folds: r.folds, images: r.images, thresholds: r.thresholds, oofAuc: r.oofAuc, doubts: listDoubts(lib.db), seconds,
    calibration: calibrated?.summary ?? null, backbone: null, tta: opts.tta ?? DEFAULT_DOUBTS_TTA, faces: null, fromRun: run.id, fromMembers: run.model === ENSEMBLE_MODEL ? source.kfold.map((m) => m.id) : [], unscored: r.unscored, engine: 'run', engineFallback: null, cachedFeatures: 0, l2: 0,
    oof: unseenProbabilities(lib, run.id),
  };
}

function featureOptions(opts: DoubtsOptions): FeatureOptions {
  return {
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.backend ? { backend: opts.backend } : {}),
    weightsDir: opts.weightsDir,
    tta: opts.tta ?? DEFAULT_DOUBTS_TTA,
    signal: opts.signal,
    onProgress: (done, total) => opts.progress?.('features', done, total),
  };
}

async function backboneDoubts(lib: Library, given: DoubtsOptions, started: number): Promise<DoubtsReport> {
  const steps = ['features', ...(given.faces !== false ? ['faces', 'face features'] : []), 'folds', ...(given.calibrate === true ? ['calibrate'] : [])];
  const progress = steppedPhases(steps, given.progress);
  const opts: DoubtsOptions = { ...given, ...(progress ? { progress } : {}) };
  const db = lib.db;
  const backbone = resolveBackbone(db, opts);
  const f = doubtsFolds(db, opts.folds, opts.seed);
  const { classes, rows, labels, folds } = f;
  const feats = await backboneFeatures(lib.cacheDir, backbone, rows, featureOptions(opts));
  const ff = opts.faces !== false ? await faceFeatures(lib.cacheDir, backbone, rows, featureOptions(opts), (phase, done, total) => opts.progress?.(phase, done, total)) : null;
  const faces = ff?.faces ?? null;
  const score = scorer(feats.features, faces);
  const scored = score(labels, folds, {
    ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (done, total) => opts.progress?.('folds', done, total),
  });
  const oof = { probabilities: scored.probabilities, l2: scored.l2, auc: rocAuc(labels, scored.probabilities) };
  const { cl } = rankDoubts(labels, oof.probabilities);
  const calibrated = opts.calibrate === true ? await calibrateOnFeatures(score, f, opts.folds, opts, 'refit', null) : null;
  const stored = doubtsOfIssues(cl, classes, (i) => rows[i] as LabelledRow);
  const doubts = withPrecision(stored.doubts, calibrated);
  const { thresholds } = stored;
  const seconds = (performance.now() - started) / 1000;
  const calibration = calibrated?.summary ?? null;
  saveDoubts(db, {
    model: backbone.model, weights: backbone.weights, inputSize: backbone.inputSize, runId: backbone.runId, folds: opts.folds, seed: opts.seed,
    images: rows.length, thresholds, oofAuc: oof.auc, l2: oof.l2, seconds, calibration, tta: opts.tta ?? DEFAULT_DOUBTS_TTA, faces: faces !== null,
  }, doubts);
  writeDoubtFindings(db);
  return {
    model: backbone.model, folds: opts.folds, images: rows.length, thresholds, oofAuc: oof.auc, doubts: listDoubts(db), seconds, calibration,
    backbone, tta: opts.tta ?? DEFAULT_DOUBTS_TTA, fromRun: null, fromMembers: [], unscored: 0,
    faces: ff === null ? null : { images: ff.faces.filter((f) => f.length > 0).length, faces: ff.faces.reduce((s, f) => s + f.length, 0), detected: ff.detected, extracted: ff.extracted }, engine: feats.engine, engineFallback: feats.fallback, cachedFeatures: feats.cached, l2: oof.l2,
    oof: new Map(rows.map((r, i) => [r.id, oof.probabilities[i] ?? Number.NaN])),
  };
}

/** The contract's shape (drops the extras a CLI or a bench prints). */
export function toDoubtsResult(r: DoubtsReport): DoubtsResult {
  return { model: r.model, folds: r.folds, images: r.images, thresholds: r.thresholds, oofAuc: r.oofAuc, doubts: r.doubts, seconds: r.seconds, calibration: r.calibration };
}
