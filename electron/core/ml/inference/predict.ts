/**
 * Using a finished run: its best checkpoint (models/<run-id>/) on any image files. (The Zindi submission,
 * from the probabilities the run stored, is submission.ts.)
 */
import type { PredictRow } from '../../../../shared/contract-predict';
import { AppError } from '../../../../shared/errors';
import type { Library } from '../../library';
import { predictStream, type PredictStreamOptions, type PredictStreamResult } from './predict-stream';

export interface PredictResult extends PredictStreamResult {
  /** One row per file, in order; a file that could not be read has status 'error' and no probability. */
  predictions: PredictRow[];
}

/**
 * Probabilities of the second class for image files with the run's best checkpoint, on ONNX Runtime (the
 * checkpoint exported once to models/<run-id>/model.onnx) or TensorFlow.js. Rows are collected: for many
 * files, predictStream hands them out batch by batch instead.
 */
export async function predictRun(lib: Library, runRef: string, files: readonly string[], opts: PredictStreamOptions = {}): Promise<PredictResult> {
  if (files.length === 0) throw new AppError('BAD_INPUT', 'predict needs at least one image file');
  const predictions: PredictRow[] = [];
  const result = await predictStream(lib, runRef, files, (row) => {
    predictions.push(row);
  }, opts);
  return { ...result, predictions };
}

/** Probabilities of the second class for image files, with the run's best checkpoint on TensorFlow.js. */
export async function predictFiles(lib: Library, runRef: string, files: readonly string[], batchSize = 16): Promise<PredictRow[]> {
  return (await predictRun(lib, runRef, files, { engine: 'tfjs', batchSize })).predictions;
}
