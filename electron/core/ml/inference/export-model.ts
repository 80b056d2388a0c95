/**
 * `export-model`: a run's best checkpoint as a deployable folder: model.onnx (raw RGB in, preprocessing
 * in the graph) or the TensorFlow.js files, plus model-card.json saying what goes in and what comes out.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Library } from '../../library';
import { MODEL_JSON } from '../model-io';
import { refuseEnsemble } from '../../compare/ensemble';
import { getRun } from '../runs/store';
import { readCheckpointInfo, runDir } from '../runs/checkpoint';

import type { ExportFormat } from '../../../../shared/names';
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
  output: string;
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

export async function exportRunModel(lib: Library, runRef: string, format: ExportFormat, outDir: string): Promise<ExportResult> {
  const run = getRun(lib.db, runRef);
  refuseEnsemble(run, 'export');
  const dir = runDir(lib, run.id);
  const info = await readCheckpointInfo(dir, run.id);
  const out = resolve(outDir);
  await mkdir(out, { recursive: true });
  let files: string[];
  let opset: number | null = null;
  if (format === 'onnx') {
    // loaded here: ONNX Runtime is not needed for tfjs exports
    const { ensureClassifierOnnx, MODEL_ONNX } = await import('../onnx/classifier');
    const onnx = await ensureClassifierOnnx(dir, info.preprocessing, { runId: run.id, classes: info.classes.join(',') });
    await copyFile(onnx.file, join(out, MODEL_ONNX));
    files = [MODEL_ONNX];
    opset = onnx.opset;
  } else {
    files = [MODEL_JSON, 'weights.bin'];
    for (const f of files) await copyFile(join(dir, f), join(out, f));
  }
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
    output: `[batch, 1] float32: probability of class '${info.classes[1] ?? '1'}'`,
    threshold: 0.5,
    metrics: { bestEpoch: run.best?.epoch ?? null, valAuc: run.best?.valAuc ?? null, valLogLoss: run.best?.valLogLoss ?? null },
    dataHash: run.dataHash,
    weightsSource: run.weightsSource,
    createdAt: new Date().toISOString(),
  };
  await writeFile(join(out, MODEL_CARD), `${JSON.stringify(card, null, 2)}\n`);
  return { dir: out, files: [...files, MODEL_CARD], card };
}
