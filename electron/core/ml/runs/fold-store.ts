/**
 * A K-fold run in SQLite: its validation rows are out of fold (each labelled train+val image scored once, by
 * the fold model that did not train on it), its test and submission rows the mean of its finished folds.
 * After every finished fold the run's score and its finished folds are committed, so a run cancelled or
 * killed later keeps them and says which folds are missing.
 */
import type { Db } from '../../db/open';
import { binaryMetrics } from '../../stats/metrics';
import { insertPredictions, type PredictionRow } from './store';
import type { FoldState } from './fold-state';

/** Replaces one fold's out-of-fold rows (split 'val'): a newer checkpoint of that fold scored them again. */
export function replaceFoldRows(db: Db, runId: string, foldImageIds: readonly number[], rows: readonly PredictionRow[]): void {
  const del = db.prepare('DELETE FROM predictions WHERE run_id = ? AND image_id = ?');
  db.transaction(() => {
    for (const id of foldImageIds) del.run(runId, id);
    insertPredictions(db, runId, rows);
  })();
}

/** Out-of-fold score over the folds finished so far: AUC and log loss of every 'val' row with its run-time label. */
function outOfFoldScore(rows: ReadonlyArray<{ label: number; probability: number }>): { valAuc: number | null; valLogLoss: number } {
  const m = binaryMetrics(rows.map((r) => r.label), rows.map((r) => r.probability));
  return { valAuc: m.auc, valLogLoss: m.logLoss };
}

export interface FoldCommit {
  runId: string;
  state: FoldState;
  /** Labels (0/1) of the out-of-fold rows, by image id, as the run trained on them. */
  labels: ReadonlyMap<number, number>;
  /** The fold ensemble's test and submission rows (mean over the finished folds). */
  ensembleRows: readonly PredictionRow[];
}

/**
 * Commits the finished folds: the ensemble's test/submission rows replace the previous mean, the run's best
 * is the out-of-fold score (no epoch: K models each kept their own), and the config lists the finished folds.
 */
export function commitFolds(db: Db, c: FoldCommit): { valAuc: number | null; valLogLoss: number } {
  const oof = db.prepare("SELECT image_id AS imageId, probability FROM predictions WHERE run_id = ? AND split = 'val'").all(c.runId) as Array<{
    imageId: number; probability: number;
  }>;
  const score = outOfFoldScore(oof.flatMap((r) => {
    const label = c.labels.get(r.imageId);
    return label === undefined ? [] : [{ label, probability: r.probability }];
  }));
  db.transaction(() => {
    db.prepare("DELETE FROM predictions WHERE run_id = ? AND split IN ('test', 'submission')").run(c.runId);
    insertPredictions(db, c.runId, c.ensembleRows);
    db.prepare('UPDATE runs SET best_epoch = NULL, best_val_auc = ?, best_val_log_loss = ? WHERE id = ?').run(score.valAuc, score.valLogLoss, c.runId);
    db.prepare(`UPDATE runs SET config = json_set(config, '$.foldsFinished', json(?)) WHERE id = ?`).run(JSON.stringify(c.state.finished), c.runId);
  })();
  return score;
}

/** Drops the out-of-fold rows of a fold that did not finish (its partial checkpoint is not part of the run). */
export function dropFoldRows(db: Db, runId: string, foldImageIds: readonly number[]): void {
  const del = db.prepare('DELETE FROM predictions WHERE run_id = ? AND image_id = ?');
  db.transaction(() => {
    for (const id of foldImageIds) del.run(runId, id);
  })();
}
