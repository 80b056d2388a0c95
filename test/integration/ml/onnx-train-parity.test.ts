/**
 * Gradient parity: one step of the ONNX training graph against TensorFlow.js (cpu backend, the reference):
 * tf.variableGrads of the train loop's loss, then tf.train.momentum / tf.train.adam's update. The loss,
 * every weight's gradient and every updated weight agree within 1e-4 relative (|a − b| ≤ 1e-4 · the
 * tensor's largest |b|), per layer kind and for the whole scratch CNN. Inputs, weights, labels, class
 * weights and dropout masks are seeded and fed to both sides.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import { buildScratch } from '../../../electron/core/ml/models/scratch';
import { layerCalls } from '../../../electron/core/ml/onnx/export';
import { oihwToHwio } from '../../../electron/core/ml/onnx/training/params';
import { UnsupportedTrainingError } from '../../../electron/core/ml/onnx/training/plan';
import { OnnxTrainer } from '../../../electron/core/ml/onnx/training/trainer';
import { Rng } from '../../../electron/core/random';

const L = tf.layers;
const TOL = 1e-4;

before(async () => {
  await tf.setBackend('cpu');
});

interface Case {
  optimizer: 'sgd' | 'adam';
  steps?: number;
  batch?: number;
  lr?: number;
  seed?: number;
}

/** Glorot-uniform kernels and small non-zero biases from a seed (zero biases would hide bias gradients). */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const w of model.weights) {
    const shape = w.shape.map((d) => d ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    const limit = shape.length >= 2 ? Math.sqrt(6 / (((shape[shape.length - 2] ?? 1) + (shape[shape.length - 1] ?? 1)) * receptive)) : 0.1;
    const t = tf.tensor(Float32Array.from({ length: size }, () => rng.range(-limit, limit)), shape);
    w.write(t);
    t.dispose();
  }
}

/** The train loop's loss, with the given masks in place of tfjs's own dropout draws. */
function lossFn(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, sw: tf.Tensor, masks: Map<string, tf.Tensor>): () => tf.Scalar {
  const calls = layerCalls(model);
  return () => {
    const values = new Map<string, tf.Tensor>([['input', x]]);
    for (const c of calls) {
      const ins = c.inputs.map((k) => values.get(k) ?? tf.scalar(0));
      const mask = masks.get(c.layer.name);
      const out = c.className === 'Dropout' ? (mask ? tf.mul(ins[0] ?? tf.scalar(0), mask) : ins[0]) : c.layer.apply(ins.length === 1 ? ins[0] ?? tf.scalar(0) : ins, { training: true });
      if (!(out instanceof tf.Tensor)) throw new Error(`${c.layer.name}: not one tensor`);
      values.set(c.output, out);
    }
    const last = calls[calls.length - 1];
    const p = values.get(last?.output ?? '') ?? tf.scalar(0);
    const pc = tf.clipByValue(p, 1e-7, 1 - 1e-7);
    const bce = tf.neg(tf.add(tf.mul(y, tf.log(pc)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pc)))));
    return tf.mean(tf.mul(bce, sw)) as tf.Scalar;
  };
}

function worst(actual: Float32Array, expected: Float32Array): { rel: number; scale: number } {
  assert.equal(actual.length, expected.length);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs((actual[i] ?? Number.NaN) - (expected[i] ?? 0));
    diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
  }
  return { rel: diff / Math.max(scale, 1e-12), scale };
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  const r = worst(actual, expected);
  if (process.env['PARITY_VERBOSE']) console.log(`${what}: ${r.rel.toExponential(2)}`);
  assert.ok(r.scale > 0, `${what}: the reference is all zeros, which tests nothing`);
  assert.ok(r.rel <= TOL, `${what}: differs by ${r.rel.toExponential(2)} of its largest value ${r.scale.toExponential(2)}`);
}

/** HWIO view of a graph-layout value of weight `v`. */
function tfjsLayout(v: tf.LayerVariable, data: Float32Array): Float32Array {
  const shape = v.shape.map((d) => d ?? 1);
  return shape.length === 4 ? oihwToHwio(data, shape) : data;
}

