/**
 * A run stopped early (interrupted by a kill or a crash, or cancelled) after saving a best checkpoint has
 * that checkpoint's validation scores only: the test and submission rows are scored at the end of a run.
 * This scores the splits it never reached with the checkpoint, through the training pipeline (the same
 * pixel cache, resize and preprocessing), and stores them as the run's predictions, so such a run can be
 * submitted, compared on the test split and averaged like a finished one.
 */
import { AppError } from '../../../../shared/errors';
import { BACKEND_PREFS, ENSEMBLE_MODEL } from '../../../../shared/names';
import type { Library } from '../../library';
import { batchTensor } from '../augment';
import { chooseBackend } from '../backend/train-backend';
import { loadModel } from '../model-io';
import { loadPixels, type ImageSource } from '../pixels';
import { readCheckpointInfo, runDir } from '../runs/checkpoint';
import { getRun, hasUsableCheckpoint, insertPredictions, predictionRows, trainingSet, type TrainItem } from '../runs/store';
import { predictProbabilities } from './probabilities';
import { recordedTta, ttaMean } from './tta';

export type LateSplit = 'test' | 'submission';

function hasScores(lib: Library, runId: string, split: LateSplit): boolean {
  return lib.db.prepare('SELECT 1 FROM predictions WHERE run_id = ? AND split = ? LIMIT 1').get(runId, split) !== undefined;
}

/**
 * Scores `splits` for a run stopped early that lacks them; returns how many rows it stored (0 when there
 * was nothing to do: a finished run, an ensemble, splits already scored or empty). Refuses when the
 * library's labels or split changed since the run (its test rows are no longer the ones it was meant for).
 */
export async function scoreLateSplits(lib: Library, runRef: string, splits: readonly LateSplit[]): Promise<number> {
  const run = getRun(lib.db, runRef);
  if (run.status === 'done' || run.model === ENSEMBLE_MODEL || !hasUsableCheckpoint(run)) return 0;
  const todo = splits.filter((s) => !hasScores(lib, run.id, s));
  if (todo.length === 0) return 0;
  const set = trainingSet(lib.db);
  if (todo.includes('test') && set.dataHash !== run.dataHash) {
    throw new AppError(
      'CONFLICT',
      `run ${run.id} was ${run.status} before scoring the test split, and the library's labels or split changed since it trained: train it again`,
    );
  }
  const items: Array<{ split: LateSplit; rows: TrainItem[] }> = todo.map((split) => ({ split, rows: set[split] })).filter((x) => x.rows.length > 0);
  if (items.length === 0) return 0;
  const dir = runDir(lib, run.id);
  const info = await readCheckpointInfo(dir, run.id);
  const backend = run.config['backend'];
  await chooseBackend(BACKEND_PREFS.find((b) => b === backend) ?? 'auto');
  const model = await loadModel(dir);
  const tta = recordedTta(run.config);
  let stored = 0;
  try {
    for (const { split, rows } of items) {
      const pixels = await loadPixels(lib.cacheDir, rows as ImageSource[], info.inputSize, info.resize);
      // the run's own TTA, so these rows are scored as its finished splits would have been
      const probs = await ttaMean(tta, (view) =>
        predictProbabilities(model, pixels.length, (idx) => batchTensor(idx.map((i) => view.apply(pixels[i] as Uint8Array, info.inputSize)), idx.map((_, k) => k), info.inputSize, info.preprocessing), 32),
      );
      insertPredictions(lib.db, run.id, predictionRows(rows, split, probs));
      stored += rows.length;
    }
  } finally {
    model.dispose();
  }
  return stored;
}

/** For readers that can go on without them (compare, ensemble): each run's missing splits, or why not. */
export async function tryScoreLateSplits(lib: Library, runRefs: readonly string[], splits: readonly LateSplit[]): Promise<string[]> {
  const problems: string[] = [];
  for (const ref of runRefs) {
    try {
      await scoreLateSplits(lib, ref, splits);
    } catch (err) {
      problems.push(`${ref}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return problems;
}
