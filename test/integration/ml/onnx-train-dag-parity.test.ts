/**
 * Gradient parity (onnx-parity-helpers.ts) of the step kinds fine-tuning needs: BatchNormalization in
 * inference mode, average pooling, Concatenate, Add, the scaled residual, SeparableConv2D and
 * DepthwiseConv2D, frozen layers inside a trained top; and of each architecture's whole stage-2 top (the
 * layers above the cut fine-tuning trains from cached activations) at a small input size with random weights.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from '../../../electron/core/ml/models/batch-normalization';
import { CustomScaleLayer } from '../../../electron/core/ml/models/custom-scale-layer';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import { buildClassifier } from '../../../electron/core/ml/models';
import { buildTopModel, chooseCut } from '../../../electron/core/ml/models/submodel';
import type { TransferModelName } from '../../../electron/core/ml/models/types';
import { planTraining } from '../../../electron/core/ml/onnx/training/plan';
import { unfreezeTop } from '../../../electron/core/ml/train/transfer';
import { classifier, parity } from './onnx-parity-helpers';

const L = tf.layers;

before(async () => {
  await tf.setBackend('cpu');
});

after(() => {
  tf.disposeVariables();
});

describe('ONNX training graph: gradient parity of the fine-tuning layer kinds (inference mode)', () => {
  test('BatchNormalization without gamma (Inception) and with gamma and beta (ResNet), after Conv2D without bias', async () => {
    const m = classifier([5, 6, 3], (x) => {
      const c1 = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'c1' }), x);
      const b1 = ap(L.activation({ activation: 'relu', name: 'a1' }), ap(batchNormalization({ axis: 3, scale: false, name: 'bn1' }), c1));
      const c2 = ap(L.conv2d({ filters: 5, kernelSize: 1, name: 'c2' }), b1);
      const b2 = ap(batchNormalization({ axis: 3, epsilon: 1.001e-5, name: 'bn2' }), c2);
      return ap(L.globalAveragePooling2d({ name: 'gap' }), b2);
    }, 'bns');
    await parity(m, { optimizer: 'sgd', steps: 2, training: false });
  });

  test("AveragePooling2D: 3×3 stride 1 'same' (padding not counted) and 2×2 stride 2 'valid' on odd sizes", async () => {
    const m = classifier([5, 7, 3], (x) => {
      const c = ap(L.conv2d({ filters: 4, kernelSize: 1, name: 'c' }), x);
      const p1 = ap(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'p_same' }), c);
      const p2 = ap(L.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: 'p_valid' }), p1);
      return ap(L.flatten({ name: 'flat' }), p2);
    }, 'avgpools');
    await parity(m, { optimizer: 'sgd', steps: 2, training: false });
  });

  test('Concatenate, Add and the scaled residual: a value several layers read gets its gradients summed', async () => {
    const m = classifier([4, 4, 3], (x) => {
      const stem = ap(L.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', name: 'stem' }), x);
      const a = ap(L.conv2d({ filters: 2, kernelSize: 1, name: 'br_a' }), stem);
      const b = ap(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'br_b' }), stem);
      const cat = ap(L.concatenate({ axis: -1, name: 'cat' }), [a, b]);
      const up = ap(L.conv2d({ filters: 4, kernelSize: 1, name: 'up' }), cat);
      const scaled = ap(new CustomScaleLayer({ scale: 0.17, name: 'scaled' }), [stem, up]);
      const res = ap(L.add({ name: 'res' }), [ap(L.activation({ activation: 'relu', name: 'act' }), scaled), stem]);
      return ap(L.globalAveragePooling2d({ name: 'gap' }), res);
    }, 'merges');
    await parity(m, { optimizer: 'adam', steps: 2, lr: 0.01, training: false });
  });

  test('SeparableConv2D (no bias, then bias and ReLU) and DepthwiseConv2D', async () => {
    const m = classifier([6, 5, 3], (x) => {
      const s1 = ap(L.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'sep1' }), x);
      const s2 = ap(L.separableConv2d({ filters: 5, kernelSize: 3, padding: 'valid', activation: 'relu', name: 'sep2' }), s1);
      const d = ap(L.depthwiseConv2d({ kernelSize: 2, padding: 'same', useBias: false, name: 'dw' }), s2);
      return ap(L.flatten({ name: 'flat' }), d);
    }, 'separable');
    await parity(m, { optimizer: 'sgd', steps: 2, training: false });
  });

  test('frozen layers inside the top are constants: never inputs, never updated', async () => {
    const m = classifier([4, 4, 3], (x) => {
      const c1 = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }), x);
      const frozen = ap(L.conv2d({ filters: 4, kernelSize: 1, name: 'frozen_conv', trainable: false }), c1);
      const bn = ap(batchNormalization({ axis: 3, name: 'frozen_bn', trainable: false }), frozen);
      return ap(L.globalAveragePooling2d({ name: 'gap' }), bn);
    }, 'frozen');
    const plan = planTraining(m);
    assert.deepEqual(plan.params.filter((p) => p.trainable).map((p) => p.name).sort(), ['c1/bias', 'c1/kernel', 'frozen_out/bias', 'frozen_out/kernel']);
    await parity(m, { optimizer: 'sgd', steps: 2, training: false });
  });
});

/**
 * The smallest input sizes, and as many open layers as reach each top's kinds (Inception's mixed blocks,
 * the scaled residual, ResNet's two Adds, Xception's last separable convolution) while the
 * reference's plain-JavaScript convolutions stay within seconds.
 */
const TOPS: Array<{ arch: TransferModelName; size: number; open: number; steps: number }> = [
  { arch: 'vgg19', size: 32, open: 2, steps: 2 },
  { arch: 'inception_v3', size: 75, open: 5, steps: 2 },
  { arch: 'inception_resnet_v2', size: 75, open: 5, steps: 2 },
  { arch: 'resnet50', size: 32, open: 10, steps: 2 },
  { arch: 'xception', size: 71, open: 2, steps: 1 },
];

describe('ONNX training graph: each architecture’s whole stage-2 top, from its cut', () => {
  for (const { arch, size, open, steps } of TOPS) {
    test(`${arch} at ${size} px, the top ${open} weighted layers open`, async () => {
      const full = buildClassifier(arch, { inputSize: size });
      const choice = chooseCut(full, new Set(unfreezeTop(full, open)));
      assert.ok(choice, `${arch}: a cut below the open layers`);
      const top = buildTopModel(full, choice.cut);
      full.dispose();
      try {
        await parity(top, { optimizer: 'sgd', steps, batch: 2, lr: 0.01, training: false });
      } finally {
        top.dispose();
      }
    });
  }
});
