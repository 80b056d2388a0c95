/**
 * One run on one split, from the probabilities it stored: the comparison row (metrics with bootstrap
 * intervals) and what the Compare view draws (ROC and PR points, calibration, confusion matrices whose
 * cells list their images). Scored against the images' current labels, included rows only: a label fixed
 * or an image removed after training counts for every run alike.
 */
import { scoredTta } from '../ml/inference/tta';
import { recordedFaces } from '../ml/runs/faces-record';
import type { RunInfo } from '../../../shared/contract';
import type { CompareRow, ConfusionAt, EvalSplit, RunEvaluation } from '../../../shared/contract-compare';
import { AppError } from '../../../shared/errors';
import { classesInUse } from '../dataset/classes';
import type { Db } from '../db/open';
import { binaryMetrics, calibrationBins, confusionCell, prCurve, rocCurve, youdenThreshold } from '../stats/metrics';
import { contentOrder } from '../dataset/images';
import { getRun, hasUsableCheckpoint } from '../ml/runs/store';
import { foldState, missingFolds } from '../ml/runs/fold-state';
import { bootstrapIntervals } from '../stats/intervals';
import { ENSEMBLE_MODEL } from '../../../shared/names';

export interface RunScores {
  imageIds: number[];
  /** 0 or 1: the position of the image's current label. */
  labels: number[];
  probs: number[];
}

/** The classes a run is scored on: those with included, readable images, as training counts them. */
export function libraryClasses(db: Db): string[] {
  return classesInUse(db);
}

/** The run's probabilities on the split's labelled, included images, in content order (the bootstrap resamples by position). */
export function runScores(db: Db, runId: string, split: EvalSplit, classes: readonly string[]): RunScores {
  const rows = db
    .prepare(
      `SELECT p.image_id AS imageId, p.probability, i.label FROM predictions p JOIN images i ON i.id = p.image_id
       WHERE p.run_id = ? AND p.split = ? AND i.label IS NOT NULL AND i.excluded = 0 ORDER BY ${contentOrder('i')}`,
    )
    .all(runId, split) as Array<{ imageId: number; probability: number; label: string }>;
  const out: RunScores = { imageIds: [], labels: [], probs: [] };
  for (const r of rows) {
    const label = classes.indexOf(r.label);
    if (label !== 0 && label !== 1) continue; // a class added after the run has no place in a binary score
    out.imageIds.push(r.imageId);
    out.labels.push(label);
    out.probs.push(r.probability);
  }
  return out;
}

function configString(run: RunInfo, key: string): string | null {
  const v = run.config[key];
  return typeof v === 'string' ? v : null;
}

export function runMembers(run: RunInfo): string[] {
  const m = run.config['members'];
  return Array.isArray(m) ? m.filter((x): x is string => typeof x === 'string') : [];
}

function epochCount(db: Db, runId: string): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM epochs WHERE run_id = ?').get(runId) as { n: number }).n;
}

/** The comparison row for a run whose scores are known (best is set by the caller that ranks rows). */
export function compareRow(db: Db, run: RunInfo, s: RunScores): CompareRow {
  const m = binaryMetrics(s.labels, s.probs);
  const ci = bootstrapIntervals(s.labels, s.probs);
  const seed = run.config['seed'];
  const ensemble = run.model === ENSEMBLE_MODEL;
  const folds = foldState(run.config);
  return {
    id: run.id,
    model: run.model,
    kind: ensemble ? 'ensemble' : 'trained',
    members: ensemble ? runMembers(run) : [],
    name: configString(run, 'name'),
    backend: run.backend,
    device: run.device,
    engine: run.engine,
    inputSize: run.inputSize,
    weightsSource: run.weightsSource,
    seed: typeof seed === 'number' && Number.isInteger(seed) ? seed : null,
    epochs: epochCount(db, run.id),
    bestEpoch: run.best?.epoch ?? null,
    count: m.count,
    folds: folds?.k ?? null,
    missingFolds: folds ? missingFolds(folds) : [],
    tta: ensemble && run.config['tta'] === undefined ? null : scoredTta(run),
    faces: recordedFaces(run.config) !== null,
    auc: m.auc,
    aucCi: m.auc === null ? null : ci.auc,
    logLoss: m.logLoss,
    logLossCi: ci.logLoss,
    accuracy: m.accuracy,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    params: run.params,
    seconds: run.seconds,
    imagesPerSecond: run.imagesPerSecond,
    throughputBasis: run.throughputBasis,
    best: false,
  };
}

/**
 * Confusion counts at a threshold (≥ predicts the positive class), with the images in each cell, the most
 * confident first (farthest from the threshold), as the report lists them: a cell opened in Compare shows
 * its surest mistakes at the top, not in image order.
 */
export function confusionAt(s: RunScores, threshold: number): ConfusionAt {
  const cell = (): { count: number; imageIds: number[] } => ({ count: 0, imageIds: [] });
  const c = { threshold, tp: cell(), fp: cell(), tn: cell(), fn: cell() };
  const order = [...s.labels.keys()].sort((a, b) => Math.abs((s.probs[b] as number) - threshold) - Math.abs((s.probs[a] as number) - threshold) || a - b);
  for (const i of order) {
    const target = c[confusionCell(s.labels[i] as number, s.probs[i] as number, threshold)];
    target.count++;
    target.imageIds.push(s.imageIds[i] as number);
  }
  return c;
}

/** Why a run cannot be scored on the split, or null when it can. */
export function unscorable(run: RunInfo, s: RunScores, split: EvalSplit): string | null {
  if (!hasUsableCheckpoint(run)) {
    const early = run.status === 'interrupted' || run.status === 'cancelled' ? ' before its first checkpoint' : '';
    return `${run.status}${early}: only finished runs, or runs stopped after saving a checkpoint, are compared`;
  }
  if (s.labels.length === 0) {
    return run.status === 'done' ? `no predictions on labelled ${split} images` : `${run.status} before it scored the ${split} split (only its validation scores were saved)`;
  }
  return null;
}

export function binaryClasses(db: Db): string[] {
  const classes = libraryClasses(db);
  if (classes.length !== 2) {
    throw new AppError('CONFLICT', `comparison is binary for now; this library has ${classes.length} classes (${classes.join(', ')})`);
  }
  return classes;
}

export function evaluateRun(db: Db, runRef: string, split: EvalSplit): RunEvaluation {
  const run = getRun(db, runRef);
  const classes = binaryClasses(db);
  const s = runScores(db, run.id, split, classes);
  const why = unscorable(run, s, split);
  if (why !== null) throw new AppError('CONFLICT', `run ${run.id} cannot be evaluated on ${split}: ${why}`);
  const youden = youdenThreshold(s.labels, s.probs);
  const atYouden = youden === null ? { ...confusionAt(s, 0.5), j: 0 } : { ...confusionAt(s, youden.threshold), j: youden.j };
  return {
    runId: run.id,
    split,
    count: s.labels.length,
    positives: s.labels.filter((l) => l === 1).length,
    classes,
    row: compareRow(db, run, s),
    roc: rocCurve(s.labels, s.probs).map((p) => ({ threshold: Number.isFinite(p.threshold) ? p.threshold : null, fpr: p.fpr, tpr: p.tpr })),
    pr: prCurve(s.labels, s.probs),
    calibration: calibrationBins(s.labels, s.probs, 10),
    atHalf: confusionAt(s, 0.5),
    atYouden,
  };
}
