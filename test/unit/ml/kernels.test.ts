/**
 * Our wasm kernels against the cpu backend's (the reference), kernel by kernel, then a tiny CNN's fit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../electron/core/ml/backend/backend';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type Inputs = Record<string, { shape: number[]; values: Float32Array }>;

/** Deterministic values in [-1, 1) (mulberry32). */
function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

function rand(shape: number[], seed: number): { shape: number[]; values: Float32Array } {
  return { shape, values: values(shape.reduce((p, q) => p * q, 1), seed) };
}

function wasmDataIds(): number {
  return tf.engine().backend.numDataIds();
}

interface Result {
  shape: number[];
  data: Float32Array;
}

/** Runs `kernel` on `backend` with fresh input tensors; checks that nothing outlives the call. */
async function runOn(backend: 'cpu' | 'wasm', kernel: string, inputs: Inputs, attrs: tf.NamedAttrMap): Promise<Result> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = wasmDataIds();
  const out = tf.engine().runKernel(kernel, tensors, attrs) as tf.Tensor;
  const result = { shape: out.shape, data: (await out.data()) as Float32Array };
  out.dispose();
  assert.equal(tf.memory().numTensors, tensorsBefore, `${kernel} on ${backend} leaked tensors`);
  assert.equal(wasmDataIds(), idsBefore, `${kernel} on ${backend} leaked backend buffers`);
  tf.dispose(Object.values(tensors));
  return result;
}

function assertClose(actual: Result, expected: Result, what: string, tol = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  let scale = 1;
  for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const d = Math.abs((actual.data[i] ?? NaN) - (expected.data[i] ?? NaN));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol * scale, `${what}: max |diff| ${worst} at ${at} > ${tol} × ${scale}`);
}

async function compare(kernel: string, inputs: Inputs, attrs: tf.NamedAttrMap, what: string): Promise<void> {
  const expected = await runOn('cpu', kernel, inputs, attrs);
  const actual = await runOn('wasm', kernel, inputs, attrs);
  assertClose(actual, expected, `${kernel} ${what}`);
}

function outSize(inSize: number, k: number, s: number, pad: Pad, axis: 1 | 2): number {
  if (pad === 'same') return Math.ceil(inSize / s);
  if (pad === 'valid') return Math.ceil((inSize - k + 1) / s);
  const [before, after] = pad[axis];
  return Math.floor((inSize + before + after - k) / s) + 1;
}

before(async () => {
  const info = await initBackend('wasm');
  assert.equal(info.name, 'wasm');
});

after(async () => {
  await tf.setBackend('wasm');
});

// [batch, height, width, in channels, out channels (or multiplier), kernel h, kernel w, stride, pad]
const CONV_CASES: Array<[number, number, number, number, number, number, number, number, Pad]> = [
  [2, 9, 9, 3, 4, 3, 3, 1, 'same'],
  [2, 9, 9, 3, 4, 3, 3, 1, 'valid'],
  [2, 9, 8, 3, 4, 3, 3, 2, 'same'],
  [3, 10, 9, 2, 5, 3, 3, 2, 'valid'],
  [2, 7, 7, 4, 3, 1, 1, 2, 'same'],
  [1, 8, 8, 4, 6, 1, 1, 1, 'valid'],
  [2, 11, 10, 3, 4, 5, 3, 2, 'same'],
  [1, 7, 7, 2, 3, 5, 5, 3, 'valid'],
  [2, 6, 6, 3, 2, 3, 3, 1, [[0, 0], [2, 1], [0, 2], [0, 0]]],
];

