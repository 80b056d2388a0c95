/**
 * Training as a job: `startTraining` checks everything that can be checked up front (the model, its
 * weights, the split), records the run, and starts a worker thread that executes it; the worker's
 * messages become rows (environment, epochs, predictions, the end) and `job.progress` events. Cancel
 * sets a shared flag the worker reads before every batch, so it stops within one batch.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TrainInput } from '../../../../shared/contract';
import { AppError, type ErrorPayload } from '../../../../shared/errors';
import type { JobContext, JobRunner } from '../../jobs/runner';
import type { Library } from '../../library';
import type { Db } from '../../db/open';
import { nativeBackendInstalled } from '../backend/backend';
import { clearPixelCache, pixelCacheFile } from '../pixels';
import { clearFeatureCache } from '../inference/features';
import { ARCHITECTURES } from '../models';
import { disableOrtTelemetry } from '../onnx/telemetry-off';
import { isTransfer } from '../models/types';
import {
  createRun,
  deleteRun,
  finishRun,
  getRun,
  insertEpoch,
  insertPredictions,
  markInterruptedRuns,
  recordCheckpoint,
  runDir,
  setRunEnvironment,
  trainingSet,
  unresolvedErrorFindings,
  type TrainingSet,
} from '../runs/store';
import { resolveConfig, type TrainConfig } from './config';
import { cacheFolders, removeCachesSince } from './caches';
import { executeRun } from './execute';
import { planFolds, runFolds, type FoldPlan } from './kfold';
import { facesAfterTraining } from './run-faces';
import { currentMachine, preflight } from './preflight';
import type { RunIo, RunJob, RunMessage } from './run';
import { fetchHint, findNsfwjs, weightsStatus } from '../weights';
import { trainWorkerUrl } from './worker-url';

export interface TrainStart {
  runId: string;
  jobId: string;
  config: TrainConfig;
  /** Unresolved error findings, said but not refused. */
  warnings: string[];
}

export interface TrainOptions {
  /** Execute in this thread instead of a worker (tests; places where workers cannot load TypeScript). */
  inProcess?: boolean;
  /** Backend initialiser for in-process runs (a worker uses backend.ts's initBackend). */
  initBackend?: RunIo['initBackend'];
  weightsDir?: string;
  /** Every message the run sends, after it was recorded. */
  onMessage?: (m: RunMessage) => void;
}

/** Refuses, with the command that fixes it, a run whose weights are not here. */
export function checkWeights(config: TrainConfig, weightsDir?: string): void {
  if (!isTransfer(config.model) || config.weights === 'none') return;
  if (config.weights === 'nsfwjs') {
    if (!findNsfwjs()) throw new AppError('NOT_FOUND', "the 'nsfwjs' weights need the npm package nsfwjs: 'npm install --save-dev nsfwjs@4.4.0'");
    return;
  }
  if (config.weights === 'imagenet') {
    const status = weightsStatus(config.model, weightsDir ? { dir: weightsDir } : {});
    if (!status.present) {
      const alt = config.model === 'inception_v3' && findNsfwjs() ? "; or train on the offline pretrained InceptionV3 with '--weights nsfwjs'" : '';
      throw new AppError('NOT_FOUND', `no ImageNet weights for ${config.model}: ${fetchHint(config.model)}${alt}`);
    }
    return;
  }
  if (!existsSync(resolve(config.weights))) {
    throw new AppError('NOT_FOUND', `--weights '${config.weights}': not imagenet, none or nsfwjs, and no file there`);
  }
}

/** The pre-flight estimate (preflight.ts) on this machine, before anything is decoded or cached. */
function checkFits(lib: Library, config: TrainConfig, set: TrainingSet): void {
  // asked for by name but absent: refused before a run exists (it became a 'failed' run in the table)
  if (config.backend === 'tensorflow' && !nativeBackendInstalled()) {
    throw new AppError(
      'BAD_INPUT',
      "the TensorFlow (native) backend is not installed here (neither @tensorflow/tfjs-node nor @tensorflow/tfjs-node-gpu): choose 'auto' (the best available), or install one (Doctor says what loads)",
    );
  }
  const fromPixels = config.model === 'scratch' || (config.fineTuneLayers > 0 && config.engine === 'tfjs');
  const all = [...set.train, ...set.val, ...set.test, ...set.submission];
  const uncached = fromPixels ? all.filter((i) => !existsSync(pixelCacheFile(lib.cacheDir, i.sha256, config.inputSize, config.resize))).length : 0;
  const wasm = config.backend === 'wasm' || (config.backend === 'auto' && !nativeBackendInstalled());
  const machine = currentMachine(lib.cacheDir, wasm, wasm ? 'wasm' : config.backend === 'auto' ? 'tensorflow' : config.backend);
  const planned = {
    model: config.model,
    inputSize: config.inputSize,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    fromPixels,
    trainsNetwork: fromPixels,
    images: all.length,
    uncached,
  };
  preflight(planned, machine, ARCHITECTURES[config.model].minInputSize);
}

