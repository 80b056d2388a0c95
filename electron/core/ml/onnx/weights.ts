/**
 * Weight-layout arithmetic between TensorFlow.js (NHWC activations, HWIO kernels) and ONNX (NCHW, OIHW),
 * batch-norm folding, and TensorFlow's `same` padding rule. Pure functions over Float32Arrays.
 */
import type * as tf from '@tensorflow/tfjs';

export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

/**
 * A layer's weights by their Keras name (`kernel`, `bias`, `gamma`, `moving_mean`, …). tfjs scopes a weight
 * name by its layer (`conv1_conv/kernel`) and may add a `_N` suffix when a name repeats across models.
 */
export function layerWeights(layer: tf.layers.Layer): Map<string, WeightArray> {
  const out = new Map<string, WeightArray>();
  for (const w of layer.weights) {
    const full = w.originalName;
    const base = full.slice(full.lastIndexOf('/') + 1).replace(/_\d+$/, '');
    const value = w.read();
    const data = value.dataSync();
    if (!(data instanceof Float32Array)) throw new Error(`${layer.name}: weight ${full} is not float32`);
    out.set(base, { shape: [...value.shape], data: data.slice() });
  }
  return out;
}

/** Conv2D kernel [kh, kw, in, out] → ONNX [out, in, kh, kw]. */
export function hwioToOihw(w: WeightArray): WeightArray {
  const [kh, kw, ci, co] = dims4(w.shape);
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = w.data[((y * kw + x) * ci + i) * co + o];
  return { shape: [co, ci, kh, kw], data: out };
}

/**
 * Depthwise kernel [kh, kw, C, m] → ONNX grouped-conv weight [C·m, 1, kh, kw]: with group = C, output
 * channel c·m + k is input channel c convolved with its k-th filter, the order TensorFlow uses.
 */
export function depthwiseToOnnx(w: WeightArray): WeightArray {
  const [kh, kw, c, m] = dims4(w.shape);
  const out = new Float32Array(w.data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < c; i++)
        for (let k = 0; k < m; k++) out[((i * m + k) * kh + y) * kw + x] = w.data[((y * kw + x) * c + i) * m + k];
  return { shape: [c * m, 1, kh, kw], data: out };
}

export interface BatchNormParams {
  gamma: Float32Array | null;
  beta: Float32Array | null;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** Per-channel scale and shift equivalent to inference-mode batch norm: y = x·scale + shift. */
export function batchNormAffine(bn: BatchNormParams): { scale: Float32Array; shift: Float32Array } {
  const n = bn.mean.length;
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    // float64 here, rounded once: keeps the folded weights as close as possible to tfjs's unfused result
    const s = (bn.gamma ? bn.gamma[c] : 1) / Math.sqrt(bn.variance[c] + bn.epsilon);
    scale[c] = s;
    shift[c] = (bn.beta ? bn.beta[c] : 0) - bn.mean[c] * s;
  }
  return { scale, shift };
}

/** Folds batch norm into an OIHW weight (output channel first) and its bias. */
export function foldIntoConv(
  weight: WeightArray,
  bias: Float32Array | null,
  bn: BatchNormParams,
): { weight: WeightArray; bias: Float32Array } {
  const o = weight.shape[0];
  if (bn.mean.length !== o) throw new Error(`batch norm has ${bn.mean.length} channels, the convolution ${o}`);
  const per = weight.data.length / o;
  const w = new Float32Array(weight.data.length);
  const b = new Float32Array(o);
  for (let c = 0; c < o; c++) {
    const s = (bn.gamma ? bn.gamma[c] : 1) / Math.sqrt(bn.variance[c] + bn.epsilon);
    for (let j = 0; j < per; j++) w[c * per + j] = weight.data[c * per + j] * s;
    b[c] = ((bias ? bias[c] : 0) - bn.mean[c]) * s + (bn.beta ? bn.beta[c] : 0);
  }
  return { weight: { shape: weight.shape, data: w }, bias: b };
}

/**
 * TensorFlow's `same` padding along one axis: the output is ceil(in / stride) and the odd pixel of padding,
 * if any, goes after (bottom/right), which ONNX's symmetric-by-default pads must be told explicitly.
 */
export function samePads(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(inSize / stride);
  const effective = (kernel - 1) * dilation + 1;
  const total = Math.max((out - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function dims4(shape: number[]): [number, number, number, number] {
  if (shape.length !== 4) throw new Error(`expected a 4-D kernel, got shape [${shape.join(', ')}]`);
  return [shape[0], shape[1], shape[2], shape[3]];
}
