/**
 * A run's folder (models/<run-id>) and its checkpoint: the best model in TensorFlow.js format and run.json
 * beside it, which is all that predict, export and Grad-CAM need. Written by training, read by everything
 * after it, so it lives apart from both.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../../shared/errors';
import { MODEL_JSON, saveModel } from '../model-io';
import type { Preprocessing } from '../models/types';
import type { ResizeMode } from '../pixels';

/** models/<run-id>; defined beside the runs table (runs/store.ts) so deleting a run loads no TensorFlow.js. */
export { runDir } from './store';

/** What predict needs to use a checkpoint: written as run.json beside model.json. */
export interface CheckpointInfo {
  runId: string;
  model: string;
  inputSize: number;
  resize: ResizeMode;
  preprocessing: Preprocessing;
  classes: string[];
}

export const CHECKPOINT_INFO = 'run.json';

export async function writeCheckpoint(model: tf.LayersModel, dir: string, info: CheckpointInfo): Promise<void> {
  await saveModel(model, dir);
  await writeFile(join(dir, CHECKPOINT_INFO), `${JSON.stringify(info, null, 2)}\n`);
}

/** What writeCheckpoint wrote beside the weights; NOT_FOUND when the run saved no checkpoint. */
export async function readCheckpointInfo(dir: string, runId: string): Promise<CheckpointInfo> {
  const file = join(dir, CHECKPOINT_INFO);
  if (existsSync(join(dir, FOLDS_FILE))) {
    throw new AppError('CONFLICT', `run ${runId} is a K-fold run (one checkpoint per fold): predict, submission, Grad-CAM and export read its folds`);
  }
  if (!existsSync(file) || !existsSync(join(dir, MODEL_JSON))) {
    throw new AppError('NOT_FOUND', `run ${runId} has no saved checkpoint (it ended before its first epoch, or was deleted)`);
  }
  return JSON.parse(await readFile(file, 'utf8')) as CheckpointInfo;
}


/** What lists a K-fold run's checkpoints: models/<run>/folds.json (each fold's checkpoint is models/<run>/fold-<f>). */
export const FOLDS_FILE = 'folds.json';

export interface FoldsFile {
  k: number;
  /** Finished folds (0-based). */
  finished: number[];
}

/**
 * A K-fold run's checkpoint folders (its finished folds'), or null for a run with one checkpoint. The fold
 * ensemble predicts with their mean probability.
 */
/** Fold f's checkpoint folder (0-based) inside a K-fold run's folder. */
export function foldDir(runDir: string, f: number): string {
  return join(runDir, `fold-${f}`);
}

export async function foldCheckpointDirs(dir: string): Promise<string[] | null> {
  const file = join(dir, FOLDS_FILE);
  if (!existsSync(file)) return null;
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<FoldsFile>;
  const finished = Array.isArray(parsed.finished) ? parsed.finished.filter((f): f is number => Number.isInteger(f)) : [];
  return finished.map((f) => foldDir(dir, f));
}
