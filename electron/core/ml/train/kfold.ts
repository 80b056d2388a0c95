/**
 * `train --folds K`: K models with the run's options, fold f trained on the other folds of train+val and
 * validated (early stopping, best checkpoint) on fold f, so every labelled image gets exactly one
 * out-of-fold probability from a model that never saw it. Folds are stratified and grouped by duplicate
 * component (dataset/folds.ts, the same maker as label doubts), from the run's seed: reproducible in any
 * process. Checkpoints go to models/<run>/fold-<f>; the run predicts test and submission with their mean.
 * The folds run one after another through the same executor as a single run (worker or in-process).
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../db/open';
import { allImages } from '../../dataset/images';
import { assignFolds, duplicateComponents } from '../../dataset/folds';
import { storedNearPairs } from '../../dataset/near-pair-store';
import { commitFolds, dropFoldRows, replaceFoldRows } from '../runs/fold-store';
import { missingFoldsText } from '../../../../shared/scored-on';
import { missingFolds, type FoldState } from '../runs/fold-state';
import { finishRun, insertEpoch, setRunEnvironment, type PredictionRow, type TrainItem, type TrainingSet } from '../runs/store';
import type { RunInfo } from '../../../../shared/contract';
import { FOLDS_FILE, foldDir, type FoldsFile } from '../runs/checkpoint';
import type { RunJob, RunMessage } from './run';

export interface FoldPlan {
  k: number;
  /** Train+val items, in the training set's order. */
  labelled: TrainItem[];
  /** Each labelled item's fold (0-based). */
  fold: Int32Array;
}

/** The folds of train+val for a run: stratified by label, duplicates together, seeded by the run's seed. */
export function planFolds(db: Db, items: { train: TrainItem[]; val: TrainItem[] }, k: number, seed: number): FoldPlan {
  const labelled = [...items.train, ...items.val];
  const group = duplicateComponents(allImages(db).filter((i) => i.excluded === 0), storedNearPairs(db));
  const fold = assignFolds(labelled.map((it) => ({ label: it.label, group: group(it.id) })), k, seed);
  return { k, labelled, fold };
}

/**
 * The fold that held out each labelled image of a K-fold run (0-based), rebuilt from the run's seed as it
 * trained; null when the library's labels or split changed since (its folds can no longer be rebuilt).
 */
export function heldOutFolds(db: Db, set: TrainingSet, run: RunInfo, k: number): Map<number, number> | null {
  if (set.dataHash !== run.dataHash) return null;
  const seed = typeof run.config['seed'] === 'number' ? run.config['seed'] : 42;
  const plan = planFolds(db, set, k, seed);
  return new Map(plan.labelled.map((it, i) => [it.id, plan.fold[i] ?? -1]));
}

/** Fold f's job: trains on the other folds, validates on f, checkpoints into models/<run>/fold-<f>. */
export function foldJob(job: RunJob, plan: FoldPlan, f: number): RunJob {
  return {
    ...job,
    runDir: foldDir(job.runDir, f),
    items: {
      train: plan.labelled.filter((_, i) => plan.fold[i] !== f),
      val: plan.labelled.filter((_, i) => plan.fold[i] === f),
      test: job.items.test,
      submission: job.items.submission,
    },
  };
}

/** Mean over the finished folds of each test/submission image's probability. */
function ensembleRows(perFold: ReadonlyMap<number, readonly PredictionRow[]>): PredictionRow[] {
  const sums = new Map<number, { split: PredictionRow['split']; sum: number; n: number }>();
  for (const rows of perFold.values()) {
    for (const r of rows) {
      const s = sums.get(r.imageId) ?? { split: r.split, sum: 0, n: 0 };
      s.sum += r.probability;
      s.n++;
      sums.set(r.imageId, s);
    }
  }
  return [...sums.entries()].map(([imageId, s]) => ({ imageId, split: s.split, probability: s.sum / s.n }));
}

export interface FoldRunContext {
  db: Db;
  job: RunJob;
  plan: FoldPlan;
  /** Runs one fold's job to its end (a worker or in-process), delivering its messages. */
  execute: (job: RunJob, onMessage: (m: RunMessage) => void) => Promise<void>;
  progress: (phase: string, done: number, total: number, metrics?: Record<string, number>) => void;
  cancelled: () => boolean;
  started: number;
  /** Every message a fold sends, after it was recorded. */
  onMessage?: ((m: RunMessage) => void) | undefined;
}

