/**
 * Grad-CAM against closed forms on hand-built models (cpu backend): for conv → GAP → dense it is CAM,
 * ReLU(Σ_k v_k A_k / (H W)); for conv → flatten → dense the channel weights are the spatial means of the
 * dense kernel. And the overlay's geometry for each resize mode.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { camMassIn, camModel, findCamLayer, gradCam } from '../../../electron/core/ml/explain/gradcam';
import { camOnImage, jet } from '../../../electron/core/ml/explain/overlay';
import { Rng } from '../../../electron/core/random';

const H = 4;
const W = 5;
const C = 2;
const K = 3;

// 1×1 conv weights [C][K], chosen so some channels are cut by the conv's ReLU and the CAM's ReLU matters
const CONV = [
  [0.8, -0.5, 0.3],
  [-0.4, 0.9, 0.6],
];
const CONV_BIAS = [0.05, -0.1, 0];

function randomInput(seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: H * W * C }, () => rng.range(-1, 1));
}

/** A_k at (y, x) by hand: ReLU(Σ_c x_c W_ck + b_k). */
function activation(x: readonly number[]): number[] {
  const a: number[] = [];
  for (let p = 0; p < H * W; p++) {
    for (let k = 0; k < K; k++) {
      let s = CONV_BIAS[k] ?? 0;
      for (let c = 0; c < C; c++) s += (x[p * C + c] ?? 0) * (CONV[c]?.[k] ?? 0);
      a.push(Math.max(0, s));
    }
  }
  return a;
}

function convLayer(): tf.layers.Layer {
  return tf.layers.conv2d({
    filters: K,
    kernelSize: 1,
    activation: 'relu',
    name: 'conv',
    weights: [tf.tensor4d(CONV.flat(), [1, 1, C, K]), tf.tensor1d(CONV_BIAS)],
  });
}

