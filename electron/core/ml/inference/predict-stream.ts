/**
 * `predict` over any number of files in bounded memory: the checkpoint is opened once (ONNX Runtime, or
 * TensorFlow.js), files are decoded a batch at a time, a few at once, the next batch while the current one
 * is scored, and every file's row is handed out as soon as its batch is done. At most two batches of
 * pixels are alive whatever the number of files; rows come in the order of the files.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { PREDICT_BATCH_DEFAULT, type PredictRow } from '../../../../shared/contract-predict';
import { refuseEnsemble } from '../../compare/ensemble';
import { mapPool } from '../../dataset/walk';
import { throwIfAborted } from '../../jobs/progress';
import type { Library } from '../../library';
import type { Engine } from './engine';
import { decodeForPredict, type Decoded } from './predict-decode';
import { runDir } from '../runs/checkpoint';
import { openRunPredictor } from './predictor';
import { getRun } from '../runs/store';
import { recordedTta, withTta, type TtaMode } from './tta';
import { FaceFinder } from '../../faces/crops';
import { bytesSha256, combineFaces, faceScores, fileSha256 } from './faces';
import { recordedFaces } from '../runs/faces-record';

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
  /** Score the images' faces too (inference/faces.ts); default: as the run's own rows were scored. */
  faces?: boolean;
}

export interface PredictStreamResult {
  runId: string;
  tta: TtaMode;
  /** Whether the faces were scored too. */
  faces: boolean;
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
  const faces = opts.faces ?? recordedFaces(run.config) !== null;
  const finder = faces ? new FaceFinder(lib.cacheDir, opts.signal ? { signal: opts.signal } : {}) : null;
  const scoreFiles = async (read: ReadonlyArray<{ path: string; bytes: Buffer | undefined }>, images: Uint8Array[]): Promise<Float32Array> => {
    const whole = await score(images);
    if (finder === null) return whole;
    // the bytes decoded are the bytes hashed, searched and cropped: each file is read once
    const sources = await Promise.all(read.map(async (r) => ({ path: r.path, bytes: r.bytes, sha256: r.bytes !== undefined ? bytesSha256(r.bytes) : await fileSha256(r.path) })));
    const f = await faceScores(finder, sources, info.inputSize, score, opts.signal ? { signal: opts.signal } : {});
    return combineFaces(whole, f.faces);
  };
  const batchSize = opts.batchSize ?? PREDICT_BATCH_DEFAULT;
  const concurrency = opts.concurrency ?? Math.max(2, availableParallelism());
  const counts = { scored: 0, truncated: 0, corrupt: 0, errors: 0 };
  const decodeBatch = (start: number): Promise<Decoded[]> =>
    mapPool(files.slice(start, start + batchSize), concurrency, (f) => decodeForPredict(resolve(f), info.inputSize, info.resize, finder !== null));
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
      const okFiles = decoded.flatMap((d, i) => (d.pixels === null ? [] : [{ path: resolve(files[start + i] ?? ''), bytes: d.bytes }]));
      const probs = ok.length > 0 ? await scoreFiles(okFiles, ok) : new Float32Array(0);
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
    finder?.dispose();
    await predictor.close();
  }
  return {
    runId: run.id,
    tta,
    faces,
    engine: predictor.engine,
    provider: predictor.provider,
    fallback: predictor.fallback,
    files: files.length,
    ...counts,
    seconds: (performance.now() - started) / 1000,
  };
}
