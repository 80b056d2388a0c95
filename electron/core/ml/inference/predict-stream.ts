/**
 * `predict` over any number of files in bounded memory: the checkpoint is opened once (ONNX Runtime, or
 * TensorFlow.js), files are decoded a batch at a time, a few at once, the next batch while the current one
 * is scored, and every file's row is handed out as soon as its batch is done. At most two batches of
 * pixels are alive whatever the number of files; rows come in the order of the files.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PREDICT_BATCH_DEFAULT, type PredictRow } from '../../../../shared/contract-predict';
import { AppError } from '../../../../shared/errors';
import { refuseEnsemble } from '../../compare/ensemble';
import { mapPool } from '../../dataset/walk';
import { throwIfAborted } from '../../jobs/progress';
import type { Library } from '../../library';
import { batchTensor } from '../augment';
import { loadModel } from '../model-io';
import type { Engine } from './engine';
import { decodeForPredict, type Decoded } from './predict-decode';
import { foldCheckpointDirs, readCheckpointInfo, runDir, type CheckpointInfo } from '../runs/checkpoint';
import { getRun } from '../runs/store';
import { recordedTta, withTta, type TtaMode } from './tta';

export interface PredictStreamOptions {
  /** 'auto' (default): ONNX Runtime when it loads, else TensorFlow.js; 'onnx' fails if it cannot run. */
  engine?: Engine;
  batchSize?: number;
  /** ONNX Runtime intra-op threads (default: the free cores, measured once). */
  threads?: number;
  /** Files decoded at once (default: the cores, at least 2). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Test-time augmentation; default the run's own (what its recorded scores used). */
  tta?: TtaMode;
}

export interface PredictStreamResult {
  runId: string;
  tta: TtaMode;
  engine: 'onnx' | 'tfjs';
  /** ONNX Runtime's provider, or the tfjs backend. */
  provider: string;
  /** Why 'auto' did not use ONNX Runtime (null when it did, or was not asked to). */
  fallback: string | null;
  files: number;
  scored: number;
  truncated: number;
  corrupt: number;
  errors: number;
  seconds: number;
}

interface Predictor {
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

async function openPredictor(dir: string, info: CheckpointInfo, runId: string, opts: PredictStreamOptions): Promise<Predictor> {
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
async function foldsPredictor(dirs: readonly string[], info: CheckpointInfo, runId: string, opts: PredictStreamOptions): Promise<Predictor> {
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

/** The run's checkpoint, or for a K-fold run the mean of its finished folds' (all share one run.json's sizes). */
async function openRunPredictor(dir: string, runId: string, opts: PredictStreamOptions): Promise<{ info: CheckpointInfo; predictor: Predictor }> {
  const folds = await foldCheckpointDirs(dir);
  if (folds === null) {
    const info = await readCheckpointInfo(dir, runId);
    return { info, predictor: await openPredictor(dir, info, runId, opts) };
  }
  const first = folds[0];
  if (first === undefined) throw new AppError('NOT_FOUND', `run ${runId} has no finished fold to predict with`);
  const info = await readCheckpointInfo(first, runId);
  return { info, predictor: await foldsPredictor(folds, info, runId, opts) };
}

function labelOf(p: number, classes: readonly string[]): string {
  return classes[p >= 0.5 ? 1 : 0] ?? String(p >= 0.5 ? 1 : 0);
}

/**
 * Scores `files` with the run's best checkpoint; `onRow` gets every file's row, in order, batch by batch
 * (it may be async: the next rows wait for it, so a slow writer holds memory bounded too).
 */
export async function predictStream(
  lib: Library,
  runRef: string,
  files: readonly string[],
  onRow: (row: PredictRow) => void | Promise<void>,
  opts: PredictStreamOptions = {},
): Promise<PredictStreamResult> {
  const started = performance.now();
  const run = getRun(lib.db, runRef);
  refuseEnsemble(run, 'predict with');
  const dir = runDir(lib, run.id);
  const { info, predictor } = await openRunPredictor(dir, run.id, opts);
  const tta = opts.tta ?? recordedTta(run.config);
  // the views are averaged outside the fold ensemble: each fold scores every view
  const score = withTta(tta, info.inputSize, (images) => predictor.run(images));
  const batchSize = opts.batchSize ?? PREDICT_BATCH_DEFAULT;
  const concurrency = opts.concurrency ?? Math.max(2, availableParallelism());
  const counts = { scored: 0, truncated: 0, corrupt: 0, errors: 0 };
  const decodeBatch = (start: number): Promise<Decoded[]> =>
    mapPool(files.slice(start, start + batchSize), concurrency, (f) => decodeForPredict(resolve(f), info.inputSize, info.resize));
  try {
    let next = files.length > 0 ? decodeBatch(0) : Promise.resolve([]);
    for (let start = 0; start < files.length; start += batchSize) {
      throwIfAborted(opts.signal);
      const decoded = await next;
      if (start + batchSize < files.length) {
        next = decodeBatch(start + batchSize);
        next.catch(() => {}); // awaited next turn; a failure here must not surface as unhandled meanwhile
      }
      const ok = decoded.flatMap((d) => (d.pixels === null ? [] : [d.pixels]));
      const probs = ok.length > 0 ? await score(ok) : new Float32Array(0);
      let k = 0;
      for (const [i, d] of decoded.entries()) {
        const file = files[start + i] ?? '';
        if (d.pixels === null) {
          counts.errors++;
          await onRow({ file, probability: null, label: null, status: 'error', message: d.message });
          continue;
        }
        const p = Math.min(1, Math.max(0, probs[k++] ?? Number.NaN));
        counts.scored++;
        if (d.status === 'truncated') counts.truncated++;
        if (d.status === 'corrupt') counts.corrupt++;
        await onRow({ file, probability: p, label: labelOf(p, info.classes), status: d.status, message: d.message });
      }
      opts.onProgress?.(Math.min(files.length, start + batchSize), files.length);
    }
  } finally {
    await predictor.close();
  }
  return {
    runId: run.id,
    tta,
    engine: predictor.engine,
    provider: predictor.provider,
    fallback: predictor.fallback,
    files: files.length,
    ...counts,
    seconds: (performance.now() - started) / 1000,
  };
}
