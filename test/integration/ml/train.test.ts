/**
 * The training engine end to end on wasm: the scratch CNN learns the synthetic mask/no-mask set (imported
 * and split as a person would) in a worker thread, every row lands in SQLite, the checkpoint predicts and writes a submission; cancel
 * stops a run and keeps its epochs; a fit leaks no tensors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { batchTensor, DEFAULT_AUGMENT } from '../../../electron/core/ml/augment';
import { loadPixels } from '../../../electron/core/ml/pixels';
import { buildClassifier } from '../../../electron/core/ml/models';
import { predictFiles } from '../../../electron/core/ml/inference/predict';
import { writeSubmission } from '../../../electron/core/ml/inference/submission';
import { Rng } from '../../../electron/core/random';
import { getRun, listRuns, runEpochs, runPredictions } from '../../../electron/core/ml/runs/store';
import { nativeBackendInstalled } from '../../../electron/core/ml/backend/backend';
import { deleteRun, startTraining } from '../../../electron/core/ml/train/start';
import { fit } from '../../../electron/core/ml/train/loop';
import type { RunMessage } from '../../../electron/core/ml/train/run';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { generateDataset, type DatasetManifest } from '../../fixtures/synthetic';
import { insertImages, tempLibrary, useWasm, type TempLibrary } from './train-helpers';

describe('training engine (wasm)', () => {
  let t: TempLibrary;
  let data: DatasetManifest;

  before(async () => {
    t = tempLibrary();
    data = await generateDataset(join(t.dir, 'data'), { seed: 5, n: 400, testN: 12 });
    await importDataset(t.lib.db, { dir: data.imagesDir, labels: data.labelsCsv, testDir: data.testDir, sampleSubmission: data.sampleSubmission });
    splitLibrary(t.lib.db, { seed: 1, val: 0.25, test: 0.15 });
  });

  after(() => t.cleanup());

  test('the scratch CNN learns the synthetic set at 64 px: val AUC ≥ 0.90, every row in SQLite', async () => {
    const messages: RunMessage[] = [];
    const runner = new JobRunner(t.lib.db, () => {});
    const started = performance.now();
    // Adam and no augmentation: the quickest way from random weights to a sure answer on ~240 images
    const start = startTraining(t.lib, runner, { model: 'scratch', inputSize: 64, epochs: 12, batchSize: 8, optimizer: 'adam', lr: 0.001, augment: false, backend: 'wasm', seed: 3 }, {
      onMessage: (m) => messages.push(m),
    });
    assert.equal(getRun(t.lib.db, start.runId).status, 'running');
    await runner.wait(start.jobId);
    const seconds = (performance.now() - started) / 1000;
    const run = getRun(t.lib.db, start.runId);
    assert.equal(run.status, 'done', run.error ?? '');
    assert.equal(run.backend, 'wasm');
    assert.ok(run.best, 'a best epoch');
    assert.equal(run.throughputBasis, 'pixels');
    const epochs = runEpochs(t.lib.db, run.id);
    console.log(
      `scratch 64 px synthetic: ${epochs.map((e) => `e${e.epoch} loss ${e.loss.toFixed(3)} valAUC ${e.valAuc?.toFixed(3)}`).join(', ')}; ` +
        `best ${run.best.valAuc} at ${run.best.epoch}; ${run.imagesPerSecond?.toFixed(1)} img/s; ${seconds.toFixed(1)} s`,
    );
    // Margin, not one lucky trajectory: this configuration's best val AUC over training seeds 1–9 (one
    // process each) was 0.971–1.000 (seed 3, this one: 1.000); many still climbed at epoch 12. Chance is 0.5.
    assert.ok((run.best.valAuc ?? 0) >= 0.9, `val AUC ${run.best.valAuc}`);
    const count = (split: string): number =>
      (t.lib.db.prepare("SELECT COUNT(*) AS n FROM images WHERE split = ? AND excluded = 0 AND decode_status = 'ok'").get(split) as { n: number }).n;
    assert.equal(run.trainImages, count('train'));
    assert.equal(run.valImages, count('val'));
    assert.ok(run.params !== null && run.params > 0);
    assert.match(run.dataHash, /^[0-9a-f]{64}$/);

    // every epoch the worker reported is a row; the best one is the one with the highest val AUC
    assert.equal(epochs.length, messages.filter((m) => m.type === 'epoch').length);
    assert.ok(epochs.length >= 1 && epochs.length <= 12);
    const top = Math.max(...epochs.map((e) => e.valAuc ?? -1));
    // (the run's recorded score is its stored predictions', test-time augmented by default: train-tta.test.ts)
    assert.equal(run.best.epoch, epochs.find((e) => e.valAuc === top)?.epoch);
    // progress: phases decode → train → predict, throttled
    const phases = [...new Set(messages.filter((m) => m.type === 'progress').map((m) => (m.type === 'progress' ? m.phase : '')))];
    assert.deepEqual(phases, ['decode', 'train', 'predict']);

    // predictions: one per val, test and submission row, probabilities of the best checkpoint
    const preds = runPredictions(t.lib.db, run.id);
    const bySplit = (s: string): number => preds.filter((p) => p.split === s).length;
    assert.deepEqual([bySplit('val'), bySplit('test'), bySplit('submission'), bySplit('train')], [count('val'), count('test'), 12, 0]);
    assert.ok(preds.every((p) => p.probability >= 0 && p.probability <= 1));

    // the checkpoint reproduces the stored predictions on the same files
    assert.ok(existsSync(join(t.lib.modelsDir, run.id, 'model.json')));
    const valRows = preds.filter((p) => p.split === 'val').slice(0, 5);
    const paths = valRows.map((p) => data.paths[p.fileName] ?? '');
    const again = await predictFiles(t.lib, run.id, paths);
    again.forEach((a, i) => assert.ok(Math.abs((a.probability ?? Number.NaN) - (valRows[i]?.probability ?? -1)) < 1e-4, `${a.file}: ${a.probability}`));

    // the submission follows the sample's order
    const out = join(t.dir, 'submission.csv');
    const sub = await writeSubmission(t.lib, run.id.slice(0, 20), out);
    assert.equal(sub.rows, 12);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'image,target');
    const sample = readFileSync(data.sampleSubmission, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), sample);
    const stored = new Map(preds.filter((p) => p.split === 'submission').map((p) => [p.fileName, p.probability]));
    for (const l of lines.slice(1)) {
      const [name = '', p = ''] = l.split(',');
      assert.equal(Number(p), stored.get(name));
    }
  });

  // TensorFlow.js's dropout (seeded around its step, engine.ts); ONNX Runtime's is train-onnx.test.ts's
  test('the same seed trains the same model on TensorFlow.js (dropout and augmentation included); another seed does not', async () => {
    const runner = new JobRunner(t.lib.db, () => {});
    const probabilities = async (seed: number): Promise<number[]> => {
      const start = startTraining(t.lib, runner, { model: 'scratch', inputSize: 32, epochs: 2, batchSize: 16, augment: true, backend: 'wasm', engine: 'tfjs', seed });
      await runner.wait(start.jobId);
      const run = getRun(t.lib.db, start.runId);
      assert.equal(run.status, 'done', run.error ?? '');
      assert.ok(Number(run.config['headDropout']) > 0, 'the model has dropout to repeat');
      const probs = runPredictions(t.lib.db, run.id).map((p) => p.probability);
      await deleteRun(t.lib, run.id);
      return probs;
    };
    const a = await probabilities(11);
    const b = await probabilities(11);
    const c = await probabilities(12);
    assert.ok(a.length > 0);
    assert.deepEqual(b, a);
    assert.notDeepEqual(c, a);
  });

  test('cancel stops the run within a batch: status cancelled, the epochs and the best checkpoint with its scores kept; error findings warn', async () => {
    // an unresolved error finding and a dismissed one: training warns about the first and goes on
    const audit = t.lib.db.prepare("INSERT INTO audits (created_at, seconds, images) VALUES ('now', 0, 0)").run().lastInsertRowid;
    const finding = t.lib.db.prepare("INSERT INTO findings (audit_id, key, kind, severity, message, detail) VALUES (?, ?, 'label-conflict', 'error', ?, '{}')");
    finding.run(audit, 'k-open', 'two copies of face_0001.jpg disagree');
    finding.run(audit, 'k-dismissed', 'dismissed conflict');
    t.lib.db.prepare("INSERT INTO finding_decisions (key, status, decided_at) VALUES ('k-dismissed', 'dismissed', 'now')").run();
    const runner = new JobRunner(t.lib.db, () => {});
    let jobId = '';
    let cancelledAt = -1;
    const start = startTraining(t.lib, runner, { model: 'scratch', inputSize: 32, epochs: 50, batchSize: 8, backend: 'wasm', patience: 50 }, {
      onMessage: (m) => {
        if (m.type === 'epoch' && cancelledAt < 0) {
          cancelledAt = m.row.epoch;
          runner.cancel(jobId);
        }
      },
    });
    jobId = start.jobId;
    assert.deepEqual(start.warnings, ['label-conflict: two copies of face_0001.jpg disagree']);
    await runner.wait(jobId);
    const run = getRun(t.lib.db, start.runId);
    assert.equal(run.status, 'cancelled');
    const epochs = runEpochs(t.lib.db, run.id);
    // the epoch that triggered the cancel is kept; the one in flight stops within a batch and is not recorded
    assert.ok(epochs.length >= 1 && epochs.length <= cancelledAt + 1, `${epochs.length} epochs after cancelling at ${cancelledAt}`);
    // what the run saved is kept: its best checkpoint's epoch and that checkpoint's validation scores
    assert.ok(run.best && run.best.epoch !== null && run.best.epoch <= epochs.length, 'the best checkpoint is recorded');
    const scores = runPredictions(t.lib.db, run.id);
    assert.ok(scores.length > 0 && scores.every((p) => p.split === 'val'), `${scores.length} checkpoint scores, validation only`);
    const job = t.lib.db.prepare('SELECT status FROM jobs WHERE id = ?').get(jobId) as { status: string };
    assert.equal(job.status, 'cancelled');
    await deleteRun(t.lib, run.id);
    assert.ok(!listRuns(t.lib.db).some((r) => r.id === run.id));
    assert.equal(runEpochs(t.lib.db, run.id).length, 0);
  });

  test('an unsplit library, or a split with no validation image, is refused with what to do', () => {
    const four = Object.entries(data.labels).slice(0, 4);
    for (const [split, refusal] of [
      // every image in test: neither train nor validation, as an unsplit library
      ['test', /the library is not split: split it first \(Split in the studio's Insights, 'mask-studio split' on the command line\)$/],
      // it is split, so "not split" was wrong: the split left no validation image
      ['train', /the split leaves 4 train and 0 validation images, and training needs both: split again with a larger share .*'mask-studio split'/],
    ] as const) {
      const u = tempLibrary();
      try {
        insertImages(u.lib, t.dir, four.map(([name, label]) => ({ path: data.paths[name] ?? '', label: String(label) as '0' | '1', split })));
        assert.throws(() => startTraining(u.lib, new JobRunner(u.lib.db, () => {}), { model: 'scratch' }), refusal);
      } finally {
        u.cleanup();
      }
    }
  });

  test('the native backend asked for by name where it is not installed is refused before a run exists', { skip: nativeBackendInstalled() ? 'tfjs-node is installed here' : false }, () => {
    const before = listRuns(t.lib.db).length;
    assert.throws(
      () => startTraining(t.lib, new JobRunner(t.lib.db, () => {}), { model: 'scratch', backend: 'tensorflow' }),
      (err: Error & { code?: string }) => err.code === 'BAD_INPUT' && /TensorFlow \(native\) backend is not installed here/.test(err.message),
    );
    assert.equal(listRuns(t.lib.db).length, before);
  });

  test('tf.memory().numTensors is the same before and after a fit', async () => {
    await useWasm();
    const named = Object.entries(data.labels).slice(0, 40);
    const items = named.map(([name]) => ({ sha256: name, path: data.paths[name] ?? '' }));
    const pixels = await loadPixels(join(t.dir, 'cache-mem'), items, 32, 'fill');
    const labels = named.map(([, label]) => label);
    const model = buildClassifier('scratch', { inputSize: 32 });
    const rng = new Rng(1);
    const before = tf.memory().numTensors;
    const result = await fit(
      model,
      {
        trainLabels: labels.slice(0, 30),
        trainBatch: (idx) => batchTensor(pixels.slice(0, 30), idx, 32, 'unit', { rng, opts: DEFAULT_AUGMENT }),
        valLabels: labels.slice(30),
        valBatch: (idx) => batchTensor(pixels.slice(30), idx, 32, 'unit'),
      },
      { epochs: 2, batchSize: 8, lr: 0.01, schedule: 'cosine', optimizer: 'adam', momentum: 0.9, patience: 5, classWeights: [1, 2], rng, stage: 1, firstEpoch: 1, training: true, phase: 'train' },
      { cancelled: () => false, progress: () => {}, epoch: () => {} },
    );
    assert.equal(result.epochs.length, 2);
    // cosine over two epochs: lr, then lr · ½(1 + cos(π/2))
    assert.deepEqual(result.epochs.map((e) => e.lr), [0.01, 0.005]);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});
