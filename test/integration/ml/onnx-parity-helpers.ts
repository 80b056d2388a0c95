/**
 * Gradient parity of the ONNX training graph with TensorFlow.js (cpu backend, the reference): one or more
 * steps from the same seeded weights, inputs, labels, class weights and dropout masks on both sides;
 * tf.variableGrads of the train loop's loss, then tf.train.momentum / tf.train.adam's update. The loss,
 * every weight's gradient and every updated weight agree within 1e-4 relative (|a − b| ≤ 1e-4 · the
 * tensor's largest |b|).
 *
 * One deliberate difference: an AveragePooling2D is differentiated as what it computes (a sum over the
 * window's cells inside the image divided by their count), not by TensorFlow.js's CPU kernel, whose
 * gradient divides by the full window size even where the window hangs over the border.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import { layerCalls, type Call } from '../../../electron/core/ml/onnx/export';
import { oihwToHwio } from '../../../electron/core/ml/onnx/training/params';
import { OnnxTrainer } from '../../../electron/core/ml/onnx/training/trainer';
import { ScheduledAdam } from '../../../electron/core/ml/train/engine';
import { Rng } from '../../../electron/core/random';

export const TOL = 1e-4;

export interface Case {
  optimizer: 'sgd' | 'adam';
  steps?: number;
  batch?: number;
  lr?: number;
  /** A learning rate per step, set on both engines before it (a schedule's moves); default `lr` throughout. */
  lrs?: readonly number[];
  seed?: number;
  /** Dropout on and the layers in training mode (default); false is fine-tuning's inference mode. */
  training?: boolean;
  /**
   * Each image made of constant `blocks`×`blocks` squares (values drawn per square) instead of a value per
   * pixel: a conv over a square's inside gives equal values, so max pools see ties.
   */
  blocks?: number;
}

/** A batch of images [n, h, w, c] (or vectors), a random value per pixel or per constant square. */
function batchValues(rng: Rng, n: number, inShape: readonly number[], blocks: number | undefined): Float32Array {
  const size = n * inShape.reduce((a, b) => a * b, 1);
  const [h = 1, w = 1, ch = 1] = inShape;
  if (blocks === undefined || inShape.length !== 3) return Float32Array.from({ length: size }, () => rng.range(-1, 1));
  const squares = Array.from({ length: n * Math.ceil(h / blocks) * Math.ceil(w / blocks) * ch }, () => rng.range(-1, 1));
  const across = Math.ceil(w / blocks);
  const down = Math.ceil(h / blocks);
  return Float32Array.from({ length: size }, (_, i) => {
    const c = i % ch;
    const col = Math.floor(i / ch) % w;
    const row = Math.floor(i / (ch * w)) % h;
    const img = Math.floor(i / (ch * w * h));
    return squares[((img * down + Math.floor(row / blocks)) * across + Math.floor(col / blocks)) * ch + c] ?? 0;
  });
}

/**
 * Glorot-uniform kernels and small non-zero biases from a seed (zero biases would hide bias gradients);
 * moving variances positive, as a trained network's are.
 */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const w of model.weights) {
    const shape = w.shape.map((d) => d ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
    const limit = shape.length >= 2 ? Math.sqrt(6 / (((shape[shape.length - 2] ?? 1) + (shape[shape.length - 1] ?? 1)) * receptive)) : 0.1;
    const variance = /moving_variance/.test(w.originalName);
    const gamma = /gamma/.test(w.originalName);
    const t = tf.tensor(Float32Array.from({ length: size }, () => (variance ? rng.range(0.5, 1.5) : gamma ? rng.range(0.8, 1.2) : rng.range(-limit, limit))), shape);
    w.write(t);
    t.dispose();
  }
}

/** AveragePooling2D as a window sum over the cells inside the image divided by their count. */
function avgPoolReference(c: Call, x: tf.Tensor): tf.Tensor {
  const cfg = c.layer.getConfig() as { poolSize: [number, number]; strides: [number, number]; padding: 'same' | 'valid' };
  const ch = x.shape[3] ?? 1;
  const ones = tf.ones([cfg.poolSize[0], cfg.poolSize[1], ch, 1]);
  const sum = tf.depthwiseConv2d(x as tf.Tensor4D, ones as tf.Tensor4D, cfg.strides, cfg.padding);
  const count = tf.depthwiseConv2d(tf.onesLike(x) as tf.Tensor4D, ones as tf.Tensor4D, cfg.strides, cfg.padding);
  return tf.div(sum, count);
}

