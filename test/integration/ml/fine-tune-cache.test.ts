/**
 * Stage 2 on cached activations, on a seeded random-weight InceptionV3 at 75 px: ONNX Runtime's activations
 * at the cut fed through the TensorFlow.js top model give what the whole TensorFlow.js classifier gives;
 * weights trained in the top model and copied back make a checkpoint that predicts what the top predicted;
 * a run with --fine-tune-layers goes through the cache, records the cut, and its checkpoint reproduces the
 * stored predictions; with the TensorFlow.js engine, stage 2 falls back to training from pixels.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { loadPixels, packPixels, type ImageSource } from '../../../electron/core/ml/pixels';
import { activationCacheDir, prepareCachedFineTune, type CachedFineTuneInput } from '../../../electron/core/ml/train/fine-tune-cache';
import { loadModel, saveModel } from '../../../electron/core/ml/model-io';
import { buildClassifier, preprocess } from '../../../electron/core/ml/models';
import { onnxRuntimeStatus } from '../../../electron/core/ml/inference/engine';
import { randomizeWeights } from '../../../electron/core/ml/onnx/random-weights';
import { releaseSessions } from '../../../electron/core/ml/onnx/runtime';
import { predictFiles } from '../../../electron/core/ml/inference/predict';
import { getRun, runEpochs, runPredictions } from '../../../electron/core/ml/runs/store';
import { startTraining } from '../../../electron/core/ml/train/start';
import { fit } from '../../../electron/core/ml/train/loop';
import { unfreezeTop } from '../../../electron/core/ml/train/transfer';
import { Rng } from '../../../electron/core/random';
import { insertImages, makeFaces, splitByPosition, tempLibrary, useWasm, type TempLibrary } from './train-helpers';

const SIZE = 75;
const ort = await onnxRuntimeStatus();

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

function predictOne(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const y = model.predict(x);
    if (Array.isArray(y)) throw new Error('one output expected');
    return y.dataSync() as Float32Array;
  });
}

describe('fine-tuning on cached activations (InceptionV3, 75 px, random weights)', { skip: ort.loads ? false : `ONNX Runtime does not load: ${ort.loads ? '' : ort.error}` }, () => {
  let t: TempLibrary;
  let faces: Array<{ path: string; label: '0' | '1' }>;
  let sources: ImageSource[];

  before(async () => {
    await useWasm();
    t = tempLibrary('ms-ftcache-');
    faces = await makeFaces(join(t.dir, 'images'), 40, 33);
    insertImages(t.lib, join(t.dir, 'images'), faces.map((f, i) => ({ ...f, split: splitByPosition(i) })));
    sources = faces.slice(0, 10).map((f) => ({ sha256: basename(f.path).replace(/\W/g, '').padEnd(8, '0'), path: f.path }));
  });
  after(async () => {
    await releaseSessions();
    t.cleanup();
  });

  test('ORT activations at the cut through the tfjs top = the whole tfjs classifier; trained top weights copy back', async () => {
    const classifier = buildClassifier('inception_v3', { inputSize: SIZE });
    const pixels = await loadPixels(t.lib.cacheDir, sources, SIZE, 'fill');
    const x = tf.tidy(() => preprocess(tf.tensor4d(packPixels(pixels, SIZE), [pixels.length, SIZE, SIZE, 3]), 'tf'));
    try {
      // batch norms get the statistics of these images: activations stay in a range where errors show
      randomizeWeights(classifier, 11, x);
      // a head whose output is not saturated, so probabilities compare meaningfully
      const dense = classifier.getLayer('head_dense');
      const [k, b] = dense.getWeights();
      if (!k || !b) throw new Error('head_dense has no kernel');
      const small = tf.tidy(() => [tf.mul(k, 0.05), tf.zerosLike(b)]);
      dense.setWeights(small);
      tf.dispose(small);
      const open = unfreezeTop(classifier, 18); // mixed10's 9 convolutions and 9 batch norms
      const input: CachedFineTuneInput = {
        classifier,
        open,
        preprocessing: 'tf',
        resize: 'fill',
        cacheDir: t.lib.cacheDir,
        key: { architecture: 'inception_v3', weightsHash: 'ab'.repeat(32) },
        items: { train: sources.slice(0, 4), val: sources.slice(4, 8), test: sources.slice(8), submission: [] },
        flip: true,
        rng: new Rng(3),
      };
      const ft = await prepareCachedFineTune(input);
      assert.ok(ft, 'a cut below mixed10');
      try {
        assert.equal(ft.choice.cut, 'mixed9');
        assert.deepEqual(ft.choice.shape, [1, 1, 2048]);
        assert.equal(ft.choice.weightedAbove, 19); // mixed10's 18 and head_dense
        assert.match(ft.description, /'mixed9'.*horizontal flip/);

        // the activations themselves: ORT's (val rows: never mirrored) against a tfjs model from the input to the cut
        const cutModel = tf.model({ inputs: classifier.inputs, outputs: classifier.getLayer('mixed9').output as tf.SymbolicTensor });
        const tfjsActs = predictOne(cutModel, x);
        const scale = Math.max(1, ...Array.from(tfjsActs, Math.abs));
        const per = 2048;
        const valActs = tf.tidy(() => ft.valBatch([0, 1, 2, 3]).dataSync());
        assert.ok(maxAbsDiff(valActs, tfjsActs.subarray(4 * per, 8 * per)) <= 1e-4 * scale, `activations differ by ${maxAbsDiff(valActs, tfjsActs.subarray(4 * per, 8 * per))} (scale ${scale})`);

        const full = predictOne(classifier, x);
        assert.ok(full.some((p) => p > 0.05 && p < 0.95), `probabilities saturated: ${Array.from(full).join(', ')}`);
        const top = [...(await ft.predict('val', 4))];
        assert.ok(maxAbsDiff(top, full.subarray(4, 8)) <= 1e-4, `top ${top.join(', ')} vs full ${Array.from(full.subarray(4, 8)).join(', ')}`);

        // training as stage 2 does (the best epoch's weights restored at the end), then copied back
        const labels = faces.slice(0, 10).map((f) => Number(f.label));
        const rng = new Rng(5);
        const fitted = await fit(
          ft.top,
          { trainLabels: labels.slice(0, 4), trainBatch: ft.trainBatch, valLabels: labels.slice(4, 8), valBatch: ft.valBatch },
          { epochs: 3, batchSize: 2, lr: 0.05, schedule: 'constant', optimizer: 'sgd', momentum: 0.9, patience: 5, classWeights: [1, 1], rng, stage: 2, firstEpoch: 1, training: false, phase: 'fine-tune' },
          { cancelled: () => false, progress: () => {}, epoch: () => {} },
        );
        assert.equal(fitted.epochs.length, 3);
        const trainedTop = await ft.predict('val', 4);
        assert.ok(maxAbsDiff(trainedTop, top) > 1e-3, 'perturbing the top changed nothing');
        assert.equal(ft.copyBack(), 19);
        // as in a run: the top model is gone before the checkpoint is written
        ft.dispose();
        const dir = join(t.dir, 'checkpoint');
        await saveModel(classifier, dir);
        const loaded = await loadModel(dir);
        const again = predictOne(loaded, x);
        loaded.dispose();
        assert.ok(maxAbsDiff(again.subarray(4, 8), trainedTop) <= 1e-4, `checkpoint ${Array.from(again.subarray(4, 8)).join(', ')} vs top ${Array.from(trainedTop).join(', ')}`);
      } finally {
        ft.dispose();
      }

      // cached on disk: plain for every image, mirrored for the training ones; a second preparation reads them
      const dir = activationCacheDir(t.lib.cacheDir, { architecture: 'inception_v3', inputSize: SIZE, resize: 'fill', weightsHash: 'ab'.repeat(32), cut: 'mixed9' });
      const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.f32'));
      assert.equal(files.length, 10 + 4);
      assert.equal(files.filter((f) => f.endsWith('.flip.f32')).length, 4);
      const reports: Array<[number, number]> = [];
      const second = await prepareCachedFineTune({ ...input, onProgress: (d, n) => reports.push([d, n]) });
      second?.dispose();
      assert.deepEqual(reports[0], [14, 14]);
    } finally {
      x.dispose();
      classifier.dispose();
    }
  });

  test('a run with --fine-tune-layers trains stage 2 through the cache; the checkpoint reproduces the stored predictions', async () => {
    const runner = new JobRunner(t.lib.db, () => {});
    const start = startTraining(t.lib, runner, {
      model: 'inception_v3', weights: 'none', inputSize: SIZE, epochs: 3, fineTuneLayers: 18, fineTuneEpochs: 2, batchSize: 8, backend: 'wasm', augment: true,
    });
    await runner.wait(start.jobId);
    const run = getRun(t.lib.db, start.runId);
    assert.equal(run.status, 'done', run.error ?? '');
    assert.equal(run.engine, 'onnx');
    assert.match(String((run.config as Record<string, unknown>).fineTune), /^cached activations at 'mixed9' \[1x1x2048\].*horizontal flip/);
    const epochs = runEpochs(t.lib.db, run.id);
    assert.deepEqual([...new Set(epochs.map((e) => e.stage))], [1, 2]);
    assert.equal(epochs.filter((e) => e.stage === 2).length, 2);
    assert.ok(existsSync(join(t.lib.modelsDir, run.id, 'model.json')));
    const val = runPredictions(t.lib.db, run.id).filter((p) => p.split === 'val');
    assert.equal(val.length, 10);
    const paths = val.map((p) => faces.find((f) => basename(f.path) === p.fileName)?.path ?? '');
    const again = await predictFiles(t.lib, run.id, paths);
    again.forEach((a, i) => assert.ok(Math.abs((a.probability ?? Number.NaN) - (val[i]?.probability ?? -1)) < 1e-3, `${a.file}: ${a.probability} vs ${val[i]?.probability}`));
  });

  test('with the TensorFlow.js engine stage 2 still runs, from pixels (no cut recorded)', async () => {
    const runner = new JobRunner(t.lib.db, () => {});
    const start = startTraining(t.lib, runner, {
      model: 'inception_v3', weights: 'none', inputSize: SIZE, epochs: 2, fineTuneLayers: 18, fineTuneEpochs: 1, batchSize: 8, backend: 'wasm', engine: 'tfjs',
    });
    await runner.wait(start.jobId);
    const run = getRun(t.lib.db, start.runId);
    assert.equal(run.status, 'done', run.error ?? '');
    assert.equal(run.engine, 'tfjs');
    assert.equal((run.config as Record<string, unknown>).fineTune, undefined);
    assert.deepEqual(runEpochs(t.lib.db, run.id).map((e) => e.stage), [1, 1, 2]);
  });
});