describe('Conv2D gradients on wasm equal the cpu backend', () => {
  for (const [b, h, w, c, o, kh, kw, s, pad] of CONV_CASES) {
    const what = `x ${[b, h, w, c]} filter ${[kh, kw, c, o]} stride ${s} pad ${JSON.stringify(pad)}`;
    const dyShape = [b, outSize(h, kh, s, pad, 1), outSize(w, kw, s, pad, 2), o];
    test(`Conv2DBackpropFilter ${what}`, async () => {
      const attrs = { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: [kh, kw, c, o] };
      await compare('Conv2DBackpropFilter', { x: rand([b, h, w, c], 1), dy: rand(dyShape, 2) }, attrs, what);
    });
    test(`Conv2DBackpropInput ${what}`, async () => {
      const attrs = { strides: [s, s], pad, dataFormat: 'NHWC', inputShape: [b, h, w, c] };
      await compare('Conv2DBackpropInput', { dy: rand(dyShape, 3), filter: rand([kh, kw, c, o], 4) }, attrs, what);
    });
  }
});

describe('DepthwiseConv2dNative gradients on wasm equal the cpu backend', () => {
  const cases: Array<[number, number, number, number, number, number, number, number, Pad]> = [
    [2, 9, 9, 3, 1, 3, 3, 1, 'same'],
    [2, 9, 8, 4, 1, 3, 3, 2, 'same'],
    [3, 10, 9, 2, 2, 3, 3, 1, 'valid'],
    [2, 11, 10, 3, 2, 5, 5, 2, 'valid'],
    [1, 8, 8, 5, 1, 3, 3, 2, 'valid'],
    // above 48² output positions the filter gradient takes the heap loop instead of a convolution
    [1, 50, 50, 2, 1, 3, 3, 1, 'same'],
    [2, 100, 98, 2, 2, 3, 3, 2, 'same'],
  ];
  for (const [b, h, w, c, m, kh, kw, s, pad] of cases) {
    const what = `x ${[b, h, w, c]} filter ${[kh, kw, c, m]} stride ${s} pad ${pad}`;
    const dyShape = [b, outSize(h, kh, s, pad, 1), outSize(w, kw, s, pad, 2), c * m];
    const common = { strides: [s, s], pad, dilations: [1, 1] };
    test(`DepthwiseConv2dNativeBackpropFilter ${what}`, async () => {
      const attrs = { ...common, filterShape: [kh, kw, c, m] };
      await compare('DepthwiseConv2dNativeBackpropFilter', { x: rand([b, h, w, c], 5), dy: rand(dyShape, 6) }, attrs, what);
    });
    test(`DepthwiseConv2dNativeBackpropInput ${what}`, async () => {
      const attrs = { ...common, inputShape: [b, h, w, c] };
      await compare('DepthwiseConv2dNativeBackpropInput', { dy: rand(dyShape, 7), filter: rand([kh, kw, c, m], 8) }, attrs, what);
    });
  }
});

