/**
 * Gradient parity (onnx-parity-helpers.ts) per layer kind of the scratch CNN, for the whole scratch CNN and
 * for the transfer heads; several steps per run; what the graph cannot train is named.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import { buildHead } from '../../../electron/core/ml/models';
import { buildScratch } from '../../../electron/core/ml/models/scratch';
import { filterGradForm } from '../../../electron/core/ml/onnx/training/layers';
import { UnsupportedTrainingError } from '../../../electron/core/ml/onnx/training/plan';
import { OnnxTrainer } from '../../../electron/core/ml/onnx/training/trainer';
import { Rng } from '../../../electron/core/random';

import { classifier, parity, seedWeights } from './onnx-parity-helpers';

const L = tf.layers;

before(async () => {
  await tf.setBackend('cpu');
});

describe('ONNX training graph: gradient parity with TensorFlow.js, per layer kind', () => {
  test('Dense (relu, linear) on feature vectors, SGD with momentum over 3 steps, the learning rate moved between them', async () => {
    const m = classifier([10], (x) => ap(L.dense({ units: 4, name: 'lin' }), ap(L.dense({ units: 6, activation: 'relu', name: 'hid' }), x)), 'dense');
    await parity(m, { optimizer: 'sgd', steps: 3, lrs: [0.05, 0.02, 0.2] });
  });

  test('Conv2D same (stride 1, ConvTranspose-free input gradient) + ReLU + Flatten', async () => {
    const m = classifier([7, 6, 3], (x) => {
      const c1 = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }), x);
      const c2 = ap(L.conv2d({ filters: 5, kernelSize: [3, 2], padding: 'same', name: 'c2' }), c1);
      return ap(L.flatten({ name: 'flat' }), c2);
    }, 'conv_same');
    await parity(m, { optimizer: 'sgd', steps: 2 });
  });

  test('Conv2D filter gradient in each form: per image (3×3 on 36 positions), one GEMM over batch and positions (1×1 and 3×3 on 4)', async () => {
    assert.equal(filterGradForm(9, 12, 36), 'per-image');
    assert.equal(filterGradForm(12, 16, 4), 'one-gemm');
    assert.equal(filterGradForm(144, 10, 4), 'one-gemm');
    const m = classifier([6, 6, 1], (x) => {
      const c0 = ap(L.conv2d({ filters: 12, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c0' }), x);
      const p = ap(L.maxPooling2d({ poolSize: 3, strides: 3, name: 'p' }), c0);
      const c1 = ap(L.conv2d({ filters: 16, kernelSize: 1, activation: 'relu', name: 'c1' }), p);
      const c2 = ap(L.conv2d({ filters: 10, kernelSize: 3, padding: 'same', name: 'c2' }), c1);
      return ap(L.flatten({ name: 'flat' }), c2);
    }, 'conv_forms');
    await parity(m, { optimizer: 'sgd', steps: 2 });
  });

  test('Conv2D strided, valid and same (ConvTranspose input gradient, cropped filter gradient), no bias + GAP', async () => {
    const m = classifier([9, 8, 2], (x) => {
      const c1 = ap(L.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', name: 'c1' }), x);
      const c2 = ap(L.conv2d({ filters: 4, kernelSize: 2, padding: 'same', useBias: false, name: 'c2' }), ap(L.conv2d({ filters: 3, kernelSize: 2, strides: 2, padding: 'same', name: 'c1b' }), c1));
      return ap(L.globalAveragePooling2d({ name: 'gap' }), c2);
    }, 'conv_strided');
    await parity(m, { optimizer: 'sgd' });
  });

  test('MaxPool: 2×2 after a ReLU (unpool), 3×3 stride 2 overlapping (scatter-add), same padding, odd sizes', async () => {
    const m = classifier([11, 10, 2], (x) => {
      const c = ap(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c' }), x);
      const p1 = ap(L.maxPooling2d({ poolSize: 2, name: 'p1' }), c); // 11×10 → 5×5
      const c2 = ap(L.conv2d({ filters: 3, kernelSize: 1, name: 'c2' }), p1);
      const p2 = ap(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'p2' }), c2); // 5 → 3, overlapping
      return ap(L.flatten({ name: 'flat' }), p2);
    }, 'pools');
    await parity(m, { optimizer: 'sgd', steps: 2 });
  });

  test('A conv on the image, its ReLU and a 2×2 pool trained as four phases: ties in the windows go where TensorFlow.js sends them', async () => {
    const m = classifier([16, 16, 2], (x) => {
      const c1 = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }), x);
      const p1 = ap(L.maxPooling2d({ poolSize: 2, name: 'p1' }), c1); // phases (the image needs no gradient)
      const c2 = ap(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }), p1);
      const p2 = ap(L.maxPooling2d({ poolSize: 2, name: 'p2' }), c2); // MaxPool's indices (c2's input needs one)
      return ap(L.flatten({ name: 'flat' }), p2);
    }, 'phases');
    const graph = await OnnxTrainer.create(m, { optimizer: 'sgd', lr: 0.1, momentum: 0.9, training: true, seed: 1, threads: 1 });
    const bytes = Buffer.from(graph.trainingGraph.bytes);
    await graph.dispose();
    assert.ok(bytes.includes('c1_phase3') && !bytes.includes('c2_phase0'), 'the first conv alone is trained by phases');
    // constant 8×8 squares: a 3×3 conv gives equal values over a square's inner 6×6, so whole pool windows tie
    await parity(m, { optimizer: 'sgd', steps: 2, blocks: 8 });
  });

  test('Dropout on images and on vectors with fed masks, a stand-alone ReLU, Adam over 3 steps', async () => {
    const m = classifier([6, 6, 2], (x) => {
      const c = ap(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c' }), x);
      const d = ap(L.dropout({ rate: 0.4, name: 'drop_img' }), ap(L.reLU({ name: 'relu' }), c));
      const h = ap(L.dense({ units: 5, activation: 'relu', name: 'hid' }), ap(L.flatten({ name: 'flat' }), d));
      return ap(L.dropout({ rate: 0.6, name: 'drop_vec' }), h);
    }, 'dropouts');
    await parity(m, { optimizer: 'adam', steps: 3, lr: 0.01, lrs: [0.01, 0.004, 0.02] });
  });
});

describe('ONNX training graph: the whole scratch CNN', () => {
  test('scratch, flatten head, 32 px: SGD with momentum, 2 steps', async () => {
    await parity(buildScratch({ inputSize: 32, filters: [8, 16, 16], denseUnits: 16 }), { optimizer: 'sgd', steps: 2, batch: 6, lr: 0.01 });
  });

  test('scratch, GAP head, 16 px: Adam, 2 steps', async () => {
    await parity(buildScratch({ inputSize: 16, filters: [8, 16], head: 'gap', denseUnits: 8 }), { optimizer: 'adam', steps: 2, batch: 5, lr: 0.001 });
  });
});

describe('ONNX training graph: the transfer heads (stage 1, on feature vectors)', () => {
  test('buildHead: dropout → Dense sigmoid, SGD with momentum, 2 steps', async () => {
    await parity(buildHead(24, { dropout: 0.3 }), { optimizer: 'sgd', steps: 2, batch: 6 });
  });

  test('buildHead with a hidden ReLU layer: Adam, 2 steps', async () => {
    await parity(buildHead(20, { dropout: 0.2, hiddenUnits: 8 }), { optimizer: 'adam', steps: 2, batch: 5, lr: 0.01 });
  });
});

describe('ONNX training graph: several steps per run', () => {
  test('4 steps in one run leave the same weights, losses and probabilities as 4 one-step runs (and 6 batches: one run of 4, two of 1)', async () => {
    const model = buildScratch({ inputSize: 16, filters: [4, 8], denseUnits: 8 });
    seedWeights(model, 3);
    const opts = { optimizer: 'adam', lr: 0.01, momentum: 0.9, training: true, seed: 9, threads: 1 } as const;
    const many = await OnnxTrainer.create(model, { ...opts, microSteps: 4 });
    const one = await OnnxTrainer.create(model, { ...opts, microSteps: 1 });
    try {
      assert.equal(many.stepsPerRun, 4);
      const rng = new Rng(4);
      const batches = Array.from({ length: 6 }, (_, i) => {
        const n = i === 5 ? 3 : 5;
        const labels = Array.from({ length: n }, (_, k) => (k + i) % 2);
        return { x: new ort.Tensor('float32', Float32Array.from({ length: n * 16 * 16 * 3 }, () => rng.next()), [n, 16, 16, 3]), labels, weights: labels.map((l) => (l ? 2 : 1)) };
      });
      const a = await many.stepsValues(batches);
      const b: Awaited<ReturnType<typeof one.stepsValues>> = [];
      for (const batch of batches) b.push(...(await one.stepsValues([batch])));
      assert.deepEqual(a.map((r) => r.loss), b.map((r) => r.loss));
      assert.deepEqual(a.map((r) => [...r.probs]), b.map((r) => [...r.probs]));
      for (const p of many.trainingGraph.params) assert.deepEqual(many.weight(p.name), one.weight(p.name), p.name);
    } finally {
      await many.dispose();
      await one.dispose();
    }
  });
});

describe('ONNX training graph: what it cannot train is named', () => {
  test('a layer without a gradient and a non-sigmoid output are refused before any session starts', async () => {
    const bn = classifier([4, 4, 2], (x) => ap(L.flatten({}), ap(L.upSampling2d({ size: [2, 2], name: 'the_up' }), x)), 'with_up');
    await assert.rejects(OnnxTrainer.create(bn, { optimizer: 'sgd', lr: 0.1, momentum: 0.9, training: true, seed: 1, threads: 1 }), (e: unknown) => e instanceof UnsupportedTrainingError && /"the_up" \(UpSampling2D\)/.test(e.message));
    const x = tf.input({ shape: [4] });
    const softmax = tf.model({ inputs: x, outputs: ap(L.dense({ units: 2, activation: 'softmax', name: 'sm' }), x) });
    await assert.rejects(OnnxTrainer.create(softmax, { optimizer: 'sgd', lr: 0.1, momentum: 0.9, training: true, seed: 1, threads: 1 }), /"sm" \(Dense\): activation "softmax"/);
  });
});

after(() => {
  tf.disposeVariables();
});
