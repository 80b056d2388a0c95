/**
 * Training in SQLite: which rows a run trains on (and the hash that says so), and the runs, epochs and
 * predictions tables. Only the main thread writes here; the training worker sends messages.
 */
import { recordedFaces } from './faces-record';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunInfo, RunEpoch } from '../../../../shared/contract';
import { ThroughputBasis } from '../../../../shared/contract-compare';
import { AppError } from '../../../../shared/errors';
import { classCounts, classesInUse } from '../../dataset/classes';
import { contentOrder } from '../../dataset/images';
import { currentSplit } from '../../dataset/split';
import type { Db } from '../../db/open';
import { foldState } from './fold-state';
import type { Library } from '../../library';
import { ownStartKey, processGone } from '../../jobs/process-identity';

export interface TrainItem {
  id: number;
  sha256: string;
  path: string;
  /** 0 or 1 (the class's position); -1 for unlabelled submission rows. */
  label: number;
}

export interface TrainingSet {
  /** Class names in position order: index = label. */
  classes: string[];
  train: TrainItem[];
  val: TrainItem[];
  test: TrainItem[];
  submission: TrainItem[];
  dataHash: string;
  splitSeed: number | null;
}

const USABLE = "excluded = 0 AND decode_status = 'ok' AND missing = 0";

/**
 * The included, readable rows of each split, in content order. Train and val (and test, if any) must be
 * labelled; a binary task only. Refuses an empty or unsplit library with what to run.
 */
export function trainingSet(db: Db): TrainingSet {
  const classes = classesInUse(db);
  const usable = (db.prepare(`SELECT COUNT(*) AS n FROM images WHERE ${USABLE} AND label IS NOT NULL`).get() as { n: number }).n;
  if (usable === 0) {
    throw new AppError('CONFLICT', "the library has no labelled, readable, included images: import a labelled folder first (Import… in the studio, 'mask-studio import DIR --labels CSV' on the command line)");
  }
  if (classes.length !== 2) {
    throw new AppError(
      'CONFLICT',
      `training is binary for now; ${classes.length} classes have included, readable images (images per class: ${classCounts(db)}): relabel or exclude the images of the extra class`,
    );
  }
  const rows = db
    .prepare(`SELECT id, sha256, path, label, split FROM images WHERE ${USABLE} AND split IN ('train', 'val', 'test', 'submission') ORDER BY ${contentOrder()}`)
    .all() as Array<{ id: number; sha256: string; path: string; label: string | null; split: 'train' | 'val' | 'test' | 'submission' }>;
  const set: TrainingSet = { classes, train: [], val: [], test: [], submission: [], dataHash: '', splitSeed: splitSeed(db) };
  const hashLines: string[] = [];
  for (const r of rows) {
    const label = r.label === null ? -1 : classes.indexOf(r.label);
    if (r.split !== 'submission' && label < 0) continue; // unlabelled rows cannot be trained or scored on
    set[r.split].push({ id: r.id, sha256: r.sha256, path: r.path, label });
    if (r.split !== 'submission') hashLines.push(`${r.sha256},${r.label ?? ''},${r.split}`);
  }
  if (set.train.length === 0 || set.val.length === 0) {
    const how = "(Split in the studio's Insights, 'mask-studio split' on the command line)";
    throw new AppError(
      'CONFLICT',
      set.train.length === 0 && set.val.length === 0
        ? `the library is not split: split it first ${how}`
        : `the split leaves ${set.train.length} train and ${set.val.length} validation images, and training needs both: split again with a larger share ${how}`,
    );
  }
  for (const [name, items] of [['train', set.train], ['val', set.val]] as const) {
    const pos = items.filter((i) => i.label === 1).length;
    if (pos === 0 || pos === items.length) {
      throw new AppError('CONFLICT', `the ${name} split holds one class only (${items.length} images): re-run 'mask-studio split'`);
    }
  }
  // The training order is a function of what these lines list (content order), so the hash fixes the order too.
  set.dataHash = createHash('sha256').update(hashLines.sort().join('\n')).digest('hex');
  return set;
}

