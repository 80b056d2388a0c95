/**
 * `export-model`: a run's best checkpoint as a deployable folder: model.onnx (raw RGB in, preprocessing
 * in the graph) or the TensorFlow.js files, plus model-card.json saying what goes in and what comes out.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Library } from '../../library';
import { MODEL_JSON, WEIGHTS_BIN } from '../model-io';
import { refuseEnsemble } from '../../compare/ensemble';
import { getRun } from '../runs/store';
import { listClasses } from '../../dataset/classes';
import { AppError } from '../../../../shared/errors';
import { foldCheckpointDirs, readCheckpointInfo, runDir, type CheckpointInfo } from '../runs/checkpoint';
import { jointFoldsDir } from './joint-folds';
import { CROP_FRACTION, recordedTta, ttaViews, type TtaMode } from './tta';

import type { ExportFormat } from '../../../../shared/names';
import { FACE_SELECTION } from '../../faces/crops';
import { recordedFaces } from '../runs/faces-record';

export { EXPORT_FORMATS, type ExportFormat } from '../../../../shared/names';
export const MODEL_CARD = 'model-card.json';

export interface ModelCard {
  runId: string;
  architecture: string;
  format: ExportFormat;
  files: string[];
  inputSize: number;
  /** What the model takes: ONNX raw pixels (preprocessing inside), tfjs preprocessed pixels. */
  inputLayout: string;
  /** Keras preprocess_input mode; `inGraph` says whether the model applies it itself. */
  preprocessing: { mode: string; inGraph: boolean };
  resize: string;
  opset: number | null;
  classes: string[];
  /** What each class is called in the library that trained it ('1' → 'mask'), in the same order. */
  classDisplayNames: string[];
  output: string;
  /**
   * Test-time augmentation: the views whose probabilities are averaged. `inGraph`: the exported model does it
   * itself (ONNX with flip: one call scores the image and its mirror); otherwise the caller averages the views.
   */
  tta: { mode: TtaMode; inGraph: boolean; views: string };
  /**
   * Whether the run's metrics scored each image's faces too (`train --faces`). The exported model scores the
   * image it is given; the face detection and the combination are the studio's (`how` says what to redo).
   */
  faces: { scored: boolean; inGraph: false; how: string | null };
  /** A K-fold run's K: the model is their mean, one frozen base under K heads; null for a single-split run. */
  folds: number | null;
  threshold: number;
  metrics: { bestEpoch: number | null; valAuc: number | null; valLogLoss: number | null };
  dataHash: string;
  weightsSource: string;
  createdAt: string;
}

export interface ExportResult {
  dir: string;
  files: string[];
  card: ModelCard;
}

const VIEW_TEXT: Record<string, string> = {
  '': 'the image',
  flip: 'its horizontal mirror',
  [`crop${Math.round(CROP_FRACTION * 100)}`]: `the centred crop at ${Math.round(CROP_FRACTION * 100)} % of the side, scaled back up (bilinear)`,
  [`crop${Math.round(CROP_FRACTION * 100)}-flip`]: "that crop's mirror",
};

const FACES_HOW =
  "the metrics are of each image's probability averaged with its most confident face's: each face found by BlazeFace " +
  `(score ≥ ${FACE_SELECTION.minScore}, at most ${FACE_SELECTION.maxFaces}), cropped square at ${FACE_SELECTION.enlarge} × its box's long side, ` +
  'resized to the input size and scored by this model; this model alone scores whole images (or the crops you give it)';

/** The ONNX classifier with the mirror inside the graph (not cached: predict's model.onnx stays the plain one). */
async function writeFlipOnnx(dir: string, out: string, info: CheckpointInfo, runId: string): Promise<{ file: string; opset: number }> {
  const [{ loadModel }, { writeOnnx }, { MODEL_ONNX }] = await Promise.all([import('../model-io'), import('../onnx/export'), import('../onnx/classifier')]);
  const model = await loadModel(dir);
  try {
    const file = join(out, MODEL_ONNX);
    const written = await writeOnnx(model, file, {
      preprocessing: info.preprocessing,
      flipTta: true,
      metadata: { threshold: '0.5', runId, classes: info.classes.join(','), tta: 'flip' },
    });
    return { file, opset: written.opset };
  } finally {
    model.dispose();
  }
}

