/**
 * Using a finished run: its best checkpoint (models/<run-id>/) on any image files. (The Zindi submission,
 * from the probabilities the run stored, is submission.ts.)
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../../shared/errors';
import type { Library } from '../../library';
import { batchTensor } from '../augment';
import { decodeRgb } from '../pixels';
import { loadModel } from '../model-io';
import type { Engine } from './engine';
import { getRun } from '../runs/store';
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