export interface FoldRunResult {
  status: 'done' | 'cancelled' | 'failed';
  finished: number[];
  error: string | null;
}

interface FoldOutcome {
  status: 'done' | 'cancelled' | 'failed';
  error: string | null;
  /** The fold's test and submission rows, when it finished. */
  rows: PredictionRow[];
}

/** Runs fold f, recording its epochs (numbered on from the previous folds', with their fold) and its out-of-fold rows. */
async function runFold(c: FoldRunContext, f: number, epochOffset: { value: number }): Promise<FoldOutcome> {
  const { db, job, plan } = c;
  const fj = foldJob(job, plan, f);
  const foldIds = fj.items.val.map((it) => it.id);
  const out: FoldOutcome = { status: 'failed', error: null, rows: [] };
  let lastEpoch = 0;
  const onMessage = (m: RunMessage): void => {
    switch (m.type) {
      case 'environment':
        if (f === 0) setRunEnvironment(db, job.runId, m.env);
        break;
      case 'progress':
        // counted over the whole run, as if every fold had this fold's steps: the bar does not restart at each
        // fold, and the ETA (this fold's pace over what is left) covers the folds still to come, where it
        // read "1 s left" at the end of each fold with four to go
        c.progress(`fold ${f + 1}/${plan.k}: ${m.phase}`, f * m.total + m.done, plan.k * m.total, m.metrics);
        break;
      case 'epoch':
        lastEpoch = Math.max(lastEpoch, m.row.epoch);
        insertEpoch(db, job.runId, { ...m.row, epoch: epochOffset.value + m.row.epoch, fold: f + 1 });
        break;
      case 'checkpoint':
        // a fold's rows are stored when it finishes: a fold killed half-way is not part of the run, and rows of
        // its checkpoint would have compare and doubts score the run on images no finished fold held out
        break;
      case 'predictions':
        replaceFoldRows(db, job.runId, foldIds, m.rows.filter((r) => r.split === 'val'));
        out.rows = m.rows.filter((r) => r.split === 'test' || r.split === 'submission');
        break;
      case 'finished':
        out.status = m.status;
        break;
      case 'failed':
        out.status = 'failed';
        out.error = m.error.message;
        break;
    }
    c.onMessage?.(m);
  };
  try {
    await c.execute(fj, onMessage);
  } catch (err) {
    out.status = 'failed';
    out.error = err instanceof Error ? err.message : String(err);
  }
  epochOffset.value += lastEpoch;
  return out;
}

/**
 * Trains the folds in order and ends the run: done when all K finished; cancelled or failed otherwise,
 * keeping the finished folds (their out-of-fold rows, the ensemble's predictions, the score over them)
 * and naming the missing ones in the run's error.
 */
export async function runFolds(c: FoldRunContext): Promise<FoldRunResult> {
  const { db, job, plan } = c;
  const state: FoldState = { k: plan.k, finished: [] };
  const perFold = new Map<number, PredictionRow[]>();
  const labels = new Map(plan.labelled.map((it) => [it.id, it.label]));
  const epochOffset = { value: 0 };
  let result: FoldRunResult = { status: 'done', finished: [], error: null };
  for (let f = 0; f < plan.k; f++) {
    if (c.cancelled()) {
      result = { status: 'cancelled', finished: state.finished, error: null };
      break;
    }
    const outcome = await runFold(c, f, epochOffset);
    if (outcome.status !== 'done') {
      dropFoldRows(db, job.runId, plan.labelled.filter((_, i) => plan.fold[i] === f).map((it) => it.id));
      result = { status: outcome.status, finished: state.finished, error: outcome.error };
      break;
    }
    state.finished.push(f);
    perFold.set(f, outcome.rows);
    commitFolds(db, { runId: job.runId, state, labels, ensembleRows: ensembleRows(perFold) });
    const file: FoldsFile = { k: plan.k, finished: state.finished };
    await mkdir(job.runDir, { recursive: true });
    await writeFile(join(job.runDir, FOLDS_FILE), `${JSON.stringify(file)}\n`);
  }
  const missing = missingFolds(state);
  const why = missing.length > 0 ? `${result.status === 'failed' ? (result.error ?? 'failed') : result.status}: ${missingFoldsText(missing, plan.k)}` : null;
  const seconds = (Date.now() - c.started) / 1000;
  // the score (best) was committed with the last finished fold; a run with none has no score
  finishRun(db, job.runId, { status: result.status, seconds, best: null, imagesPerSecond: null, error: why });
  return { ...result, error: why };
}
