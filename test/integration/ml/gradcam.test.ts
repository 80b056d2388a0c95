/**
 * Grad-CAM on wasm: a tiny scratch CNN trained on images whose class is a red patch in the top-left
 * quadrant (a blue distractor patch sits bottom-right in every image) puts most of its map on the red
 * patch; the same run explained through the library (explainFiles, runs.explain, the CLI) gives a PNG of
 * the photo's size; a random-weight ResNet50 classifier is explained at its last block.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { dispatch } from '../../../electron/core/api/dispatch';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { batchTensor } from '../../../electron/core/ml/augment';
import { decodeRgb } from '../../../electron/core/ml/pixels';
import { camMassIn, camModel, gradCam } from '../../../electron/core/ml/explain/gradcam';
import { overlayCam } from '../../../electron/core/ml/explain/overlay';
import { explainFiles } from '../../../electron/core/ml/explain/explain-files';
import { saveModel } from '../../../electron/core/ml/model-io';
import { buildClassifier } from '../../../electron/core/ml/models';
import { createRun, trainingSet } from '../../../electron/core/ml/runs/store';
import { CHECKPOINT_INFO, runDir, type CheckpointInfo } from '../../../electron/core/ml/runs/checkpoint';
import { seedInit } from '../../../electron/core/ml/train/run';
import { Rng } from '../../../electron/core/random';
import { parseJson, runCli } from '../../helpers';
import { insertImages, splitByPosition, tempLibrary, useWasm, type TempLibrary } from './train-helpers';

const SIDE = 40;
const INPUT = 32;
/** Where the red patch may sit: the top-left quadrant, as fractions of the side [x0, y0, x1, y1]. */
const RED_BOX = [0, 0, 0.5, 0.5] as const;

/** Grey noise; class 1 adds a red 10-px square in the top-left quadrant; all get a blue one bottom-right. */
async function makePatches(dir: string, count: number, seed: number): Promise<Array<{ path: string; label: '0' | '1' }>> {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const out: Array<{ path: string; label: '0' | '1' }> = [];
  for (let i = 0; i < count; i++) {
    const positive = i % 2 === 1;
    const px = Buffer.alloc(SIDE * SIDE * 3);
    for (let p = 0; p < SIDE * SIDE; p++) {
      const g = Math.floor(rng.range(60, 180));
      px[p * 3] = g;
      px[p * 3 + 1] = g;
      px[p * 3 + 2] = g;
    }
    const square = (x0: number, y0: number, rgb: readonly [number, number, number]): void => {
      for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 10; x++) rgb.forEach((v, c) => (px[(y * SIDE + x) * 3 + c] = v));
    };
    square(Math.floor(rng.range(22, 29)), Math.floor(rng.range(22, 29)), [40, 60, 230]);
    if (positive) square(Math.floor(rng.range(1, 9)), Math.floor(rng.range(1, 9)), [230, 40, 40]);
    const path = join(dir, `patch_${String(i).padStart(3, '0')}.png`);
    await sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toFile(path);
    out.push({ path, label: positive ? '1' : '0' });
  }
  return out;
}