/** The seed of the last `mask-studio split`, if the library records one. */
export function splitSeed(db: Db): number | null {
  return currentSplit(db)?.seed ?? null;
}

/** Error findings nobody dismissed or resolved: training warns about them but goes on. */
export function unresolvedErrorFindings(db: Db): Array<{ kind: string; message: string }> {
  return db
    .prepare(
      `SELECT f.kind, f.message FROM findings f
       LEFT JOIN finding_decisions d ON d.key = f.key
       WHERE f.severity = 'error' AND f.audit_id = (SELECT MAX(id) FROM audits)
         AND (d.status IS NULL OR d.status = 'open')
       ORDER BY f.id`,
    )
    .all() as Array<{ kind: string; message: string }>;
}

export interface NewRun {
  id: string;
  model: string;
  config: unknown;
  backend: string;
  jobId: string | null;
  set: TrainingSet;
  weightsSource: string;
  inputSize: number;
}

export function createRun(db: Db, r: NewRun): void {
  db.prepare(
    `INSERT INTO runs (id, model, config, backend, device, engine, status, job_id, pid, pid_start, started_at, split_seed, data_hash,
       train_images, val_images, weights_source, input_size)
     VALUES (?, ?, ?, ?, '', '', 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    r.id, r.model, JSON.stringify(r.config), r.backend, r.jobId, process.pid, ownStartKey(), new Date().toISOString(), r.set.splitSeed,
    r.set.dataHash, r.set.train.length, r.set.val.length, r.weightsSource, r.inputSize,
  );
}

/**
 * The runs table has no provider column (migrations are never edited): the engine's provider and any
 * fallback reason go into the config JSON as `engineProvider` / `engineFallback`.
 */
export function setRunEnvironment(
  db: Db,
  id: string,
  env: { backend: string; device: string; engine: string; params: number; provider?: string; engineFallback?: string; fineTune?: string; trainEngine?: string },
): void {
  db.prepare(
    `UPDATE runs SET backend = ?, device = ?, engine = ?, params = ?,
       config = json_set(config, '$.engineProvider', ?, '$.engineFallback', ?) WHERE id = ?`,
  ).run(env.backend, env.device, env.engine, env.params, env.provider ?? null, env.engineFallback ?? null, id);
  if (env.fineTune !== undefined) db.prepare(`UPDATE runs SET config = json_set(config, '$.fineTune', ?) WHERE id = ?`).run(env.fineTune, id);
  if (env.trainEngine !== undefined) db.prepare(`UPDATE runs SET config = json_set(config, '$.trainEngine', ?) WHERE id = ?`).run(env.trainEngine, id);
}

export function insertEpoch(db: Db, runId: string, e: RunEpoch): void {
  db.prepare(
    `INSERT INTO epochs (run_id, epoch, fold, stage, loss, acc, auc, val_loss, val_acc, val_auc, lr, seconds, images_per_second)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(runId, e.epoch, e.fold, e.stage, e.loss, e.acc, e.auc, e.valLoss, e.valAcc, e.valAuc, e.lr, e.seconds, e.imagesPerSecond);
}

/** A probability a run gave one image of a split, as the predictions table stores it. */
export type PredictionRow = { imageId: number; split: 'train' | 'val' | 'test' | 'submission'; probability: number };

export function predictionRows(items: ReadonlyArray<Pick<TrainItem, 'id'>>, split: PredictionRow['split'], probs: Float32Array): PredictionRow[] {
  return items.map((it, i) => ({ imageId: it.id, split, probability: Math.min(1, Math.max(0, probs[i] ?? 0)) }));
}

export function insertPredictions(db: Db, runId: string, rows: ReadonlyArray<{ imageId: number; split: string; probability: number }>): void {
  const stmt = db.prepare('INSERT OR REPLACE INTO predictions (run_id, image_id, split, probability) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const r of rows) stmt.run(runId, r.imageId, r.split, r.probability);
  })();
}