/** Runs `steps` steps on both engines from the same weights; checks loss, gradients and weights after each. */
async function parity(model: tf.LayersModel, c: Case): Promise<void> {
  const seed = c.seed ?? 7;
  const n = c.batch ?? 4;
  const lr = c.lr ?? 0.05;
  seedWeights(model, seed);
  const trainer = await OnnxTrainer.create(model, { optimizer: c.optimizer, lr, momentum: 0.9, training: true, seed, threads: 1, gradients: true });
  const opt = c.optimizer === 'adam' ? tf.train.adam(lr) : tf.train.momentum(lr, 0.9);
  const vars = model.trainableWeights;
  const rng = new Rng(seed + 1);
  const inShape = (model.inputs[0]?.shape ?? []).slice(1).map((d) => d ?? 1);
  try {
    for (let s = 0; s < (c.steps ?? 1); s++) {
      const xData = Float32Array.from({ length: n * inShape.reduce((a, b) => a * b, 1) }, () => rng.range(-1, 1));
      const labels = Array.from({ length: n }, (_, i) => (i + s) % 2);
      const weights = labels.map((l) => (l === 1 ? 1.5 : 0.75));
      const masks = new Map<string, Float32Array>();
      for (const d of trainer.trainingGraph.steps[0]?.masks ?? []) {
        const shape = d.shape.slice(1).map((v) => (typeof v === 'number' ? v : 1));
        masks.set(d.layer, Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, () => (rng.next() < 0.6 ? 0 : 2.5)));
      }
      const onnx = await trainer.stepValues(new ort.Tensor('float32', xData, [n, ...inShape]), labels, weights, masks);

      const x = tf.tensor(xData, [n, ...inShape]);
      const y = tf.tensor2d(labels, [n, 1]);
      const sw = tf.tensor2d(weights, [n, 1]);
      const tmasks = new Map([...masks].map(([layer, m]) => {
        const shape = (trainer.trainingGraph.steps[0]?.masks ?? []).find((d) => d.layer === layer)?.shape.slice(1).map((v) => (typeof v === 'number' ? v : 1)) ?? [];
        return [layer, tf.tensor(m, [n, ...shape])] as const;
      }));
      const tvars = vars.map((v) => {
        const t = v.read();
        if (!(t instanceof tf.Variable)) throw new Error('not a variable');
        return t;
      });
      const { value, grads } = tf.variableGrads(lossFn(model, x, y, sw, tmasks), tvars);
      const loss = (await value.data())[0] ?? Number.NaN;
      assert.ok(Math.abs(onnx.loss - loss) <= TOL * Math.abs(loss), `step ${s + 1} loss: ONNX ${onnx.loss}, tfjs ${loss}`);
      for (const [i, v] of vars.entries()) {
        const g = grads[tvars[i]?.name ?? ''];
        const og = onnx.grads.get(v.originalName);
        assert.ok(g && og, `${v.originalName}: a gradient on both sides`);
        assertClose(tfjsLayout(v, og), (await g.data()) as Float32Array, `step ${s + 1} gradient of ${v.originalName}`);
      }
      opt.applyGradients(tvars.map((v) => ({ name: v.name, tensor: grads[v.name] ?? tf.zerosLike(v) })));
      for (const v of vars) {
        assertClose(tfjsLayout(v, trainer.weight(v.originalName)), (await v.read().data()) as Float32Array, `step ${s + 1} updated ${v.originalName}`);
      }
      tf.dispose([x, y, sw, value, ...Object.values(grads), ...tmasks.values()]);
    }
  } finally {
    opt.dispose();
    await trainer.dispose();
  }
}

function classifier(inShape: number[], body: (x: tf.SymbolicTensor) => tf.SymbolicTensor, name: string): tf.LayersModel {
  const x = tf.input({ shape: inShape });
  const out = ap(L.dense({ units: 1, activation: 'sigmoid', name: `${name}_out` }), body(x));
  return tf.model({ inputs: x, outputs: out, name });
}

describe('ONNX training graph: gradient parity with TensorFlow.js, per layer kind', () => {
  test('Dense (relu, linear) on feature vectors, SGD with momentum over 2 steps', async () => {
    const m = classifier([10], (x) => ap(L.dense({ units: 4, name: 'lin' }), ap(L.dense({ units: 6, activation: 'relu', name: 'hid' }), x)), 'dense');
    await parity(m, { optimizer: 'sgd', steps: 2 });
  });

  test('Conv2D same (stride 1, ConvTranspose-free input gradient) + ReLU + Flatten', async () => {
    const m = classifier([7, 6, 3], (x) => {
      const c1 = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }), x);
      const c2 = ap(L.conv2d({ filters: 5, kernelSize: [3, 2], padding: 'same', name: 'c2' }), c1);
      return ap(L.flatten({ name: 'flat' }), c2);
    }, 'conv_same');
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

  test('Dropout on images and on vectors with fed masks, a stand-alone ReLU, Adam over 3 steps', async () => {
    const m = classifier([6, 6, 2], (x) => {
      const c = ap(L.conv2d({ filters: 3, kernelSize: 3, padding: 'same', name: 'c' }), x);
      const d = ap(L.dropout({ rate: 0.4, name: 'drop_img' }), ap(L.reLU({ name: 'relu' }), c));
      const h = ap(L.dense({ units: 5, activation: 'relu', name: 'hid' }), ap(L.flatten({ name: 'flat' }), d));
      return ap(L.dropout({ rate: 0.6, name: 'drop_vec' }), h);
    }, 'dropouts');
    await parity(m, { optimizer: 'adam', steps: 3, lr: 0.01 });
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
    const bn = classifier([4, 4, 2], (x) => ap(L.flatten({}), ap(L.batchNormalization({ name: 'the_bn' }), x)), 'with_bn');
    await assert.rejects(OnnxTrainer.create(bn, { optimizer: 'sgd', lr: 0.1, momentum: 0.9, training: true, seed: 1, threads: 1 }), (e: unknown) => e instanceof UnsupportedTrainingError && /"the_bn" \(BatchNormalization\)/.test(e.message));
    const x = tf.input({ shape: [4] });
    const softmax = tf.model({ inputs: x, outputs: ap(L.dense({ units: 2, activation: 'softmax', name: 'sm' }), x) });
    await assert.rejects(OnnxTrainer.create(softmax, { optimizer: 'sgd', lr: 0.1, momentum: 0.9, training: true, seed: 1, threads: 1 }), /"sm" \(Dense\): activation "softmax"/);
  });
});

after(() => {
  tf.disposeVariables();
});
