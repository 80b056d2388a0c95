/**
 * The scratch CNN on ONNX Runtime's training engine, end to end: it learns the synthetic set as well as
 * TensorFlow.js does on the same split and seed (validation AUC within 0.02), the run records its engine and
 * provider, its checkpoint is the usual tfjs one (predict reproduces the stored probabilities), the same seed
 * gives the same run in two separate processes, and the engine choice names what it cannot train.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { comparisonText } from '../../../electron/cli/commands/compare';
import { compareRuns } from '../../../electron/core/compare/compare';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { openLibrary } from '../../../electron/core/library';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import { createTrainEngine } from '../../../electron/core/ml/train/engine';
import { predictFiles } from '../../../electron/core/ml/inference/predict';
import { getRun, listRuns, runPredictions } from '../../../electron/core/ml/runs/store';
import { startTraining } from '../../../electron/core/ml/train/start';
import type { TrainInput } from '../../../shared/contract';
import { generateDataset, type DatasetManifest } from '../../fixtures/synthetic';
import { tempLibrary, type TempLibrary } from './train-helpers';

const ROOT = new URL('../../../', import.meta.url).pathname;

describe('training on ONNX Runtime (scratch CNN)', () => {
  let t: TempLibrary;
  let data: DatasetManifest;

  before(async () => {
    t = tempLibrary('ms-train-onnx-');
    data = await generateDataset(join(t.dir, 'data'), { seed: 8, n: 400, testN: 6 });
    await importDataset(t.lib.db, { dir: data.imagesDir, labels: data.labelsCsv, testDir: data.testDir, sampleSubmission: data.sampleSubmission });
    splitLibrary(t.lib.db, { seed: 2, val: 0.25, test: 0.1 });
  });

  after(() => t.cleanup());

  const train = async (input: TrainInput): Promise<ReturnType<typeof getRun>> => {
    const runner = new JobRunner(t.lib.db, () => {});
    const start = startTraining(t.lib, runner, input);
    await runner.wait(start.jobId);
    const run = getRun(t.lib.db, start.runId);
    assert.equal(run.status, 'done', run.error ?? '');
    return run;
  };

  test('learning parity with TensorFlow.js on the same split and seed; engine and provider recorded; the checkpoint predicts like the run', async () => {
    // a set both engines learn to ~0.99 (smaller sets leave single runs ±0.05 apart on either engine, seed to seed)
    const input: TrainInput = { model: 'scratch', inputSize: 48, epochs: 12, batchSize: 8, optimizer: 'adam', lr: 0.001, augment: false, backend: 'wasm', seed: 5, patience: 12 };
    const onnx = await train({ ...input, engine: 'onnx' });
    const tfjs = await train({ ...input, engine: 'tfjs' });
    assert.equal(onnx.engine, 'onnx');
    assert.equal(onnx.config['engineProvider'], 'cpu');
    assert.equal(onnx.config['engineFallback'], null);
    assert.equal(tfjs.engine, 'tfjs');
    assert.equal(tfjs.config['engineProvider'], 'wasm');
    const a = onnx.best?.valAuc ?? -1;
    const b = tfjs.best?.valAuc ?? -1;
    console.log(`synthetic 48 px, 12 epochs: val AUC onnx ${a.toFixed(4)} (${onnx.imagesPerSecond?.toFixed(0)} img/s), tfjs ${b.toFixed(4)} (${tfjs.imagesPerSecond?.toFixed(0)} img/s)`);
    assert.ok(a >= 0.9, `ONNX Runtime learned: val AUC ${a}`);
    assert.ok(Math.abs(a - b) <= 0.02, `val AUC onnx ${a} vs tfjs ${b}`);
    // compare says what trained each run (it said the TensorFlow.js backend for both)
    const lines = comparisonText(compareRuns(t.lib.db, 'val')).split('\n');
    assert.match(lines[1] ?? '', /trained on/);
    assert.match(lines.find((l) => l.includes(onnx.id)) ?? '', /scratch\s+onnx\s/);
    assert.match(lines.find((l) => l.includes(tfjs.id)) ?? '', /scratch\s+wasm \[/);

    const stored = runPredictions(t.lib.db, onnx.id).filter((p) => p.split === 'val').slice(0, 6);
    const again = await predictFiles(t.lib, onnx.id, stored.map((p) => data.paths[p.fileName] ?? ''));
    again.forEach((r, i) => assert.ok(Math.abs((r.probability ?? Number.NaN) - (stored[i]?.probability ?? -1)) < 1e-4, `${r.file}: ${r.probability} vs ${stored[i]?.probability}`));
  });

  test('the same seed gives the same run in two processes', () => {
    const lib = join(t.dir, 'lib');
    const args = ['bin/mask-studio.mjs', '--library', lib, 'train', '--model', 'scratch', '--input-size', '32', '--epochs', '2', '--batch', '16', '--engine', 'onnx', '--backend', 'wasm', '--seed', '21'];
    // the library stays open here; the CLI writes through SQLite's WAL beside it
    for (let i = 0; i < 2; i++) {
      const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, r.stderr);
    }
    const check = openLibrary(lib, { create: false });
    try {
      const runs = listRuns(check.db).filter((r) => r.config['seed'] === 21);
      assert.equal(runs.length, 2);
      const [p, q] = runs.map((r) => runPredictions(check.db, r.id).map((x) => `${x.imageId}:${x.probability}`));
      assert.ok(p && p.length > 0);
      assert.deepEqual(q, p);
      assert.ok(runs.every((r) => r.engine === 'onnx'));
    } finally {
      check.close();
    }
  });

  test("'onnx' names the layer it cannot train; 'auto' falls back to TensorFlow.js and says why", async () => {
    const x = tf.input({ shape: [4, 4, 2] });
    const y = ap(tf.layers.dense({ units: 1, activation: 'sigmoid' }), ap(tf.layers.flatten({}), ap(tf.layers.upSampling2d({ size: [2, 2], name: 'odd_up' }), x)));
    const model = tf.model({ inputs: x, outputs: y });
    const opts = { optimizer: 'sgd', lr: 0.01, momentum: 0.9, training: true, seed: 1 } as const;
    await assert.rejects(createTrainEngine('onnx', model, opts), /cannot train layer "odd_up" \(UpSampling2D\)/);
    const auto = await createTrainEngine('auto', model, opts);
    assert.equal(auto.engine.info.engine, 'tfjs');
    assert.match(auto.fallback ?? '', /ONNX Runtime unavailable: .*"odd_up"/);
    await auto.engine.dispose();
    model.dispose();
  });
});
