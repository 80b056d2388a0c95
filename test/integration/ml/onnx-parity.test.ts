/**
 * ONNX Runtime's output equals TensorFlow.js's (|a − b| ≤ 1e-4·max(1, |b|)) on the same weights and images:
 * small models covering every layer kind the exporter converts, then the six architectures at small input
 * sizes, base alone and with the head. Weights are seeded; batch norms get non-trivial moving statistics
 * (see onnx/random-weights.ts) so folding them into the convolutions is really tested.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import '@tensorflow/tfjs-backend-wasm';
import { ARCHITECTURES, buildBase, buildClassifier, CustomScaleLayer, MODEL_NAMES, preprocess } from '../../../electron/core/ml/models/index';
import type { Preprocessing } from '../../../electron/core/ml/models/types';
import { exportOnnx, type OnnxExportOptions } from '../../../electron/core/ml/onnx/export';
import { randomizeWeights } from '../../../electron/core/ml/onnx/random-weights';
import { releaseSessions } from '../../../electron/core/ml/onnx/runtime';
import { checkParity, type ParityReport } from '../../../electron/core/ml/onnx/verify';

const L = tf.layers;
before(async () => {
  await tf.setBackend('wasm');
});
after(async () => {
  await releaseSessions();
});

/** Seeds the weights on `images`, exports, and compares; returns the report for extra assertions. */
async function parity(model: tf.LayersModel, images: tf.Tensor, opts: OnnxExportOptions = {}, tfjsImages?: tf.Tensor): Promise<ParityReport> {
  randomizeWeights(model, 1234, tfjsImages ?? images);
  const exported = exportOnnx(model, opts);
  const report = await checkParity(model, exported.bytes, images, { session: { threads: 1 }, ...(tfjsImages ? { tfjsImages } : {}) });
  assert.ok(report.ok, `${model.name}: ONNX differs from tfjs: ${JSON.stringify(report)}`);
  return report;
}

const images = (n: number, size: number, seed: number, lo = -1, hi = 1): tf.Tensor4D =>
  tf.randomUniform([n, size, size, 3], lo, hi, 'float32', seed);

/** A 4-D output far from zero, so an absolute tolerance of 1e-4 is not trivially met. */
function assertFeatureScale(r: ParityReport): void {
  assert.ok(r.maxAbsRef > 0.5, `outputs too small to test anything: max |tfjs| = ${r.maxAbsRef}`);
}