describe('the other kernels a CNN fit needs', () => {
  const pools: Array<[number[], number, number, 'same' | 'valid']> = [
    [[2, 9, 9, 3], 2, 2, 'valid'],
    [[2, 8, 7, 4], 2, 2, 'same'],
    [[1, 9, 9, 2], 3, 2, 'same'],
    [[2, 6, 6, 3], 3, 1, 'valid'],
  ];
  for (const [shape, size, stride, pad] of pools) {
    test(`MaxPoolGrad x ${shape} pool ${size} stride ${stride} ${pad}`, async () => {
      // Quantised values make ties, where the gradient must go to the window's first maximum.
      const x = rand(shape, 9);
      x.values = x.values.map((v) => Math.round(v * 2) / 2);
      await tf.setBackend('cpu');
      const y = tf.maxPool(tf.tensor4d(x.values, shape as [number, number, number, number]), size, stride, pad);
      const output = { shape: y.shape, values: (await y.data()) as Float32Array };
      y.dispose();
      const attrs = { filterSize: [size, size], strides: [stride, stride], pad };
      await compare('MaxPoolGrad', { dy: rand(output.shape, 10), input: x, output }, attrs, `${shape}`);
    });
  }

  test('Sum over leading axes (bias gradients) and over others', async () => {
    const x = rand([3, 5, 4, 6], 11);
    await compare('Sum', { x }, { axis: [0, 1, 2], keepDims: false }, '[0,1,2]');
    await compare('Sum', { x }, { axis: [1, 0], keepDims: true }, '[1,0] keepDims');
    await compare('Sum', { x }, { axis: [1, 3], keepDims: false }, '[1,3] (shipped path)');
  });

  test('BatchMatMul with transposed operands', async () => {
    for (const [ta, tb] of [
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const a = rand(ta ? [7, 5] : [5, 7], 12);
      const b = rand(tb ? [3, 7] : [7, 3], 13);
      await compare('BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb }, `2-D ${ta} ${tb}`);
      const a3 = rand(ta ? [2, 7, 5] : [2, 5, 7], 14);
      const b3 = rand(tb ? [2, 3, 7] : [2, 7, 3], 15);
      await compare('BatchMatMul', { a: a3, b: b3 }, { transposeA: ta, transposeB: tb }, `3-D ${ta} ${tb}`);
    }
    // One large flagged operand: computed as (op(B)ᵀ·op(A)ᵀ)ᵀ, transposing the small result instead.
    await compare('BatchMatMul', { a: rand([3, 4], 16), b: rand([50, 4], 17) }, { transposeA: false, transposeB: true }, 'dy·Wᵀ');
    await compare('BatchMatMul', { a: rand([4, 50], 18), b: rand([4, 3], 19) }, { transposeA: true, transposeB: false }, 'Aᵀ·B');
    await compare('BatchMatMul', { a: rand([2, 3, 4], 20), b: rand([2, 50, 4], 21) }, { transposeA: false, transposeB: true }, '3-D dy·Wᵀ');
  });
});

describe('a tiny CNN trains the same on wasm as on cpu', () => {
  function build(): tf.Sequential {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tf.layers.separableConv2d({ filters: 6, kernelSize: 3, activation: 'relu', strides: 2 }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
    m.compile({ optimizer: tf.train.sgd(0.1), loss: 'binaryCrossentropy' });
    return m;
  }

  async function losses(backend: 'cpu' | 'wasm', weights: Float32Array[]): Promise<number[]> {
    await tf.setBackend(backend);
    const model = build();
    const initial = weights.map((w, i) => tf.tensor(w, model.getWeights()[i]?.shape));
    model.setWeights(initial);
    tf.dispose(initial);
    const xs = tf.tensor4d(values(8 * 12 * 12 * 3, 21), [8, 12, 12, 3]);
    const ys = tf.tensor2d(Array.from({ length: 8 }, (_, i) => i % 2), [8, 1]);
    const before = tf.memory().numTensors;
    const history = await model.fit(xs, ys, { epochs: 4, batchSize: 4, shuffle: false, verbose: 0 });
    const after = tf.memory().numTensors;
    tf.dispose([xs, ys]);
    model.dispose();
    assert.equal(after, before, `fit on ${backend} left ${after - before} tensors behind`);
    return history.history.loss as number[];
  }

  test('fit: the loss trajectories agree', async () => {
    await tf.setBackend('cpu');
    const template = build();
    const weights = template.getWeights().map((w, i) => {
      const v = values(w.size, 100 + i);
      return v.map((x) => x * 0.3);
    });
    template.dispose();
    const onCpu = await losses('cpu', weights);
    const onWasm = await losses('wasm', weights);
    assert.equal(onWasm.length, 4);
    for (let i = 0; i < onCpu.length; i++) {
      const a = onWasm[i] ?? NaN;
      const e = onCpu[i] ?? NaN;
      assert.ok(Math.abs(a - e) <= 1e-4 * Math.max(1, Math.abs(e)), `epoch ${i}: wasm loss ${a} vs cpu ${e}`);
    }
    assert.ok((onCpu[3] ?? 0) < (onCpu[0] ?? 0), `the loss should fall: ${onCpu.join(', ')}`);
  });
});
