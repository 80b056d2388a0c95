/**
 * Test-time augmentation: the views are what they say (a mirror, a centred crop that commutes with the
 * mirror), and a real model's TTA probability of a horizontally symmetric image equals its plain one, while
 * an asymmetric image's is the mean of the image's and its mirror's.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../electron/core/ml/backend/backend';
import { batchTensor } from '../../../electron/core/ml/augment';
import { centreCrop, mirror, recordedTta, scoredTta, ttaMean, ttaViews, withTta, TTA_MODES } from '../../../electron/core/ml/inference/tta';
import { predictProbabilities } from '../../../electron/core/ml/inference/probabilities';
import { buildClassifier } from '../../../electron/core/ml/models/index';
import { seedInit } from '../../../electron/core/ml/train/run';
import { Rng } from '../../../electron/core/random';

const SIZE = 24;

/** Seeded noise; `symmetric` copies each left half-row onto the right, mirrored. */
function image(seed: number, symmetric: boolean): Uint8Array {
  const rng = new Rng(seed);
  const img = new Uint8Array(SIZE * SIZE * 3);
  for (let i = 0; i < img.length; i++) img[i] = Math.floor(rng.range(0, 256));
  if (symmetric) {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE / 2; x++) {
        for (let c = 0; c < 3; c++) img[(y * SIZE + (SIZE - 1 - x)) * 3 + c] = img[(y * SIZE + x) * 3 + c] as number;
      }
    }
  }
  return img;
}

let model: tf.LayersModel;
/** The scratch CNN with seeded random weights: p(second class) per image. */
const probs = (images: readonly Uint8Array[]): Promise<Float32Array> =>
  predictProbabilities(model, images.length, (idx) => batchTensor(images, idx, SIZE, 'unit'), 8);

before(async () => {
  await initBackend('wasm');
  model = buildClassifier('scratch', { inputSize: SIZE });
  seedInit(model, new Rng(7));
});

describe('TTA views', () => {
  test('the mirror reverses columns and is its own inverse', () => {
    const img = image(1, false);
    const m = mirror(img, SIZE);
    assert.deepEqual(Array.from(m.subarray(0, 3)), Array.from(img.subarray((SIZE - 1) * 3, SIZE * 3)));
    assert.deepEqual(mirror(m, SIZE), img);
    assert.notDeepEqual(m, img);
  });

  test('the centre crop is deterministic, changes the image, and commutes with the mirror', () => {
    const img = image(2, false);
    const crop = centreCrop(img, SIZE);
    assert.deepEqual(centreCrop(img, SIZE), crop);
    assert.notDeepEqual(crop, img);
    assert.deepEqual(centreCrop(mirror(img, SIZE), SIZE), mirror(crop, SIZE));
    const odd = new Uint8Array(23 * 23 * 3).map((_, i) => (i * 37) % 251);
    assert.deepEqual(centreCrop(mirror(odd, 23), 23), mirror(centreCrop(odd, 23), 23));
    // a flat image stays flat
    assert.ok(centreCrop(new Uint8Array(SIZE * SIZE * 3).fill(77), SIZE).every((v) => v === 77));
  });

  test('each mode has its views, the image first; a run without a recorded mode has none', () => {
    assert.deepEqual(TTA_MODES.map((m) => ttaViews(m).length), [1, 2, 4]);
    assert.ok(TTA_MODES.every((m) => ttaViews(m)[0]?.name === ''));
    assert.equal(recordedTta({}), 'none');
    assert.equal(recordedTta({ tta: 'flip' }), 'flip');
    assert.equal(recordedTta({ tta: 'sideways' }), 'none');
  });

  test('ttaMean averages the views and refuses views of different lengths', async () => {
    const mean = await ttaMean('flip-crops', async (v) => Float32Array.of(v.name.length, 1));
    const names = ttaViews('flip-crops').map((v) => v.name.length);
    assert.ok(Math.abs((mean[0] ?? 0) - names.reduce((a, b) => a + b, 0) / 4) < 1e-6);
    assert.equal(mean[1], 1);
    await assert.rejects(ttaMean('flip', async (v) => new Float32Array(v.name === '' ? 2 : 3)), /expected 2/);
  });
});

describe('TTA on a real model (scratch CNN, seeded weights, wasm)', () => {
  test('a horizontally symmetric image: flip and flip-crops give the probability of none', async () => {
    const imgs = [image(3, true), image(4, true)];
    assert.deepEqual(mirror(imgs[0] as Uint8Array, SIZE), imgs[0]);
    const none = await withTta('none', SIZE, probs)(imgs);
    const flip = await withTta('flip', SIZE, probs)(imgs);
    for (let i = 0; i < imgs.length; i++) assert.ok(Math.abs((flip[i] ?? 0) - (none[i] ?? 1)) < 1e-6, `image ${i}: flip ${flip[i]} vs none ${none[i]}`);
    // the crops differ from the image, but a symmetric image's crop is symmetric too: its mirror adds nothing
    const crops = await withTta('flip-crops', SIZE, probs)(imgs);
    const crop = await probs(imgs.map((img) => centreCrop(img, SIZE)));
    for (let i = 0; i < imgs.length; i++) assert.ok(Math.abs((crops[i] ?? 0) - ((none[i] ?? 0) + (crop[i] ?? 0)) / 2) < 1e-6);
  });

  test("an asymmetric image: flip gives the mean of the image's and its mirror's probabilities, which differ", async () => {
    const imgs = [image(5, false), image(6, false), image(8, false)];
    const own = await probs(imgs);
    const mirrored = await probs(imgs.map((img) => mirror(img, SIZE)));
    const flip = await withTta('flip', SIZE, probs)(imgs);
    assert.ok(imgs.some((_, i) => Math.abs((own[i] ?? 0) - (mirrored[i] ?? 0)) > 1e-4), 'the model must tell an image from its mirror for this test to mean anything');
    for (let i = 0; i < imgs.length; i++) {
      const expected = ((own[i] ?? 0) + (mirrored[i] ?? 0)) / 2;
      assert.ok(Math.abs((flip[i] ?? 0) - expected) < 1e-6, `image ${i}: flip ${flip[i]}, mean ${expected}`);
    }
  });
});

test('a single-split run stopped before its final scoring keeps plain scores: Compare says no TTA for it', () => {
  const config = { tta: 'flip-crops' };
  assert.equal(scoredTta({ status: 'done', config, folds: null }), 'flip-crops');
  for (const status of ['cancelled', 'failed', 'interrupted'] as const) assert.equal(scoredTta({ status, config, folds: null }), 'none', status);
  // a K-fold run's finished folds each scored with it; an unfinished fold stores no rows
  assert.equal(scoredTta({ status: 'cancelled', config, folds: { k: 5, finished: [1, 2] } }), 'flip-crops');
  assert.equal(scoredTta({ status: 'done', config: {}, folds: null }), 'none');
});
