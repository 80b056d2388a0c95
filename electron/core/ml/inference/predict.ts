/**
 * Using a finished run: its best checkpoint (models/<run-id>/) on any image files, and the Zindi
 * submission from the probabilities the run stored for the submission rows, in the sample's order.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../../shared/errors';
import { columnIndexes, formatCsv, parseCsv } from '../../csv';
import type { Library } from '../../library';
import { batchTensor } from '../augment';
import { decodeRgb } from '../pixels';
import { loadModel } from '../model-io';
import type { Engine } from './engine';
import { scoreLateSplits } from './checkpoint-scores';
import { getRun, hasUsableCheckpoint } from '../runs/store';
import { refuseEnsemble } from '../../compare/ensemble';
import { readCheckpointInfo, runDir, type CheckpointInfo } from '../runs/checkpoint';

export interface FilePrediction {
  file: string;
  probability: number;
  /** The class at threshold 0.5. */
  label: string;
}

export interface PredictOptions {
  /** 'auto' (default): ONNX Runtime when it loads, else TensorFlow.js; 'onnx' fails if it cannot run. */
  engine?: Engine;
  batchSize?: number;
  /** ONNX Runtime intra-op threads (default: the free cores). */
  threads?: number;
}

export interface PredictResult {
  predictions: FilePrediction[];
  engine: 'onnx' | 'tfjs';
  /** ONNX Runtime's provider, or the tfjs backend. */
  provider: string;
  /** Why 'auto' did not use ONNX Runtime (null when it did, or was not asked to). */
  fallback: string | null;
}

function toPredictions(files: readonly string[], probs: ArrayLike<number>, classes: readonly string[]): FilePrediction[] {
  return files.map((f, i) => {
    const p = probs[i] ?? Number.NaN;
    return { file: f, probability: p, label: classes[p >= 0.5 ? 1 : 0] ?? String(p >= 0.5 ? 1 : 0) };
  });
}

async function predictTfjs(dir: string, info: CheckpointInfo, pixels: readonly Uint8Array[], batchSize: number): Promise<Float32Array> {
  const model = await loadModel(dir);
  try {
    const out = new Float32Array(pixels.length);
    for (let start = 0; start < pixels.length; start += batchSize) {
      const idx = Array.from({ length: Math.min(batchSize, pixels.length - start) }, (_, k) => start + k);
      const probs = tf.tidy(() => {
        const y = model.predict(batchTensor(pixels, idx, info.inputSize, info.preprocessing));
        if (Array.isArray(y)) throw new Error('the checkpoint has more than one output');
        return y;
      });
      out.set(await probs.data(), start);
      probs.dispose();
    }
    return out;
  } finally {
    model.dispose();
  }
}

/**
 * Probabilities of the second class for image files with the run's best checkpoint, on ONNX Runtime (the
 * checkpoint exported once to models/<run-id>/model.onnx) or TensorFlow.js.
 */
export async function predictRun(lib: Library, runRef: string, files: readonly string[], opts: PredictOptions = {}): Promise<PredictResult> {
  if (files.length === 0) throw new AppError('BAD_INPUT', 'predict needs at least one image file');
  const engine = opts.engine ?? 'auto';
  const batchSize = opts.batchSize ?? 16;
  const run = getRun(lib.db, runRef);
  refuseEnsemble(run, 'predict with');
  const dir = runDir(lib, run.id);
  const info = await readCheckpointInfo(dir, run.id);
  for (const f of files) if (!existsSync(resolve(f))) throw new AppError('NOT_FOUND', `no file at ${resolve(f)}`);
  const pixels = await Promise.all(files.map((f) => decodeRgb(resolve(f), info.inputSize, info.resize)));
  let fallback: string | null = null;
  if (engine !== 'tfjs') {
    try {
      // loaded here, not at the top: a machine where ONNX Runtime's binary does not load still predicts
      const { ensureClassifierOnnx, predictOnnx } = await import('../onnx/classifier');
      const { file } = await ensureClassifierOnnx(dir, info.preprocessing, { runId: run.id, classes: info.classes.join(',') });
      const r = await predictOnnx(file, pixels, info.inputSize, { batchSize, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) });
      return { predictions: toPredictions(files, r.probabilities, info.classes), engine: 'onnx', provider: r.provider, fallback: null };
    } catch (err) {
      if (engine === 'onnx') throw err;
      fallback = `ONNX Runtime unavailable: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const probs = await predictTfjs(dir, info, pixels, batchSize);
  return { predictions: toPredictions(files, probs, info.classes), engine: 'tfjs', provider: tf.getBackend(), fallback };
}

/** Probabilities of the second class for image files, with the run's best checkpoint on TensorFlow.js. */
export async function predictFiles(lib: Library, runRef: string, files: readonly string[], batchSize = 16): Promise<FilePrediction[]> {
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
  if (!hasUsableCheckpoint(run)) {
    throw new AppError('CONFLICT', `run ${run.id} is ${run.status}${run.status === 'running' ? '' : ' with no saved checkpoint'}; a submission needs a finished run or a checkpoint`);
  }
  // a run stopped early scores the submission rows with its best checkpoint now
  await scoreLateSplits(lib, run.id, ['submission']);
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
