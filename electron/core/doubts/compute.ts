/**
 * `mask-studio doubts`: which labelled images the models doubt. Frozen-base features of every labelled,
 * usable image (any split but the unlabelled submission rows) → K folds, stratified by class and grouped by
 * duplicate group → out-of-fold probabilities from an L2 logistic regression per fold → confident learning
 * → the doubts stored (replacing the last computation) and written as `label-doubt` findings.
 */
import type { DoubtsResult } from '../../../shared/contract-compare';
import { AppError } from '../../../shared/errors';
import { classCounts, classesInUse } from '../dataset/classes';
import { allImages, contentOrder } from '../dataset/images';
import type { Db } from '../db/open';
import type { Library } from '../library';
import type { Engine } from '../ml/inference/engine';
import type { BackendPref } from '../ml/train/config';
import { backboneFeatures, resolveBackbone, type Backbone } from './backbone';
import { confidentLearning } from './confident';
import type { StoredDoubt } from '../dataset/doubt-findings';
import { assignFolds, duplicateComponents } from '../dataset/folds';
import { storedNearPairs } from '../dataset/near-pair-store';
import { outOfFold } from './oof';
import { listDoubts, saveDoubts, writeDoubtFindings } from './store';
import { runDoubts, unseenProbabilities } from './from-run';
import { foldState } from '../ml/runs/fold-state';
import { getRun } from '../ml/runs/store';

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
  engine?: Engine;
  backend?: BackendPref;
  weightsDir?: string | undefined;
  signal?: AbortSignal | undefined;
  progress?: (phase: string, done: number, total: number) => void;
}

export interface DoubtsReport extends DoubtsResult {
  /** Null: the probabilities are a K-fold run's own, out of fold (`fromRun`), no backbone features. */
  backbone: Backbone | null;
  /** The K-fold run whose unseen probabilities were used, else null. */
  fromRun: string | null;
  /** Labelled images a K-fold run has no unseen probability for (0 otherwise). */
  unscored: number;
  /** What computed features that were not cached: onnx | tfjs | cache. */
  engine: string;
  engineFallback: string | null;
  cachedFeatures: number;
  l2: number;
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
}

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
  const folds = assignFolds(rows.map((r, i) => ({ label: labels[i] ?? 0, group: group(r.id) })), k, seed);
  return { classes, rows, labels, folds };
}

export async function computeDoubts(lib: Library, opts: DoubtsOptions): Promise<DoubtsReport> {
  const started = performance.now();
  const db = lib.db;
  if (opts.run !== undefined) {
    const run = getRun(db, opts.run);
    if (foldState(run.config) !== null) {
      if (opts.model !== undefined) throw new AppError('BAD_INPUT', 'doubts take --run ID or --model NAME, not both');
      const f = doubtsFolds(db, 2, opts.seed);
      const r = runDoubts(lib, run, f, opts.seed, started);
      const seconds = (performance.now() - started) / 1000;
      return {
        model: run.model, folds: r.folds, images: r.images, thresholds: r.thresholds, oofAuc: r.oofAuc, doubts: listDoubts(db), seconds,
        backbone: null, fromRun: run.id, unscored: r.unscored, engine: 'run', engineFallback: null, cachedFeatures: 0, l2: 0,
        oof: unseenProbabilities(lib, run.id),
      };
    }
  }
  const backbone = resolveBackbone(db, opts);
  const { classes, rows, labels, folds } = doubtsFolds(db, opts.folds, opts.seed);

  const feats = await backboneFeatures(lib.cacheDir, backbone, rows, {
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.backend ? { backend: opts.backend } : {}),
    weightsDir: opts.weightsDir,
    signal: opts.signal,
    onProgress: (done, total) => opts.progress?.('features', done, total),
  });
  const oof = outOfFold(feats.features, labels, folds, {
    ...(opts.l2 !== undefined ? { l2: opts.l2 } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (done, total) => opts.progress?.('folds', done, total),
  });
  const probs = Array.from(oof.probabilities, (p) => [1 - p, p]);
  const cl = confidentLearning(labels, probs);
  const doubts: StoredDoubt[] = cl.issues.map((issue, k) => {
    const r = rows[issue.index] as LabelledRow;
    return {
      imageId: r.id,
      sha256: r.sha256,
      given: classes[issue.given] ?? '',
      suggested: classes[issue.suggested] ?? '',
      probability: issue.selfConfidence,
      rank: k + 1,
    };
  });
  const thresholds = Object.fromEntries(classes.map((c, j) => [c, cl.thresholds[j] ?? Number.NaN]));
  const seconds = (performance.now() - started) / 1000;
  saveDoubts(db, {
    model: backbone.model,
    weights: backbone.weights,
    inputSize: backbone.inputSize,
    runId: backbone.runId,
    folds: opts.folds,
    seed: opts.seed,
    images: rows.length,
    thresholds,
    oofAuc: oof.auc,
    l2: oof.l2,
    seconds,
  }, doubts);
  writeDoubtFindings(db);
  return {
    model: backbone.model,
    folds: opts.folds,
    images: rows.length,
    thresholds,
    oofAuc: oof.auc,
    doubts: listDoubts(db),
    seconds,
    backbone,
    fromRun: null,
    unscored: 0,
    engine: feats.engine,
    engineFallback: feats.fallback,
    cachedFeatures: feats.cached,
    l2: oof.l2,
    oof: new Map(rows.map((r, i) => [r.id, oof.probabilities[i] ?? Number.NaN])),
  };
}

/** The contract's shape (drops the extras a CLI or a bench prints). */
export function toDoubtsResult(r: DoubtsReport): DoubtsResult {
  return { model: r.model, folds: r.folds, images: r.images, thresholds: r.thresholds, oofAuc: r.oofAuc, doubts: r.doubts, seconds: r.seconds };
}