describe('ONNX parity: every layer kind', () => {
  test('convolutions: same/valid on odd sizes, strides, dilation, own activations, batch norm folded', async () => {
    const x = tf.input({ shape: [17, 17, 3] });
    let y = ap(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x); // pads 1/1
    y = ap(L.batchNormalization({ epsilon: 1e-3 }), y);
    y = ap(L.activation({ activation: 'relu' }), y);
    y = ap(L.conv2d({ filters: 8, kernelSize: 4, strides: 2, padding: 'same', activation: 'elu' }), y); // 9 → 5: pads 1/2
    y = ap(L.conv2d({ filters: 6, kernelSize: 2, dilationRate: 2, padding: 'same' }), y);
    y = ap(L.batchNormalization({ scale: false }), y);
    y = ap(L.conv2d({ filters: 6, kernelSize: [3, 1], padding: 'valid', activation: 'relu6' }), y);
    const m = tf.model({ inputs: x, outputs: y, name: 'convs' });
    const r = await parity(m, images(3, 17, 1));
    assertFeatureScale(r);
  });

  test('pooling: max/average with same padding (asymmetric, pads excluded from the mean) and valid', async () => {
    const x = tf.input({ shape: [16, 16, 3] });
    const c = ap(L.conv2d({ filters: 4, kernelSize: 1 }), x);
    const a = ap(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), c); // 16 → 8: pads 0/1
    const b = ap(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), c);
    const d = ap(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), ap(L.maxPooling2d({ poolSize: 2 }), c));
    const e = ap(L.averagePooling2d({ poolSize: 2, padding: 'valid' }), c);
    const y = ap(L.concatenate(), [a, b, d, e]);
    const m = tf.model({ inputs: x, outputs: y, name: 'pools' });
    assertFeatureScale(await parity(m, images(2, 16, 2)));
  });

  test('zero padding: folded into a convolution, a Pad before a max pool', async () => {
    const x = tf.input({ shape: [15, 15, 3] });
    let y = ap(L.zeroPadding2d({ padding: [[3, 2], [1, 3]] }), x);
    y = ap(L.conv2d({ filters: 8, kernelSize: 7, strides: 2, useBias: false }), y);
    y = ap(L.batchNormalization({}), y);
    y = ap(L.activation({ activation: 'relu' }), y);
    y = ap(L.zeroPadding2d({ padding: 1 }), y);
    y = ap(L.maxPooling2d({ poolSize: 3, strides: 2 }), y);
    const p = ap(L.zeroPadding2d({ padding: [[0, 1], [0, 1]] }), y);
    y = ap(L.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 1, useBias: false }), p);
    const m = tf.model({ inputs: x, outputs: y, name: 'zeropad' });
    assertFeatureScale(await parity(m, images(2, 15, 3)));
  });

  test('separable and depthwise convolutions (depth multiplier 2), with batch norm and activations', async () => {
    const x = tf.input({ shape: [13, 13, 4] });
    let y = ap(L.separableConv2d({ filters: 10, kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, useBias: false }), x);
    y = ap(L.batchNormalization({}), y);
    y = ap(L.reLU({}), y);
    y = ap(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'tanh' }), y);
    y = ap(L.separableConv2d({ filters: 6, kernelSize: 3, padding: 'valid', activation: 'relu' }), y);
    const m = tf.model({ inputs: x, outputs: y, name: 'separable' });
    const xs = tf.randomUniform([2, 13, 13, 4], -1, 1, 'float32', 4);
    assertFeatureScale(await parity(m, xs));
  });

  test('merges: add, scaled residual, multiply, average, maximum, minimum, concatenate; a batch norm after an add', async () => {
    const x = tf.input({ shape: [9, 9, 3] });
    const a = ap(L.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }), x);
    const b = ap(L.conv2d({ filters: 6, kernelSize: 1, activation: 'relu' }), x);
    let y = ap(L.add(), [a, b]);
    y = ap(L.batchNormalization({}), y); // follows an Add: emitted as BatchNormalization
    y = ap(new CustomScaleLayer({ scale: 0.17, name: 'block_scale' }), [y, b]);
    const parts = [
      ap(L.multiply(), [y, a]),
      ap(L.average(), [y, a, b]),
      ap(L.maximum(), [y, a]),
      ap(L.minimum(), [y, b]),
    ];
    const m = tf.model({ inputs: x, outputs: ap(L.concatenate({ axis: -1 }), parts), name: 'merges' });
    assertFeatureScale(await parity(m, images(2, 9, 5)));
  });

  test('activations as layers: tanh, sigmoid, selu, softplus, softsign, hardSigmoid, swish, ReLU(max), LeakyReLU, ELU, Softmax', async () => {
    const x = tf.input({ shape: [6, 6, 3] });
    const c = ap(L.conv2d({ filters: 4, kernelSize: 1 }), x);
    const kinds = ['tanh', 'sigmoid', 'selu', 'softplus', 'softsign', 'hardSigmoid', 'swish', 'linear'] as const;
    const parts = kinds.map((k) => ap(L.activation({ activation: k }), c));
    parts.push(ap(L.reLU({ maxValue: 0.5 }), c), ap(L.leakyReLU({ alpha: 0.2 }), c), ap(L.elu({}), c));
    parts.push(ap(L.softmax({ axis: -1 }), c));
    const m = tf.model({ inputs: x, outputs: ap(L.concatenate(), parts), name: 'activations' });
    await parity(m, images(2, 6, 6, -3, 3));
  });

  test('Flatten keeps tfjs NHWC order before a Dense; dropout; batch norm on vectors; sigmoid head', async () => {
    const x = tf.input({ shape: [5, 7, 3] });
    let y = ap(L.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }), x);
    y = ap(L.flatten(), y);
    y = ap(L.dense({ units: 16, activation: 'relu' }), y);
    y = ap(L.dropout({ rate: 0.5 }), y);
    y = ap(L.batchNormalization({}), y);
    y = ap(L.dense({ units: 8, useBias: false }), y);
    const logits = y;
    const prob = ap(L.dense({ units: 1, activation: 'sigmoid' }), y);
    const xs = tf.randomUniform([4, 5, 7, 3], -1, 1, 'float32', 7);
    // the logits, far from a sigmoid's flat ends, are where a wrong flatten order would show
    const r = await parity(tf.model({ inputs: x, outputs: logits, name: 'flatten_logits' }), xs);
    assertFeatureScale(r);
    const r2 = await parity(tf.model({ inputs: x, outputs: prob, name: 'flatten_head' }), xs);
    assert.ok(r2.maxAbsRef > 0.01 && r2.maxAbsRef < 0.999, `sigmoid saturated: ${r2.maxAbsRef}`);
  });

  test('global pooling heads, a softmax head, and a nested base model', async () => {
    const x = tf.input({ shape: [12, 12, 3] });
    const base = tf.model({ inputs: x, outputs: ap(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), x), name: 'inner' });
    const outer = tf.input({ shape: [12, 12, 3] });
    const feats = ap(base, outer);
    const avg = ap(L.globalAveragePooling2d({}), feats);
    const max = ap(L.globalMaxPooling2d({}), feats);
    const y = ap(L.dense({ units: 3, activation: 'softmax' }), ap(L.concatenate(), [avg, max]));
    const m = tf.model({ inputs: outer, outputs: y, name: 'nested' });
    await parity(m, images(3, 12, 8));
  });

  test('a head alone on feature vectors', async () => {
    const x = tf.input({ shape: [32] });
    const y = ap(L.dense({ units: 1, activation: 'sigmoid' }), ap(L.dropout({ rate: 0.2 }), x));
    await parity(tf.model({ inputs: x, outputs: y, name: 'head' }), tf.randomNormal([5, 32], 0, 1, 'float32', 9));
  });

  for (const mode of ['caffe', 'tf', 'unit'] as const satisfies readonly Preprocessing[]) {
    test(`preprocessing '${mode}' inside the graph: raw pixels in, the same output as tfjs's preprocess + model`, async () => {
      const x = tf.input({ shape: [8, 8, 3] });
      const m = tf.model({ inputs: x, outputs: ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }), x), name: `pre_${mode}` });
      const raw = images(2, 8, 10, 0, 255);
      const pre = preprocess(raw, mode);
      const r = await parity(m, raw, { preprocessing: mode }, pre);
      assertFeatureScale(r);
    });
  }

  test('batch norm kept as BatchNormalization nodes (folding off) gives the same result', async () => {
    const x = tf.input({ shape: [10, 10, 3] });
    let y = ap(L.conv2d({ filters: 6, kernelSize: 3, useBias: false }), x);
    y = ap(L.batchNormalization({}), y);
    y = ap(L.activation({ activation: 'relu' }), y);
    const m = tf.model({ inputs: x, outputs: y, name: 'bn_unfolded' });
    assertFeatureScale(await parity(m, images(2, 10, 11), { foldBatchNorm: false }));
  });
});

describe('ONNX parity: the six architectures (small inputs)', () => {
  for (const name of MODEL_NAMES) {
    const size = Math.max(ARCHITECTURES[name].minInputSize, 75);
    test(`${name} at ${size} px: base, and classifier with its head`, async () => {
      const xs = images(2, size, 20);
      const base = buildBase(name, { inputSize: size });
      try {
        assertFeatureScale(await parity(base, xs));
      } finally {
        base.dispose();
      }
      const clf = buildClassifier(name, { inputSize: size });
      try {
        const r = await parity(clf, xs);
        assert.ok(r.maxAbsRef > 0.01 && r.maxAbsRef < 0.999, `sigmoid saturated: ${r.maxAbsRef}`);
      } finally {
        clf.dispose();
      }
      xs.dispose();
      await releaseSessions();
    });
  }
});