/**
 * A running run saved a new best checkpoint: the run's best is that epoch and its predictions are the
 * checkpoint's (the validation rows it scored; those of an older checkpoint are dropped), in one
 * transaction, so a run killed at any moment holds a checkpoint, its epoch and its scores together.
 */
export function recordCheckpoint(
  db: Db,
  runId: string,
  best: { epoch: number; valAuc: number | null; valLogLoss: number },
  rows: ReadonlyArray<{ imageId: number; split: string; probability: number }>,
): void {
  db.transaction(() => {
    db.prepare('UPDATE runs SET best_epoch = ?, best_val_auc = ?, best_val_log_loss = ? WHERE id = ?').run(best.epoch, best.valAuc, best.valLogLoss, runId);
    db.prepare('DELETE FROM predictions WHERE run_id = ?').run(runId);
    insertPredictions(db, runId, rows);
  })();
}

export interface RunEnd {
  status: 'done' | 'failed' | 'cancelled' | 'interrupted';
  seconds: number;
  best: { epoch: number; valAuc: number | null; valLogLoss: number } | null;
  imagesPerSecond: number | null;
  /** What imagesPerSecond counts (kept in the config JSON: the runs table has no column for it). */
  throughputBasis?: ThroughputBasis;
  error: string | null;
}

/**
 * Ends a run. A best of null keeps the checkpoint recorded while it ran (a run that failed or was
 * cancelled after saving one still has it, its epochs and its validation scores).
 */
export function finishRun(db: Db, id: string, end: RunEnd): void {
  db.prepare(
    `UPDATE runs SET status = ?, finished_at = ?, seconds = ?, best_epoch = coalesce(?, best_epoch), best_val_auc = CASE WHEN ? THEN ? ELSE best_val_auc END,
       best_val_log_loss = coalesce(?, best_val_log_loss), images_per_second = ?, error = ? WHERE id = ?`,
  ).run(
    end.status, new Date().toISOString(), end.seconds, end.best?.epoch ?? null, end.best ? 1 : 0, end.best?.valAuc ?? null,
    end.best?.valLogLoss ?? null, end.imagesPerSecond, end.error, id,
  );
  if (end.throughputBasis !== undefined) db.prepare(`UPDATE runs SET config = json_set(config, '$.throughputBasis', ?) WHERE id = ?`).run(end.throughputBasis, id);
}

interface RunRecord {
  id: string;
  model: string;
  config: string;
  backend: string;
  device: string;
  engine: string;
  status: RunInfo['status'];
  started_at: string;
  finished_at: string | null;
  seconds: number | null;
  params: number | null;
  split_seed: number | null;
  data_hash: string;
  train_images: number;
  val_images: number;
  weights_source: string;
  input_size: number;
  best_epoch: number | null;
  best_val_auc: number | null;
  best_val_log_loss: number | null;
  images_per_second: number | null;
  error: string | null;
}

function toRunInfo(r: RunRecord): RunInfo {
  const config = JSON.parse(r.config) as Record<string, unknown>;
  const basis = ThroughputBasis.safeParse(config['throughputBasis']);
  return {
    id: r.id,
    model: r.model,
    config,
    backend: r.backend,
    device: r.device,
    engine: r.engine,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    seconds: r.seconds,
    params: r.params,
    splitSeed: r.split_seed,
    dataHash: r.data_hash,
    trainImages: r.train_images,
    valImages: r.val_images,
    weightsSource: r.weights_source,
    // 0: an ensemble of runs with different input sizes
    inputSize: r.input_size > 0 ? r.input_size : null,
    // an ensemble has validation scores and no epoch
    best: r.best_val_log_loss === null ? null : { epoch: r.best_epoch, valAuc: r.best_val_auc, valLogLoss: r.best_val_log_loss },
    imagesPerSecond: r.images_per_second,
    throughputBasis: basis.success ? basis.data : null,
    error: r.error,
    folds: foldsOf(config),
    faces: recordedFaces(config) !== null,
  };
}

