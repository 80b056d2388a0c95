/**
 * ONNX Runtime wired into training, prediction and export: a tiny scratch run exported to ONNX gives the
 * tfjs checkpoint's probabilities; `predict` on both engines agrees; a transfer run records the engine and
 * provider its frozen-base features came from. wasm backend, 32 px, a few epochs: seconds, not minutes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { listClasses, renameClass } from '../../../electron/core/dataset/classes';
import { exportRunModel, type ModelCard } from '../../../electron/core/ml/inference/export-model';
import { predictOnnx } from '../../../electron/core/ml/onnx/classifier';
import { decodeRgb } from '../../../electron/core/ml/pixels';
import { releaseSessions } from '../../../electron/core/ml/onnx/runtime';
import { predictRun } from '../../../electron/core/ml/inference/predict';
import { getRun } from '../../../electron/core/ml/runs/store';
import { startTraining } from '../../../electron/core/ml/train/start';
import { parseJson, runCli } from '../../helpers';
import { insertImages, makeFaces, splitByPosition, tempLibrary, useWasm, type TempLibrary } from './train-helpers';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? Number.NaN;
    const y = b[i] ?? Number.NaN;
    assert.ok(Math.abs(x - y) <= 1e-4 * Math.max(1, Math.abs(y)), `${what}[${i}]: ${x} vs ${y}`);
  }
};

describe('ONNX Runtime in training, predict and export-model', () => {
  let t: TempLibrary;
  let faces: Array<{ path: string; label: '0' | '1' }>;
  let scratchId = '';

  before(async () => {
    await useWasm();
    t = tempLibrary('ms-onnx-wiring-');
    faces = await makeFaces(join(t.dir, 'images'), 40, 5);
    insertImages(t.lib, join(t.dir, 'images'), faces.map((f, i) => ({ ...f, split: splitByPosition(i) })));
    const runner = new JobRunner(t.lib.db, () => {});
    const start = startTraining(t.lib, runner, { model: 'scratch', inputSize: 32, epochs: 2, batchSize: 8, backend: 'wasm', seed: 1 });
    await runner.wait(start.jobId);
    scratchId = start.runId;
    assert.equal(getRun(t.lib.db, scratchId).status, 'done', getRun(t.lib.db, scratchId).error ?? '');
  });
  after(async () => {
    await releaseSessions();
    t.cleanup();
  });

  test('export-model onnx: ONNX Runtime on raw pixels equals the tfjs checkpoint within 1e-4; the card says how', async () => {
    const files = faces.slice(0, 12).map((f) => f.path);
    // the checkpoint itself: the run's default TTA (flip-crops) is not in this graph, the card names its views
    const tfjs = await predictRun(t.lib, scratchId, files, { engine: 'tfjs', tta: 'none' });
    assert.equal(tfjs.engine, 'tfjs');
    const out = join(t.dir, 'export-onnx');
    // the card names the classes as the library shows them, beside the names the run trained on
    const positive = listClasses(t.lib.db)[1]?.name ?? '';
    renameClass(t.lib.db, positive, 'wearing a mask');
    const result = await exportRunModel(t.lib, scratchId, 'onnx', out);
    const card = JSON.parse(readFileSync(join(out, 'model-card.json'), 'utf8')) as ModelCard;
    assert.deepEqual(card, result.card);
    assert.equal(card.architecture, 'scratch');
    assert.equal(card.classes[1], positive);
    assert.equal(card.classDisplayNames[1], 'wearing a mask');
    assert.equal(card.output, `[batch, 1] float32: probability of class '${positive}' (wearing a mask)`);
    assert.equal(card.inputSize, 32);
    assert.equal(card.threshold, 0.5);
    assert.ok(typeof card.opset === 'number' && card.opset >= 13, `opset ${card.opset}`);
    assert.deepEqual(card.preprocessing, { mode: 'unit', inGraph: true });
    assert.equal(card.tta.mode, 'flip-crops');
    assert.equal(card.tta.inGraph, false);
    const run = getRun(t.lib.db, scratchId);
    assert.equal(card.metrics.valAuc, run.best?.valAuc ?? null);
    assert.equal(card.metrics.valLogLoss, run.best?.valLogLoss ?? null);
    assert.equal(card.dataHash, run.dataHash);
    assert.equal(card.weightsSource, 'none');
    // the exported file on its own: raw RGB 0..255 in, probability out
    const pixels = await Promise.all(files.map((f) => decodeRgb(f, 32, 'fill')));
    const ort = await predictOnnx(join(out, 'model.onnx'), pixels, 32);
    close(ort.probabilities, tfjs.predictions.map((p) => p.probability ?? Number.NaN), 'exported onnx vs tfjs');
    // a model that ignored its input would pass the comparison above: the probabilities must differ
    assert.ok(new Set(tfjs.predictions.map((p) => p.probability?.toFixed(6))).size > 1, 'all probabilities equal');
  });

  test('predict --engine onnx equals --engine tfjs; the ONNX file is cached in models/<run-id>/ and reused', async () => {
    const files = faces.slice(20, 30).map((f) => f.path);
    const onnx = await predictRun(t.lib, scratchId, files, { engine: 'onnx' });
    assert.equal(onnx.engine, 'onnx');
    assert.equal(onnx.provider, 'cpu');
    const cached = join(t.lib.modelsDir, scratchId, 'model.onnx');
    assert.ok(existsSync(cached));
    const mtime = statSync(cached).mtimeMs;
    const tfjs = await predictRun(t.lib, scratchId, files, { engine: 'tfjs' });
    close(onnx.predictions.map((p) => p.probability ?? Number.NaN), tfjs.predictions.map((p) => p.probability ?? Number.NaN), 'predict onnx vs tfjs');
    assert.deepEqual(onnx.predictions.map((p) => p.label), tfjs.predictions.map((p) => p.label));
    const auto = await predictRun(t.lib, scratchId, files);
    assert.equal(auto.engine, 'onnx');
    assert.equal(auto.fallback, null);
    assert.equal(statSync(cached).mtimeMs, mtime, 'the cached ONNX file was exported again');
  });

  test('export-model tfjs copies the checkpoint files with a card', async () => {
    const out = join(t.dir, 'export-tfjs');
    const result = await exportRunModel(t.lib, scratchId, 'tfjs', out);
    assert.deepEqual(result.files, ['model.json', 'weights.bin', 'model-card.json']);
    for (const f of result.files) assert.ok(existsSync(join(out, f)), f);
    assert.equal(result.card.opset, null);
    assert.deepEqual(result.card.preprocessing, { mode: 'unit', inGraph: false });
  });

  test('a transfer run with engine onnx (random ResNet50 base, 32 px) records engine onnx and provider cpu', async () => {
    const runner = new JobRunner(t.lib.db, () => {});
    const start = startTraining(t.lib, runner, {
      model: 'resnet50', weights: 'none', inputSize: 32, epochs: 2, engine: 'onnx', backend: 'wasm', seed: 2,
    });
    await runner.wait(start.jobId);
    const run = getRun(t.lib.db, start.runId);
    assert.equal(run.status, 'done', run.error ?? '');
    assert.equal(run.engine, 'onnx');
    assert.equal(run.config['engine'], 'onnx');
    assert.equal(run.config['engineProvider'], 'cpu');
    assert.equal(run.config['engineFallback'], null);
  });

  test('CLI: export-model --format onnx writes model.onnx and the card; bad flags are refused', async () => {
    const out = join(t.dir, 'export-cli');
    const ok = await runCli(['export-model', '--library', join(t.dir, 'lib'), '--run', scratchId, '--format', 'onnx', '--out', out, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const printed = parseJson<{ files: string[] }>(ok.stdout);
    assert.deepEqual(printed.files, ['model.onnx', 'model-card.json']);
    assert.ok(existsSync(join(out, 'model.onnx')));
    const bad = await runCli(['export-model', '--library', join(t.dir, 'lib'), '--run', scratchId, '--format', 'pb', '--out', out]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--format pb: expected onnx or tfjs/);
    const badEngine = await runCli(['train', '--library', join(t.dir, 'lib'), '--model', 'scratch', '--engine', 'gpu']);
    assert.notEqual(badEngine.code, 0);
    assert.match(badEngine.stderr, /--engine gpu: expected auto, onnx or tfjs/);
  });

  test("predict: 'auto' falls back to tfjs with the reason when ONNX cannot run, 'onnx' fails", async () => {
    // the cached ONNX path is taken by a non-empty folder: the export cannot be written
    const cached = join(t.lib.modelsDir, scratchId, 'model.onnx');
    rmSync(cached, { force: true });
    rmSync(join(t.lib.modelsDir, scratchId, 'model.onnx.json'), { force: true });
    mkdirSync(join(cached, 'blocker'), { recursive: true });
    const files = faces.slice(0, 4).map((f) => f.path);
    const auto = await predictRun(t.lib, scratchId, files);
    assert.equal(auto.engine, 'tfjs');
    assert.match(auto.fallback ?? '', /^ONNX Runtime unavailable: /);
    const tfjs = await predictRun(t.lib, scratchId, files, { engine: 'tfjs' });
    assert.deepEqual(auto.predictions, tfjs.predictions);
    await assert.rejects(predictRun(t.lib, scratchId, files, { engine: 'onnx' }));
  });
});
