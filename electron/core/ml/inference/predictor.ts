/**
 * A run's checkpoint as something that scores pixels: ONNX Runtime (the checkpoint exported once) or
 * TensorFlow.js, and a K-fold run's finished folds as one predictor whose probability is their mean.
 * predict, the submission's rescoring and a run's face scoring open it the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../../shared/errors';
import { batchTensor } from '../augment';
import { loadModel } from '../model-io';
import type { Engine } from './engine';
import { jointFoldsDir } from './joint-folds';
import { foldCheckpointDirs, readCheckpointInfo, type CheckpointInfo } from '../runs/checkpoint';

export interface PredictorOptions {
  /** 'auto' (default): ONNX Runtime when it loads, else TensorFlow.js; 'onnx' fails if it cannot run. */
  engine?: Engine | undefined;
  /** ONNX Runtime intra-op threads (default: the free cores, measured once). */
  threads?: number | undefined;
}

export interface Predictor {
  engine: 'onnx' | 'tfjs';
  provider: string;
  fallback: string | null;
  /** p(second class) for images of size·size·3 bytes. */
  run(images: readonly Uint8Array[]): Promise<Float32Array>;
  close(): Promise<void>;
}

async function tfjsPredictor(dir: string, info: CheckpointInfo, fallback: string | null): Promise<Predictor> {
  const model = await loadModel(dir);
  return {
    engine: 'tfjs',
    provider: tf.getBackend(),
    fallback,
    async run(images) {
      const probs = tf.tidy(() => {
        const y = model.predict(batchTensor(images, images.map((_, i) => i), info.inputSize, info.preprocessing));
        if (Array.isArray(y)) throw new Error('the checkpoint has more than one output');
        return y;
      });
      try {
        return Float32Array.from(await probs.data());
      } finally {
        probs.dispose();
      }
    },
    async close() {
      model.dispose();
    },
  };
}

async function onnxPredictor(dir: string, info: CheckpointInfo, runId: string, threads: number | undefined): Promise<Predictor> {
  // loaded here, not at the top: a machine where ONNX Runtime's binary does not load still predicts
  const { ensureClassifierOnnx } = await import('../onnx/classifier');
  const { getSession, releaseSession, runBatch } = await import('../onnx/runtime');
  const { file } = await ensureClassifierOnnx(dir, info.preprocessing, { runId, classes: info.classes.join(',') });
  const session = await getSession(file, threads !== undefined ? { threads } : {});
  const size = info.inputSize;
  const per = size * size * 3;
  return {
    engine: 'onnx',
    provider: session.provider,
    fallback: null,
    async run(images) {
      const data = new Float32Array(images.length * per);
      images.forEach((img, k) => data.set(img, k * per));
      const r = await runBatch(session, data, [images.length, size, size, 3]);
      if (r.data.length !== images.length) throw new Error(`the ONNX classifier returned ${r.data.length} values for ${images.length} images`);
      return r.data;
    },
    close: () => releaseSession(session),
  };
}

export async function openPredictor(dir: string, info: CheckpointInfo, runId: string, opts: PredictorOptions): Promise<Predictor> {
  const engine = opts.engine ?? 'auto';
  if (engine === 'tfjs') return tfjsPredictor(dir, info, null);
  try {
    return await onnxPredictor(dir, info, runId, opts.threads);
  } catch (err) {
    if (engine === 'onnx') throw err;
    return tfjsPredictor(dir, info, `ONNX Runtime unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A K-fold run's predictor: each finished fold's checkpoint, their probabilities averaged. */
export async function foldsPredictor(dirs: readonly string[], info: CheckpointInfo, runId: string, opts: PredictorOptions): Promise<Predictor> {
  const members: Predictor[] = [];
  try {
    for (const d of dirs) members.push(await openPredictor(d, info, runId, opts));
  } catch (err) {
    for (const m of members) await m.close();
    throw err;
  }
  const first = members[0];
  if (!first) throw new AppError('NOT_FOUND', `run ${runId} has no finished fold to predict with`);
  return {
    engine: first.engine,
    provider: first.provider,
    fallback: first.fallback,
    async run(images) {
      const sum = new Float32Array(images.length);
      for (const m of members) {
        const p = await m.run(images);
        for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + (p[i] ?? Number.NaN);
      }
      return sum.map((v) => v / members.length);
    },
    async close() {
      for (const m of members) await m.close();
    },
  };
}

/** The run's checkpoint, or for a K-fold run the mean of its finished folds' (all share one run.json's sizes; one network where they share a frozen base). */
export async function openRunPredictor(dir: string, runId: string, opts: PredictorOptions): Promise<{ info: CheckpointInfo; predictor: Predictor }> {
  const folds = await foldCheckpointDirs(dir);
  if (folds === null) {
    const info = await readCheckpointInfo(dir, runId);
    return { info, predictor: await openPredictor(dir, info, runId, opts) };
  }
  const first = folds[0];
  if (first === undefined) throw new AppError('NOT_FOUND', `run ${runId} has no finished fold to predict with`);
  const info = await readCheckpointInfo(first, runId);
  // folds on one frozen base: their mean as one network (the base runs once, not once per fold)
  const joint = await jointFoldsDir(dir, folds, info);
  return { info, predictor: joint !== null ? await openPredictor(joint, info, runId, opts) : await foldsPredictor(folds, info, runId, opts) };
}

