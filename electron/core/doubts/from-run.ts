/**
 * Label doubts from a K-fold run's own probabilities: each labelled train+val image's out-of-fold probability
 * (from the fold model that did not train on it) and each test image's fold-ensemble probability (no fold
 * trained on test). No model that saw an image scores it, which is what confident learning asks for, and
 * the probabilities are the run's, the best the studio has, instead of a logistic head on frozen features.
 *
 * An ensemble of K-fold runs qualifies too: its rows are its members' unseen probabilities averaged, so no
 * model that saw an image scores it either. Models of different kinds err on different photos (a CNN trained
 * here and a fine-tuned pretrained one), and a photo both doubt is likelier to be a label error than one only
 * one of them gets wrong: that is what cleanlab's advice to ensemble before confident learning is for.
 */
import { AppError } from '../../../shared/errors';
import type { Library } from '../library';
import { binaryMetrics } from '../stats/metrics';
import { missingFoldsText } from '../../../shared/scored-on';
import { foldState, missingFolds } from '../ml/runs/fold-state';
import { getRun } from '../ml/runs/store';
import { ENSEMBLE_MODEL } from '../../../shared/names';
import { runMembers } from '../compare/evaluate';
import { recordedFaces } from '../ml/runs/faces-record';
import type { RunInfo } from '../../../shared/contract';
import type { DoubtsCalibration } from '../../../shared/contract-compare';
import type { StoredDoubt } from '../dataset/doubt-findings';
import { confidentLearning } from './confident';
import { doubtsOfIssues, listDoubts, saveDoubts, writeDoubtFindings } from './store';
import type { DoubtsFolds } from './compute';

/** A K-fold run's unseen probabilities (p of class 1) by image id: 'val' rows are out of fold, 'test' the folds' mean. */
export function unseenProbabilities(lib: Library, runId: string): Map<number, number> {
  const rows = lib.db.prepare("SELECT image_id AS imageId, probability FROM predictions WHERE run_id = ? AND split IN ('val', 'test')").all(runId) as Array<{
    imageId: number; probability: number;
  }>;
  return new Map(rows.map((r) => [r.imageId, r.probability]));
}

/** A run whose stored val/test probabilities no model that trained on the image made: the K-fold runs behind it. */
export interface UnseenSource {
  /** The run itself, or an ensemble's members. */
  kfold: RunInfo[];
  /** The smallest K among them (each image was held out of at least 1/K of the training). */
  k: number;
}

/**
 * The K-fold runs behind a run's unseen probabilities, or null for a single-split trained run (its doubts come
 * from its backbone). An ensemble must be made of K-fold runs alone: a single-split member scored only its
 * validation split, so the ensemble would hold probabilities for a sixth of the labelled images.
 */
export function unseenSource(lib: Library, run: RunInfo): UnseenSource | null {
  const own = foldState(run.config);
  if (own !== null) return { kfold: [run], k: own.k };
  if (run.model !== ENSEMBLE_MODEL) return null;
  const members = runMembers(run).map((id) => getRun(lib.db, id));
  const single = members.filter((m) => foldState(m.config) === null);
  if (single.length > 0 || members.length === 0) {
    throw new AppError(
      'BAD_INPUT',
      `run ${run.id} is an ensemble of ${members.map((m) => m.id).join(', ') || 'no runs'}; doubts from an ensemble need every member to be a K-fold run ` +
        `(${single.map((m) => m.id).join(', ')} ${single.length === 1 ? 'is a single-split run: it scored' : 'are single-split runs: they scored'} only the validation split). Train them with '--folds 5', or use '--run' of one K-fold run`,
    );
  }
  return { kfold: members, k: Math.min(...members.map((m) => foldState(m.config)?.k ?? 0)) };
}

export interface RunDoubts {
  /** Ranked, not yet stored (expectedPrecision null). */
  doubts: StoredDoubt[];
  images: number;
  /** Labelled images the run has no unseen probability for (added after it, or in a missing fold). */
  unscored: number;
  oofAuc: number | null;
  thresholds: Record<string, number>;
  folds: number;
}

/** Confident learning on the unseen probabilities of a run whose source unseenSource found (saveRunDoubts stores them). */
export function runDoubts(lib: Library, run: RunInfo, source: UnseenSource, f: DoubtsFolds): RunDoubts {
  for (const m of source.kfold) {
    const state = foldState(m.config);
    if (state !== null && state.finished.length === 0) throw new AppError('CONFLICT', `run ${m.id} finished no fold (${missingFoldsText(missingFolds(state), state.k)})`);
  }
  const p = unseenProbabilities(lib, run.id);
  const kept = f.rows.flatMap((r, i) => {
    const q = p.get(r.id);
    return q === undefined ? [] : [{ row: r, label: f.labels[i] ?? 0, p: q }];
  });
  if (kept.length === 0) throw new AppError('CONFLICT', `run ${run.id} scored none of the labelled images now in the library`);
  const labels = kept.map((k) => k.label);
  const cl = confidentLearning(labels, kept.map((k) => [1 - k.p, k.p]));
  const { doubts, thresholds } = doubtsOfIssues(cl, f.classes, (i) => {
    const k = kept[i];
    if (!k) throw new Error(`confident learning returned index ${i} of ${kept.length}`);
    return k.row;
  });
  const oofAuc = binaryMetrics(labels, kept.map((k) => k.p)).auc;
  return { doubts, images: kept.length, unscored: f.rows.length - kept.length, oofAuc, thresholds, folds: source.k };
}

/** The run's doubts replace the last ones, as computeDoubts' do. */
export function saveRunDoubts(lib: Library, run: RunInfo, source: UnseenSource, r: RunDoubts, seed: number, seconds: number, calibration: DoubtsCalibration | null): void {
  saveDoubts(lib.db, {
    // an ensemble's members by model (its weights read 'ensemble', its input size 0: the members may differ)
    model: run.model === ENSEMBLE_MODEL ? `ensemble of ${source.kfold.map((m) => m.model).join(' + ')}` : run.model,
    weights: run.weightsSource,
    inputSize: run.inputSize ?? 0,
    runId: run.id,
    folds: r.folds,
    seed,
    images: r.images,
    thresholds: r.thresholds,
    oofAuc: r.oofAuc,
    // a run trained with --faces scored its own images' faces: its unseen probabilities carry them
    faces: recordedFaces(run.config) !== null,
    l2: 0,
    seconds,
    calibration,
    tta: null,
  }, r.doubts);
  writeDoubtFindings(lib.db);
}

/** The doubts as listed after a run-based computation (the same rows the Review queue reads). */
export { listDoubts };