/** K and the finished folds, 1-based as people count them (fold-store.ts keeps them in the config). */
function foldsOf(config: Record<string, unknown>): RunInfo['folds'] {
  const state = foldState(config);
  return state === null ? null : { k: state.k, finished: [...state.finished].sort((a, b) => a - b).map((f) => f + 1) };
}

/**
 * Whether a run's best checkpoint and its scores can be used (compared, averaged, submitted): a finished
 * run, or one stopped early (cancelled, or interrupted by a kill or a crash) after it saved a checkpoint.
 */
export function hasUsableCheckpoint(run: Pick<RunInfo, 'status' | 'best'>): boolean {
  return run.status === 'done' || ((run.status === 'interrupted' || run.status === 'cancelled') && run.best !== null);
}

/**
 * Of `runIds` (default: every run), those stopped early with a checkpoint that have no scores on `split`
 * yet: checkpoint-scores.ts scores them with their checkpoint when a reader needs that split.
 */
export function runsLackingSplit(db: Db, split: 'test' | 'submission', runIds?: readonly string[]): string[] {
  markInterruptedRuns(db);
  const rows = db
    .prepare(
      `SELECT r.id FROM runs r WHERE r.status IN ('interrupted', 'cancelled') AND r.best_epoch IS NOT NULL AND r.model != 'ensemble'
         AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.run_id = r.id AND p.split = ?)
         AND EXISTS (SELECT 1 FROM images i WHERE i.split = ? AND i.excluded = 0 AND i.missing = 0) ORDER BY r.id`,
    )
    .all(split, split) as Array<{ id: string }>;
  const ids = rows.map((r) => r.id);
  return runIds === undefined ? ids : ids.filter((id) => runIds.includes(id));
}

export const INTERRUPTED = 'the process running it stopped (killed, crashed or the machine went down)';

/**
 * Runs left 'running' by a process that is gone (its pid is free, or taken by a process that started
 * later) become 'interrupted' at once: they keep their epochs, their best checkpoint and its scores.
 * Called wherever runs are read, so no reader ever sees a dead run as running.
 */
export function markInterruptedRuns(db: Db): void {
  const stale = db.prepare("SELECT id, pid, pid_start, started_at FROM runs WHERE status = 'running'").all() as Array<{
    id: string; pid: number; pid_start: string | null; started_at: string;
  }>;
  for (const r of stale) {
    if (!processGone(r.pid, r.pid_start)) continue;
    const seconds = Math.max(0, (Date.now() - Date.parse(r.started_at)) / 1000);
    db.prepare("UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?, seconds = coalesce(seconds, ?) WHERE id = ? AND status = 'running'").run(
      `interrupted: ${INTERRUPTED}`, new Date().toISOString(), Number.isFinite(seconds) ? seconds : null, r.id,
    );
  }
}

export function listRuns(db: Db): RunInfo[] {
  markInterruptedRuns(db);
  return (db.prepare('SELECT * FROM runs ORDER BY started_at, id').all() as RunRecord[]).map(toRunInfo);
}

export function getRun(db: Db, id: string): RunInfo {
  markInterruptedRuns(db);
  const exact = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRecord | undefined;
  if (exact) return toRunInfo(exact);
  // a prefix, as people type the first characters of an id (compared as text: '%' and '_' are not wildcards)
  const prefixed = db.prepare('SELECT * FROM runs WHERE substr(id, 1, length(?)) = ?').all(id, id) as RunRecord[];
  if (prefixed.length === 1 && prefixed[0]) return toRunInfo(prefixed[0]);
  if (prefixed.length > 1) throw new AppError('BAD_INPUT', `'${id}' is the start of ${prefixed.length} run ids; give more characters`);
  throw new AppError('NOT_FOUND', `no run '${id}' in this library ('mask-studio runs' lists them)`);
}