/** The train loop's loss, with the given masks in place of tfjs's own dropout draws. */
function lossFn(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, sw: tf.Tensor, masks: Map<string, tf.Tensor>, training: boolean): () => tf.Scalar {
  const calls = layerCalls(model);
  return () => {
    const values = new Map<string, tf.Tensor>([['input', x]]);
    for (const c of calls) {
      const ins = c.inputs.map((k) => values.get(k) ?? tf.scalar(0));
      const mask = masks.get(c.layer.name);
      const one = ins[0] ?? tf.scalar(0);
      const out =
        c.className === 'Dropout'
          ? mask ? tf.mul(one, mask) : one
          : c.className === 'AveragePooling2D'
            ? avgPoolReference(c, one)
            : c.layer.apply(ins.length === 1 ? one : ins, { training });
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

export function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  const r = worst(actual, expected);
  if (process.env['PARITY_VERBOSE']) console.log(`${what}: ${r.rel.toExponential(2)}`);
  assert.ok(r.scale > 0, `${what}: the reference is all zeros, which tests nothing`);
  assert.ok(r.rel <= TOL, `${what}: differs by ${r.rel.toExponential(2)} of its largest value ${r.scale.toExponential(2)}`);
}

/** HWIO view of a graph-layout value of weight `v` (a depthwise kernel's OIHW values are its [C, 1, kh, kw]). */
function tfjsLayout(v: tf.LayerVariable, data: Float32Array): Float32Array {
  const shape = v.shape.map((d) => d ?? 1);
  return shape.length === 4 ? oihwToHwio(data, shape) : data;
}

function maskShape(d: { shape: ReadonlyArray<string | number> }): number[] {
  return d.shape.slice(1).map((v) => (typeof v === 'number' ? v : 1));
}

/** Runs `steps` steps on both engines from the same weights; checks loss, gradients and weights after each. */
export async function parity(model: tf.LayersModel, c: Case): Promise<void> {
  const seed = c.seed ?? 7;
  const n = c.batch ?? 4;
  const lr = c.lr ?? 0.05;
  const training = c.training ?? true;
  seedWeights(model, seed);
  const trainer = await OnnxTrainer.create(model, { optimizer: c.optimizer, lr, momentum: 0.9, training, seed, threads: 1, gradients: true });
  const opt = c.optimizer === 'adam' ? new ScheduledAdam(lr, 0.9, 0.999) : tf.train.momentum(lr, 0.9);
  const vars = model.trainableWeights;
  const rng = new Rng(seed + 1);
  const inShape = (model.inputs[0]?.shape ?? []).slice(1).map((d) => d ?? 1);
  try {
    for (let s = 0; s < (c.steps ?? 1); s++) {
      const stepLr = c.lrs?.[s];
      if (stepLr !== undefined) {
        trainer.setLearningRate(stepLr);
        opt.setLearningRate(stepLr);
      }
      const xData = batchValues(rng, n, inShape, c.blocks);
      const labels = Array.from({ length: n }, (_, i) => (i + s) % 2);
      const weights = labels.map((l) => (l === 1 ? 1.5 : 0.75));
      const masks = new Map<string, Float32Array>();
      const maskIo = trainer.trainingGraph.steps[0]?.masks ?? [];
      for (const d of maskIo) masks.set(d.layer, Float32Array.from({ length: n * maskShape(d).reduce((a, b) => a * b, 1) }, () => (rng.next() < 0.6 ? 0 : 2.5)));
      const onnx = await trainer.stepValues(new ort.Tensor('float32', xData, [n, ...inShape]), labels, weights, masks);

      const x = tf.tensor(xData, [n, ...inShape]);
      const y = tf.tensor2d(labels, [n, 1]);
      const sw = tf.tensor2d(weights, [n, 1]);
      const tmasks = new Map([...masks].map(([layer, m]) => [layer, tf.tensor(m, [n, ...maskShape(maskIo.find((d) => d.layer === layer) ?? { shape: [] })])] as const));
      const tvars = vars.map((v) => {
        const t = v.read();
        if (!(t instanceof tf.Variable)) throw new Error('not a variable');
        return t;
      });
      const { value, grads } = tf.variableGrads(lossFn(model, x, y, sw, tmasks, training), tvars);
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
    // the eval graph (inference mode, its pools without indices) on the weights the steps left
    const xData = batchValues(rng, n, inShape, c.blocks);
    const x = tf.tensor(xData, [n, ...inShape]);
    const ours = await trainer.predict(n, (idx) => tf.gather(x, Array.from(idx)), n);
    const theirs = model.predict(x) as tf.Tensor;
    assertClose(ours, (await theirs.data()) as Float32Array, 'eval-graph probabilities');
    tf.dispose([x, theirs]);
  } finally {
    opt.dispose();
    await trainer.dispose();
  }
}

export function classifier(inShape: number[], body: (x: tf.SymbolicTensor) => tf.SymbolicTensor, name: string): tf.LayersModel {
  const x = tf.input({ shape: inShape });
  const out = ap(tf.layers.dense({ units: 1, activation: 'sigmoid', name: `${name}_out` }), body(x));
  return tf.model({ inputs: x, outputs: out, name });
}
