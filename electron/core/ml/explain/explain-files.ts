/**
 * Grad-CAM for a run's best checkpoint on image files, with predict's exact preprocessing (decodeRgb at
 * the run's input size and resize mode, then batchTensor's float conversion and the model's mode). A K-fold
 * run has one network per fold: an image it trained on is explained through the fold that held it out (the
 * model behind its out-of-fold probability, which never saw it), any other image through the folds' mean
 * (their maps and probabilities averaged, as predict averages their probabilities).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../../shared/errors';
import type { RunInfo } from '../../../../shared/contract';
import { refuseEnsemble } from '../../compare/ensemble';
import type { Library } from '../../library';
import { batchTensor } from '../augment';
import { decodeRgb } from '../pixels';
import { camModel, gradCam, type CamModel, type CamResult } from './gradcam';
import { overlayCam } from './overlay';
import { loadModel } from '../model-io';
import { foldDir, readCheckpointInfo, runDir, type CheckpointInfo } from '../runs/checkpoint';
import { foldState } from '../runs/fold-state';
import { getRun, trainingSet, type TrainingSet } from '../runs/store';
import { heldOutFolds } from '../train/kfold';

export interface Explanation {
  file: string;
  /** The photo with the heatmap over it. */
  png: Buffer;
  width: number;
  height: number;
  /** The layer whose activation the map is of. */
  layer: string;
  /** The run's probability of the positive class (the second) for the file. */
  probability: number;
  /** The class at threshold 0.5, as predict names it: the map shows the evidence for this class. */
  label: string;
  /**
   * The network(s) the map looks through, where it matters: a K-fold run's fold that held the image out, or
   * the folds' mean; a single-split run's checkpoint that trained on the image; else null.
   */
  through: string | null;
}

export interface ExplainOptions {
  /** A layer to explain instead of the last 4-D one. */
  layer?: string;
  alpha?: number;
  /** Longest side of each PNG (default: the photo's own size). */
  maxSide?: number;
}

/** The checkpoint folder(s) an image is explained through, and the words that say so. */
interface Route {
  dirs: string[];
  through: string | null;
}

/** The library's training set as it is now; null where it has none (unsplit, one class): explaining needs none. */
function currentSet(lib: Library): TrainingSet | null {
  try {
    return trainingSet(lib.db);
  } catch {
    return null;
  }
}

/** The run's checkpoint sizes, and the route of each file (by its path in the library, for a K-fold run). */
async function routes(lib: Library, run: RunInfo, dir: string): Promise<{ info: CheckpointInfo; route: (path: string) => Route }> {
  const state = foldState(run.config);
  const idOf = lib.db.prepare('SELECT id FROM images WHERE path = ?');
  if (state === null) {
    // a photo the run trained on: its map shows what the network learnt from this very photo, and says so
    const set = currentSet(lib);
    const trained = new Set(set !== null && set.dataHash === run.dataHash ? set.train.map((it) => it.id) : []);
    const single: Route = { dirs: [dir], through: null };
    const own: Route = { dirs: [dir], through: 'its checkpoint, which trained on this image' };
    return {
      info: await readCheckpointInfo(dir, run.id),
      route: (path) => (trained.has((idOf.get(path) as { id: number } | undefined)?.id ?? -1) ? own : single),
    };
  }
  const { k, finished } = state;
  const first = finished[0];
  if (first === undefined) throw new AppError('NOT_FOUND', `run ${run.id} has no finished fold to explain with`);
  const info = await readCheckpointInfo(foldDir(dir, first), run.id);
  const set = currentSet(lib);
  const foldOf = set === null ? null : heldOutFolds(lib.db, set, run, k);
  const mean = (why: string): Route => ({ dirs: finished.map((f) => foldDir(dir, f)), through: `the mean of ${finished.length} folds' maps: ${why}` });
  const unseen = mean('the run never trained on this image');
  return {
    info,
    route(path) {
      const row = idOf.get(path) as { id: number } | undefined;
      if (row === undefined) return unseen;
      if (foldOf === null) return mean("the library's labels or split changed since the run trained, so the fold that held this image out is not known");
      const f = foldOf.get(row.id);
      if (f === undefined) return unseen;
      if (!finished.includes(f)) return mean(`fold ${f + 1}, which held this image out, did not finish`);
      return { dirs: [foldDir(dir, f)], through: `fold ${f + 1} of ${k}, which held this image out and never trained on it` };
    },
  };
}

/** The mean of several networks' maps (one architecture: one grid), each for the class their mean probability predicts. */
async function meanCam(cms: readonly CamModel[], input: tf.Tensor4D): Promise<CamResult> {
  const cams: CamResult[] = [];
  for (const cm of cms) cams.push(await gradCam(cm, input));
  const p = cams.reduce((s, c) => s + c.probability, 0) / cams.length;
  const explained: 0 | 1 = p >= 0.5 ? 1 : 0;
  for (const [i, cm] of cms.entries()) if (cams[i]?.explained !== explained) cams[i] = await gradCam(cm, input, explained);
  const first = cams[0];
  if (first === undefined) throw new Error('no network to explain with');
  const cam = new Float32Array(first.cam.length);
  for (const c of cams) c.cam.forEach((v, j) => (cam[j] = (cam[j] ?? 0) + v / cams.length));
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return { ...first, cam, probability: p, logit: Math.log(q / (1 - q)), explained };
}

/** One explanation per file, in order, with each checkpoint it needs loaded once. */
export async function explainFiles(lib: Library, runRef: string, files: readonly string[], opts: ExplainOptions = {}): Promise<Explanation[]> {
  if (files.length === 0) throw new AppError('BAD_INPUT', 'explain needs at least one image file');
  const run = getRun(lib.db, runRef);
  refuseEnsemble(run, 'explain');
  const { info, route } = await routes(lib, run, runDir(lib, run.id));
  const paths = files.map((f) => resolve(f));
  for (const p of paths) if (!existsSync(p)) throw new AppError('NOT_FOUND', `no file at ${p}`);
  const loaded = new Map<string, { model: tf.LayersModel; cm: CamModel }>();
  const camOf = async (dir: string): Promise<CamModel> => {
    const hit = loaded.get(dir);
    if (hit) return hit.cm;
    const model = await loadModel(dir);
    try {
      const cm = camModel(model, opts.layer);
      loaded.set(dir, { model, cm });
      return cm;
    } catch (err) {
      model.dispose();
      throw err;
    }
  };
  try {
    const out: Explanation[] = [];
    for (const [i, path] of paths.entries()) {
      const via = route(path);
      const cms: CamModel[] = [];
      for (const d of via.dirs) cms.push(await camOf(d));
      const pixels = await decodeRgb(path, info.inputSize, info.resize);
      const input = batchTensor([pixels], [0], info.inputSize, info.preprocessing);
      const only = cms.length === 1 ? cms[0] : undefined;
      const cam = await (only ? gradCam(only, input) : meanCam(cms, input)).finally(() => input.dispose());
      const overlay = await overlayCam(path, cam, {
        inputSize: info.inputSize,
        resize: info.resize,
        ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
        ...(opts.maxSide !== undefined ? { maxSide: opts.maxSide } : {}),
      });
      out.push({
        file: files[i] ?? path,
        ...overlay,
        layer: cam.layer,
        probability: cam.probability,
        label: info.classes[cam.probability >= 0.5 ? 1 : 0] ?? String(cam.probability >= 0.5 ? 1 : 0),
        through: via.through,
      });
    }
    return out;
  } finally {
    for (const { model } of loaded.values()) model.dispose();
  }
}
