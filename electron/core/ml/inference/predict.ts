/**
 * Using a finished run: its best checkpoint (models/<run-id>/) on any image files, and the Zindi
 * submission from the probabilities the run stored for the submission rows, in the sample's order.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { PredictRow } from '../../../../shared/contract-predict';
import { AppError } from '../../../../shared/errors';
import { columnIndexes, formatCsv, parseCsv } from '../../csv';
import type { Library } from '../../library';
import { getRun } from '../runs/store';
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

export interface SubmissionResult {
  out: string;
  rows: number;
  sample: string;
}

/**
 * Writes `image,target` in the sample submission's row order, one probability per row. Every sample row
 * must have a prediction from the run (an image excluded or unreadable has none: the message names it).
 */
export async function writeSubmission(lib: Library, runRef: string, outFile: string): Promise<SubmissionResult> {
  const run = getRun(lib.db, runRef);
  if (run.status !== 'done') throw new AppError('CONFLICT', `run ${run.id} is ${run.status}; a submission needs a finished run`);
  const source = lib.db
    .prepare('SELECT id, sample_submission FROM sources WHERE sample_submission IS NOT NULL ORDER BY id DESC LIMIT 1')
    .get() as { id: number; sample_submission: string } | undefined;
  if (!source) {
    throw new AppError('NOT_FOUND', "this library has no sample submission: import with --test-dir DIR --sample-submission CSV");
  }
  let text: string;
  try {
    text = await readFile(source.sample_submission, 'utf8');
  } catch (err) {
    throw new AppError('IO', `cannot read the sample submission ${source.sample_submission}: ${(err as Error).message}`);
  }
  const rows = parseCsv(text);
  const header = rows[0];
  const cols = header ? columnIndexes(header.fields, ['image'] as const) : null;
  if (!header || !cols) throw new AppError('BAD_INPUT', `${source.sample_submission}: no 'image' column in the header`);
  const preds = lib.db
    .prepare(
      `SELECT i.file_name AS fileName, i.rel_path AS relPath, p.probability FROM predictions p JOIN images i ON i.id = p.image_id
       WHERE p.run_id = ? AND p.split = 'submission'`,
    )
    .all(run.id) as Array<{ fileName: string; relPath: string; probability: number }>;
  const byName = new Map<string, number>();
  for (const p of preds) {
    byName.set(p.relPath, p.probability);
    byName.set(p.fileName, p.probability);
  }
  const out: Array<[string, number]> = [];
  const missing: string[] = [];
  for (const r of rows.slice(1)) {
    const image = r.fields[cols.image]?.trim() ?? '';
    const p = byName.get(image) ?? byName.get(basename(image));
    if (p === undefined) missing.push(`line ${r.line}: ${image}`);
    else out.push([image, p]);
  }
  if (missing.length > 0) {
    throw new AppError(
      'CONFLICT',
      `run ${run.id} has no prediction for ${missing.length} sample row(s) (${missing.slice(0, 5).join('; ')}${missing.length > 5 ? '; …' : ''}): ` +
        'were they excluded or unreadable, or imported after the run?',
    );
  }
  const abs = resolve(outFile);
  await writeFile(abs, formatCsv(['image', 'target'], out));
  return { out: abs, rows: out.length, sample: source.sample_submission };
}