function close(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? 0;
    const v = actual[i] ?? Number.NaN;
    assert.ok(Math.abs(v - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${v} vs ${e}`);
  }
}

describe('gradCam', () => {
  test('conv → GAP → dropout → dense(sigmoid): equals CAM, ReLU(Σ_k v_k A_k) / (H W); the probability is the model’s', async () => {
    await tf.setBackend('cpu');
    const v = [1.5, -2, 0.7];
    const bias = -0.3;
    const input = tf.input({ shape: [H, W, C] });
    let x = convLayer().apply(input) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(x) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'dense', weights: [tf.tensor2d(v, [K, 1]), tf.tensor1d([bias])] }).apply(x);
    const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    assert.deepEqual(findCamLayer(model), { index: 1, name: 'conv' });

    for (const seed of [1, 2, 3]) {
      const xs = randomInput(seed);
      const a = activation(xs);
      const expected = Array.from({ length: H * W }, (_, p) => Math.max(0, v.reduce((s, vk, k) => s + vk * (a[p * K + k] ?? 0), 0) / (H * W)));
      assert.ok(expected.some((e) => e > 0) && expected.some((e) => e === 0), 'the case exercises the ReLU both ways');
      const logit = v.reduce((s, vk, k) => s + vk * (Array.from({ length: H * W }, (_, p) => a[p * K + k] ?? 0).reduce((m, y) => m + y, 0) / (H * W)), bias);
      const t = tf.tensor4d(xs, [1, H, W, C]);
      const before = tf.memory().numTensors;
      const r = await gradCam(camModel(model), t, 1);
      assert.equal(tf.memory().numTensors, before, 'gradCam leaks no tensors');
      assert.equal(r.layer, 'conv');
      assert.deepEqual([r.height, r.width], [H, W]);
      close(r.cam, expected, 1e-5, `cam seed ${seed}`);
      // the other class's evidence: the logit is −logit, so the weights are −v
      const negative = Array.from({ length: H * W }, (_, p) => Math.max(0, -v.reduce((s, vk, k) => s + vk * (a[p * K + k] ?? 0), 0) / (H * W)));
      const r0 = await gradCam(camModel(model), t, 0);
      assert.equal(r0.explained, 0);
      close(r0.cam, negative, 1e-5, `class-0 cam seed ${seed}`);
      const predicted = await gradCam(camModel(model), t);
      t.dispose();
      assert.equal(predicted.explained, logit >= 0 ? 1 : 0, 'by default the predicted class is explained');
      close(predicted.cam, logit >= 0 ? expected : negative, 1e-5, `predicted-class cam seed ${seed}`);
      close([r.logit], [logit], 1e-5, 'logit');
      const p = (model.predict(tf.tensor4d(xs, [1, H, W, C])) as tf.Tensor).dataSync()[0] ?? Number.NaN;
      close([r.probability], [p], 1e-5, 'probability');
    }
    model.dispose();
  });

  test('conv → flatten → dense: channel weights are the spatial means of the dense kernel', async () => {
    await tf.setBackend('cpu');
    const rng = new Rng(9);
    const u = Array.from({ length: H * W * K }, () => rng.range(-1, 1));
    const input = tf.input({ shape: [H, W, C] });
    let x = convLayer().apply(input) as tf.SymbolicTensor;
    x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'dense', weights: [tf.tensor2d(u, [H * W * K, 1]), tf.tensor1d([0.1])] }).apply(x);
    const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    const xs = randomInput(4);
    const a = activation(xs);
    // flatten is row-major over (y, x, k): the kernel entry for A_k at p is u[p K + k]
    const w = Array.from({ length: K }, (_, k) => Array.from({ length: H * W }, (_, p) => u[p * K + k] ?? 0).reduce((s, y) => s + y, 0) / (H * W));
    const expected = Array.from({ length: H * W }, (_, p) => Math.max(0, w.reduce((s, wk, k) => s + wk * (a[p * K + k] ?? 0), 0)));
    const t = tf.tensor4d(xs, [1, H, W, C]);
    const r = await gradCam(camModel(model), t, 1);
    t.dispose();
    close(r.cam, expected, 1e-5, 'cam');
    model.dispose();
  });

  test('a named layer must exist and be 4-D', () => {
    const input = tf.input({ shape: [H, W, C] });
    const conv = convLayer().apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(conv) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1, name: 'dense' }).apply(pooled) as tf.SymbolicTensor });
    assert.throws(() => findCamLayer(model, 'nope'), /no layer 'nope'/);
    assert.throws(() => findCamLayer(model, 'pool'), /does not output a 4-D/);
    assert.equal(findCamLayer(model, 'conv').name, 'conv');
    model.dispose();
  });
});

describe('overlay geometry', () => {
  // a 2×2 grid, hot on top: [1, 1; 0, 0]
  const grid = { height: 2, width: 2, cam: new Float32Array([1, 1, 0, 0]) };

  test('fill: the top rows are hot and the bottom rows cold, bilinear in between', () => {
    const m = camOnImage(grid, 4, 4, 8, 'fill');
    // rows at v = 1, 3, 5, 7 of 8 → grid y = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1)
    close(Array.from(m.filter((_, i) => i % 4 === 0)), [1, 0.75, 0.25, 0], 1e-6, 'column 0');
  });

  test('crop: outside the centre square is NaN (the model never saw it)', () => {
    const m = camOnImage(grid, 8, 4, 4, 'crop');
    for (let y = 0; y < 4; y++) {
      const row = Array.from(m.slice(y * 8, y * 8 + 8));
      assert.ok(row.slice(0, 2).every(Number.isNaN) && row.slice(6).every(Number.isNaN), `row ${y}: ${row.join(',')}`);
      assert.ok(row.slice(2, 6).every((v) => !Number.isNaN(v)), `row ${y}: ${row.join(',')}`);
    }
  });

  test('letterbox: a wide photo fills the square’s middle band', () => {
    // 8×4 photo in a 4-px square: rows land on v = 1.25, 1.75, 2.25, 2.75 → grid y = 0.125 … 0.875
    const m = camOnImage(grid, 8, 4, 4, 'letterbox');
    close(Array.from(m.filter((_, i) => i % 8 === 0)), [0.875, 0.625, 0.375, 0.125], 1e-6, 'column 0');
  });

  test('jet runs blue → red; the mass share counts grid cells inside the box', () => {
    assert.deepEqual(jet(0), [0, 0, 128]);
    assert.deepEqual(jet(1), [128, 0, 0]);
    assert.deepEqual(jet(0.5), [128, 255, 128]);
    assert.equal(camMassIn(grid, [0, 0, 1, 0.5]), 1);
    assert.equal(camMassIn(grid, [0, 0.5, 1, 1]), 0);
    assert.equal(camMassIn(grid, [0, 0, 0.5, 1]), 0.5);
  });
});