describe('Grad-CAM (wasm)', () => {
  let t: TempLibrary;
  let images: Array<{ path: string; label: '0' | '1' }>;
  let model: tf.LayersModel;
  let runId: string;
  let imageIds: number[];

  before(async () => {
    await useWasm();
    t = tempLibrary('ms-gradcam-');
    images = await makePatches(join(t.dir, 'data'), 80, 11);
    imageIds = insertImages(t.lib, join(t.dir, 'data'), images.map((im, i) => ({ ...im, split: splitByPosition(i) })));
    const started = performance.now();
    model = buildClassifier('scratch', { inputSize: INPUT, scratch: { filters: [8, 16], head: 'gap', denseUnits: 16, dropout: 0 } });
    // every initialisation seed 1–8 tried (one process each) reached training accuracy 1 and put ≥ 0.87 of
    // every map in the red patch's quadrant (mean ≥ 0.97): the thresholds below have margin
    seedInit(model, new Rng(3));
    const pixels = await Promise.all(images.map((im) => decodeRgb(im.path, INPUT, 'fill')));
    const all = pixels.map((_, i) => i);
    const xs = batchTensor(pixels, all, INPUT, 'unit');
    const ys = tf.tensor2d(images.map((im) => (im.label === '1' ? 1 : 0)), [images.length, 1]);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const h = await model.fit(xs, ys, { epochs: 25, batchSize: 16, shuffle: false, verbose: 0 });
    xs.dispose();
    ys.dispose();
    const acc = h.history['acc']?.at(-1) ?? h.history['accuracy']?.at(-1);
    console.log(`trained the patch CNN: accuracy ${String(acc)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.ok(Number(acc) >= 0.95, `the tiny CNN should learn the red patch (accuracy ${String(acc)})`);

    // a run row and its checkpoint, as a finished training leaves them
    runId = 'gradcam-test-run';
    createRun(t.lib.db, { id: runId, model: 'scratch', config: {}, backend: 'wasm', jobId: null, set: trainingSet(t.lib.db), weightsSource: 'none', inputSize: INPUT });
    const dir = runDir(t.lib, runId);
    await saveModel(model, dir);
    const info: CheckpointInfo = { runId, model: 'scratch', inputSize: INPUT, resize: 'fill', preprocessing: 'unit', classes: ['0', '1'] };
    writeFileSync(join(dir, CHECKPOINT_INFO), JSON.stringify(info));
  });

  after(() => {
    model.dispose();
    t.cleanup();
  });

  test('the map sits on the red patch, not on the blue distractor', async () => {
    const cm = camModel(model);
    assert.equal(cm.layer.name, 'block2_pool');
    const shares: number[] = [];
    const before = tf.memory().numTensors;
    for (const im of images.filter((x) => x.label === '1').slice(0, 12)) {
      const input = batchTensor([await decodeRgb(im.path, INPUT, 'fill')], [0], INPUT, 'unit');
      const r = await gradCam(cm, input);
      input.dispose();
      assert.ok(r.probability > 0.5, `${im.path}: p = ${r.probability}`);
      shares.push(camMassIn(r, RED_BOX));
    }
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
    console.log(`CAM mass in the red patch's quadrant (a quarter of the image): mean ${mean.toFixed(3)}, min ${Math.min(...shares).toFixed(3)}`);
    assert.ok(mean > 0.6, `mean share ${mean}`);
    assert.ok(shares.filter((s) => s > 0.25).length >= shares.length - 1, `shares ${shares.map((s) => s.toFixed(2)).join(', ')}`);
  });

  test('explainFiles and runs.explain: a PNG of the photo’s size, predict’s probability', async () => {
    const file = images[1]?.path ?? '';
    const [r] = await explainFiles(t.lib, runId, [file]);
    assert.ok(r);
    assert.equal(r.layer, 'block2_pool');
    const meta = await sharp(r.png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', SIDE, SIDE]);
    const [p] = (model.predict(batchTensor([await decodeRgb(file, INPUT, 'fill')], [0], INPUT, 'unit')) as tf.Tensor).dataSync();
    assert.ok(Math.abs(r.probability - (p ?? Number.NaN)) < 1e-4, `explain ${r.probability} vs predict ${String(p)}`);
    // the map of a photo the run trained on says so; of one it did not, nothing
    const trainedOn = images.findIndex((_, i) => splitByPosition(i) === 'train');
    const heldOut = images.findIndex((_, i) => splitByPosition(i) !== 'train');
    const [a, b] = await explainFiles(t.lib, runId, [images[trainedOn]?.path ?? '', images[heldOut]?.path ?? '']);
    assert.deepEqual([a?.through, b?.through], ['its checkpoint, which trained on this image', null]);

    const ctx = { lib: t.lib, jobs: new JobRunner(t.lib.db, () => {}), emit: () => {} };
    const out = (await dispatch(ctx, 'runs.explain', { id: runId, imageId: imageIds[1] })) as { dataUrl: string; probability: number; layer: string };
    assert.match(out.dataUrl, /^data:image\/png;base64,/);
    assert.equal(out.layer, 'block2_pool');
    assert.ok(Math.abs(out.probability - r.probability) < 1e-6);
    const decoded = await sharp(Buffer.from(out.dataUrl.split(',')[1] ?? '', 'base64')).metadata();
    assert.deepEqual([decoded.width, decoded.height], [SIDE, SIDE]);
    await assert.rejects(dispatch(ctx, 'runs.explain', { id: runId, imageId: 99999 }), /no image with id 99999/);
    // an ensemble has no weights to explain: refused with what to do instead
    createRun(t.lib.db, { id: 'gradcam-test-ensemble', model: 'ensemble', config: { members: [runId] }, backend: 'none', jobId: null, set: trainingSet(t.lib.db), weightsSource: 'none', inputSize: 0 });
    await assert.rejects(explainFiles(t.lib, 'gradcam-test-ensemble', [file]), /is an ensemble .*use one of its member runs/);
  });

  test('CLI: predict --run ID FILE --explain OUT.png; several files take a folder', async () => {
    const out = join(t.dir, 'cam.png');
    const files = [images[1]?.path ?? '', images[3]?.path ?? ''];
    const one = await runCli(['predict', '--library', join(t.dir, 'lib'), '--run', runId, files[0] ?? '', '--explain', out, '--backend', 'wasm']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /Grad-CAM at layer block2_pool/);
    assert.equal((await sharp(readFileSync(out)).metadata()).width, SIDE);
    const refused = await runCli(['predict', '--library', join(t.dir, 'lib'), '--run', runId, ...files, '--explain', out, '--backend', 'wasm']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /takes a folder/);
    const dir = join(t.dir, 'cams');
    const many = await runCli(['--json', 'predict', '--library', join(t.dir, 'lib'), '--run', runId, ...files, '--explain', dir, '--backend', 'wasm']);
    assert.equal(many.code, 0, many.stderr);
    const rows = parseJson<Array<{ explanation: string; layer: string }>>(many.stdout);
    assert.deepEqual(rows.map((r) => r.explanation), [join(dir, 'patch_001-gradcam.png'), join(dir, 'patch_003-gradcam.png')]);
    for (const r of rows) assert.equal((await sharp(readFileSync(r.explanation)).metadata()).height, SIDE);
  });

  test('a transfer classifier (ResNet50, random weights, 64 px) is explained at conv5_block3_out', async () => {
    const started = performance.now();
    const resnet = buildClassifier('resnet50', { inputSize: 64 });
    try {
      const cm = camModel(resnet);
      assert.equal(cm.layer.name, 'conv5_block3_out');
      // a wide photo, letterboxed as a run with --resize letterbox would see it
      const photo = join(t.dir, 'wide.jpg');
      await sharp({ create: { width: 90, height: 60, channels: 3, background: { r: 200, g: 120, b: 90 } } }).jpeg().toFile(photo);
      const input = batchTensor([await decodeRgb(photo, 64, 'letterbox')], [0], 64, 'caffe');
      const r = await gradCam(cm, input);
      input.dispose();
      assert.deepEqual([r.height, r.width], [2, 2]);
      assert.ok(r.probability > 0 && r.probability < 1);
      const overlay = await overlayCam(photo, r, { inputSize: 64, resize: 'letterbox' });
      const meta = await sharp(overlay.png).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 90, 60]);
    } finally {
      resnet.dispose();
    }
    console.log(`resnet50 classifier explained in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
});