function newRunId(model: string): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${t}-${model}-${randomBytes(2).toString('hex')}`;
}

/** Deleting a run needs no TensorFlow.js: it lives in runs/store.ts (re-exported for the callers of this module). */
export { deleteRun };

function spawnWorker(job: RunJob, onMessage: (m: RunMessage) => void, signal: AbortSignal): Promise<void> {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  // the worker may extract features on ONNX Runtime; only this (main) thread can turn its telemetry off for it
  disableOrtTelemetry();
  const worker = new Worker(trainWorkerUrl(import.meta.url), { workerData: { job, cancel } });
  const onAbort = (): void => {
    Atomics.store(flag, 0, 1);
  };
  signal.addEventListener('abort', onAbort);
  if (signal.aborted) onAbort();
  return new Promise<void>((resolvePromise, reject) => {
    let ended = false;
    worker.on('message', (m: RunMessage) => {
      try {
        onMessage(m);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
      if (m.type === 'finished' || m.type === 'failed') ended = true;
    });
    worker.on('error', (err) => reject(err));
    worker.on('exit', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (ended) resolvePromise();
      else reject(new Error(`the training worker stopped (exit code ${code}) before the run ended`));
    });
  });
}

/** Writes each message of a run into the library as it arrives (environment, epochs, predictions, the end). */
function recordMessages(db: Db, runId: string, started: () => number, onMessage: ((m: RunMessage) => void) | undefined): (ctx: JobContext, m: RunMessage) => void {
  const seconds = (): number => (Date.now() - started()) / 1000;
  return (ctx, m) => {
    switch (m.type) {
      case 'environment':
        setRunEnvironment(db, runId, m.env);
        break;
      case 'progress':
        ctx.progress(m.phase, m.done, m.total, m.metrics);
        break;
      case 'epoch':
        insertEpoch(db, runId, m.row);
        break;
      case 'predictions':
        insertPredictions(db, runId, m.rows);
        break;
      case 'checkpoint':
        recordCheckpoint(db, runId, m.best, m.rows);
        break;
      case 'finished':
        finishRun(db, runId, { status: m.status, seconds: seconds(), best: m.best, imagesPerSecond: m.imagesPerSecond, throughputBasis: m.throughputBasis, error: null });
        break;
      case 'failed':
        finishRun(db, runId, { status: 'failed', seconds: seconds(), best: null, imagesPerSecond: null, error: m.error.message });
        break;
    }
    onMessage?.(m);
  };
}

/** Starts a run as a job; returns at once with its ids. The run row exists before this returns. */
export function startTraining(lib: Library, runner: JobRunner, input: TrainInput, opts: TrainOptions = {}): TrainStart {
  const config = resolveConfig(input);
  checkWeights(config, opts.weightsDir);
  const set = trainingSet(lib.db);
  checkFits(lib, config, set);
  const plan: FoldPlan | null = config.folds >= 2 ? planFolds(lib.db, set, config.folds, config.seed) : null;
  const warnings = unresolvedErrorFindings(lib.db).map((f) => `${f.kind}: ${f.message}`);
  markInterruptedRuns(lib.db);
  const runId = newRunId(config.model);
  createRun(lib.db, {
    id: runId,
    model: config.model,
    config,
    backend: config.backend,
    jobId: null,
    set,
    weightsSource: config.weights,
    inputSize: config.inputSize,
  });
  const job: RunJob = {
    runId,
    config,
    cacheDir: lib.cacheDir,
    runDir: runDir(lib, runId),
    items: { train: set.train, val: set.val, test: set.test, submission: set.submission },
    classes: set.classes,
    ...(opts.weightsDir ? { weightsDir: opts.weightsDir } : {}),
  };
  // the run's time starts with its turn: a training queued behind another heavy job does not count the wait
  let started = Date.now();
  const record = recordMessages(lib.db, runId, () => started, opts.onMessage);
  const jobId = runner.start('train', { runId, ...input }, async (ctx) => {
    started = Date.now();
    const failure: { error: ErrorPayload | null } = { error: null };
    const cachesBefore = cacheFolders(lib.cacheDir);
    const onMessage = (m: RunMessage): void => {
      if (m.type === 'failed') failure.error = m.error;
      record(ctx, m);
    };
    const execute = async (j: RunJob, post: (m: RunMessage) => void): Promise<void> => {
      if (!opts.inProcess) return spawnWorker(j, post, ctx.signal);
      const init = opts.initBackend;
      if (!init) throw new Error('an in-process run needs initBackend');
      await executeRun(j, { post, cancelled: () => ctx.signal.aborted, initBackend: init });
    };
    if (plan !== null) {
      const r = await runFolds({ db: lib.db, job, plan, execute, progress: ctx.progress, cancelled: () => ctx.signal.aborted, started, onMessage: opts.onMessage });
      if (r.status === 'failed') {
        await removeCachesSince(lib.cacheDir, cachesBefore);
        throw new AppError('INTERNAL', r.error ?? 'a fold failed');
      }
      await facesAfterTraining(lib, runId, ctx);
      return getRun(lib.db, runId);
    }
    try {
      await execute(job, onMessage);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (getRun(lib.db, runId).status === 'running') {
        finishRun(lib.db, runId, { status: 'failed', seconds: (Date.now() - started) / 1000, best: null, imagesPerSecond: null, error: message });
      }
      await removeCachesSince(lib.cacheDir, cachesBefore);
      throw err;
    }
    if (failure.error !== null) {
      await removeCachesSince(lib.cacheDir, cachesBefore);
      throw new AppError(failure.error.code, failure.error.message);
    }
    await facesAfterTraining(lib, runId, ctx);
    return getRun(lib.db, runId);
  }, {
    queue: true,
    cancelledWaiting: () => finishRun(lib.db, runId, { status: 'cancelled', seconds: 0, best: null, imagesPerSecond: null, error: null }),
  });
  lib.db.prepare('UPDATE runs SET job_id = ? WHERE id = ?').run(jobId, runId);
  return { runId, jobId, config, warnings };
}

/** Removes the preprocessed pixels and the frozen-base features (both rebuilt on demand). */
export async function clearCaches(lib: Library): Promise<void> {
  await clearPixelCache(lib.cacheDir);
  await clearFeatureCache(lib.cacheDir);
}