export function runEpochs(db: Db, id: string): RunEpoch[] {
  const rows = db.prepare('SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch').all(id) as Array<{
    epoch: number; fold: number | null; stage: 1 | 2; loss: number; acc: number; auc: number | null; val_loss: number; val_acc: number;
    val_auc: number | null; lr: number; seconds: number; images_per_second: number;
  }>;
  return rows.map((r) => ({
    epoch: r.epoch, fold: r.fold, stage: r.stage, loss: r.loss, acc: r.acc, auc: r.auc, valLoss: r.val_loss, valAcc: r.val_acc,
    valAuc: r.val_auc, lr: r.lr, seconds: r.seconds, imagesPerSecond: r.images_per_second,
  }));
}

export function runPredictions(db: Db, id: string): Array<{ imageId: number; split: string; probability: number; label: string | null; fileName: string }> {
  return db
    .prepare(
      `SELECT p.image_id AS imageId, p.split, p.probability, i.label, i.file_name AS fileName
       FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? ORDER BY p.image_id`,
    )
    .all(id) as Array<{ imageId: number; split: string; probability: number; label: string | null; fileName: string }>;
}

/**
 * A page of a run's predictions in image id order: after `cursor` (an image id, from the last page), or just
 * the images asked for (the Compare view wants the probabilities under the thumbnails it shows).
 */
export function runPredictionsPage(
  db: Db,
  id: string,
  page: { cursor?: string | undefined; limit: number; imageIds?: readonly number[] | undefined },
): { predictions: ReturnType<typeof runPredictions>; nextCursor: string | null } {
  const after = page.cursor === undefined ? 0 : Number(page.cursor);
  if (!Number.isSafeInteger(after) || after < 0) throw new AppError('BAD_INPUT', `'${page.cursor}' is not a cursor from runs.predictions: pass the nextCursor of the previous page`);
  const only = page.imageIds && page.imageIds.length > 0 ? `AND p.image_id IN (${page.imageIds.map(() => '?').join(', ')})` : '';
  const rows = db
    .prepare(
      `SELECT p.image_id AS imageId, p.split, p.probability, i.label, i.file_name AS fileName
       FROM predictions p JOIN images i ON i.id = p.image_id WHERE p.run_id = ? AND p.image_id > ? ${only} ORDER BY p.image_id LIMIT ?`,
    )
    .all(id, after, ...(page.imageIds ?? []), page.limit + 1) as ReturnType<typeof runPredictions>;
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return { predictions: shown, nextCursor: rows.length > page.limit && last ? String(last.imageId) : null };
}

/** Deletes the run's rows (epochs and predictions cascade); its folder is the caller's to remove. */
export function deleteRunRows(db: Db, id: string): void {
  markInterruptedRuns(db);
  const run = db.prepare('SELECT status, pid FROM runs WHERE id = ?').get(id) as { status: string; pid: number } | undefined;
  if (!run) throw new AppError('NOT_FOUND', `no run '${id}' in this library`);
  if (run.status === 'running') {
    throw new AppError('CONFLICT', `run ${id} is still running (process ${run.pid}): cancel it first`);
  }
  db.prepare('DELETE FROM runs WHERE id = ?').run(id);
}

/** models/<run-id>: the run's best checkpoint. */
export function runDir(lib: Library, runId: string): string {
  return join(lib.modelsDir, runId);
}

/** Deletes a run's rows and its models/<run-id>/ folder (no TensorFlow.js needed). */
export async function deleteRun(lib: Library, id: string): Promise<string> {
  const run = getRun(lib.db, id);
  deleteRunRows(lib.db, run.id);
  await rm(runDir(lib, run.id), { recursive: true, force: true });
  return run.id;
}