/**
 * The one network a run exports: its checkpoint, or a frozen transfer K-fold run's folds as one (their
 * shared base, every fold's head, the mean: joint-folds.ts). A K-fold run whose folds trained their own
 * networks has K of them: refused.
 */
async function exportedCheckpoint(dir: string, runId: string): Promise<{ dir: string; info: CheckpointInfo; folds: number | null }> {
  const folds = await foldCheckpointDirs(dir);
  if (folds === null) return { dir, info: await readCheckpointInfo(dir, runId), folds: null };
  const first = folds[0];
  if (first === undefined) throw new AppError('NOT_FOUND', `run ${runId} has no finished fold to export`);
  const info = await readCheckpointInfo(first, runId);
  const joint = await jointFoldsDir(dir, folds, info);
  if (joint === null) {
    throw new AppError(
      'CONFLICT',
      `run ${runId} is a K-fold run whose ${folds.length} folds each trained their own network: export needs a single-split run, or a frozen transfer K-fold run (its folds share one base and export as one network)`,
    );
  }
  return { dir: joint, info, folds: folds.length };
}

/** `tta`: default the run's own mode (what its recorded scores used). */
export async function exportRunModel(lib: Library, runRef: string, format: ExportFormat, outDir: string, ttaAsked?: TtaMode): Promise<ExportResult> {
  const run = getRun(lib.db, runRef);
  const tta = ttaAsked ?? recordedTta(run.config);
  const inGraph = format === 'onnx' && tta === 'flip';
  refuseEnsemble(run, 'export');
  const { dir, info, folds } = await exportedCheckpoint(runDir(lib, run.id), run.id);
  const out = resolve(outDir);
  await mkdir(out, { recursive: true });
  let files: string[];
  let opset: number | null = null;
  if (inGraph) {
    const { MODEL_ONNX } = await import('../onnx/classifier');
    opset = (await writeFlipOnnx(dir, out, info, run.id)).opset;
    files = [MODEL_ONNX];
  } else if (format === 'onnx') {
    // loaded here: ONNX Runtime is not needed for tfjs exports
    const { ensureClassifierOnnx, MODEL_ONNX } = await import('../onnx/classifier');
    const onnx = await ensureClassifierOnnx(dir, info.preprocessing, { runId: run.id, classes: info.classes.join(',') });
    await copyFile(onnx.file, join(out, MODEL_ONNX));
    files = [MODEL_ONNX];
    opset = onnx.opset;
  } else {
    files = [MODEL_JSON, WEIGHTS_BIN];
    for (const f of files) await copyFile(join(dir, f), join(out, f));
  }
  const faces = recordedFaces(run.config) !== null;
  const shown = listClasses(lib.db);
  const classDisplayNames = info.classes.map((c) => shown.find((k) => k.name === c)?.displayName ?? c);
  const positive = info.classes[1] ?? '1';
  const positiveShown = classDisplayNames[1] ?? positive;
  const card: ModelCard = {
    runId: run.id,
    architecture: run.model,
    format,
    files,
    inputSize: info.inputSize,
    inputLayout:
      format === 'onnx'
        ? `NHWC float32 [batch, ${info.inputSize}, ${info.inputSize}, 3], RGB in [0, 255]`
        : `NHWC float32 [batch, ${info.inputSize}, ${info.inputSize}, 3], RGB after preprocessing '${info.preprocessing}'`,
    preprocessing: { mode: info.preprocessing, inGraph: format === 'onnx' },
    resize: info.resize,
    opset,
    classes: info.classes,
    classDisplayNames,
    output: `[batch, 1] float32: probability of class '${positive}'${positiveShown !== positive ? ` (${positiveShown})` : ''}`,
    tta: { mode: tta, inGraph, views: `the mean over ${ttaViews(tta).map((v) => VIEW_TEXT[v.name] ?? v.name).join('; ')}` },
    faces: {
      scored: faces,
      inGraph: false,
      how: faces ? FACES_HOW : null,
    },
    folds,
    threshold: 0.5,
    metrics: { bestEpoch: run.best?.epoch ?? null, valAuc: run.best?.valAuc ?? null, valLogLoss: run.best?.valLogLoss ?? null },
    dataHash: run.dataHash,
    weightsSource: run.weightsSource,
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(out, MODEL_CARD), `${JSON.stringify(card, null, 2)}\n`);
  return { dir: out, files: [...files, MODEL_CARD], card };
}
