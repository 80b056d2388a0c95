/**
 * Grad-CAM for a run's best checkpoint on image files, with predict's exact preprocessing (decodeRgb at
 * the run's input size and resize mode, then batchTensor's float conversion and the model's mode).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError } from '../../../../shared/errors';
import { refuseEnsemble } from '../../compare/ensemble';
import type { Library } from '../../library';
import { batchTensor } from '../augment';
import { decodeRgb } from '../pixels';
import { camModel, gradCam } from './gradcam';
import { overlayCam } from './overlay';
import { loadModel } from '../model-io';
import { readCheckpointInfo, runDir } from '../runs/checkpoint';
import { getRun } from '../runs/store';

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
}

export interface ExplainOptions {
  /** A layer to explain instead of the last 4-D one. */
  layer?: string;
  alpha?: number;
  /** Longest side of each PNG (default: the photo's own size). */
  maxSide?: number;
}

/** One explanation per file, in order, with the run's checkpoint loaded once. */
export async function explainFiles(lib: Library, runRef: string, files: readonly string[], opts: ExplainOptions = {}): Promise<Explanation[]> {
  if (files.length === 0) throw new AppError('BAD_INPUT', 'explain needs at least one image file');
  const run = getRun(lib.db, runRef);
  refuseEnsemble(run, 'explain');
  const dir = runDir(lib, run.id);
  const info = await readCheckpointInfo(dir, run.id);
  const paths = files.map((f) => resolve(f));
  for (const p of paths) if (!existsSync(p)) throw new AppError('NOT_FOUND', `no file at ${p}`);
  const model = await loadModel(dir);
  try {
    const cm = camModel(model, opts.layer);
    const out: Explanation[] = [];
    for (const [i, path] of paths.entries()) {
      const pixels = await decodeRgb(path, info.inputSize, info.resize);
      const input = batchTensor([pixels], [0], info.inputSize, info.preprocessing);
      const cam = await gradCam(cm, input).finally(() => input.dispose());
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
      });
    }
    return out;
  } finally {
    model.dispose();
  }
}
