/**
 * Forward and backward of each step kind in standard ONNX operators. Activations are NCHW inside the
 * graph ([C, H, W] shapes) or flat ([D]). Backward rules, as TensorFlow.js differentiates the same layers:
 * - Conv2D: the input gradient is a ConvTranspose with the same weight, window and pads; the filter gradient
 *   is a Conv over swapped axes (the input as C images of B channels, the output gradient as F filters of
 *   B channels), with the forward stride as the dilation; the bias gradient sums over batch and space.
 * - MaxPool: the gradient goes to the element each window picked (MaxPool's indices) by a scatter.
 * - Dense: closed forms with Gemm's transposes. ReLU: the gradient where the output is positive.
 * - Flatten, GlobalAveragePooling, Dropout (a mask fed in): reshapes, broadcasts, the same mask.
 */
import type { AttrValue, GraphBuilder } from '../graph-builder';
import { backwardDag, forwardDag, isDagStep } from './layers-dag';
import { stepInputs, UnsupportedTrainingError, type Shape, type Step, type Window } from './plan';

export interface GValue {
  name: string;
  shape: Shape;
}

export interface LayerContext {
  b: GraphBuilder;
  /** The graph name of a weight (an input when it trains, a constant when frozen). */
  param(name: string): string;
  ints(values: number[]): string;
  scalar(value: number): string;
  /** The dropout mask input of a layer, or null when dropout is off. */
  mask(layer: string): string | null;
  /**
   * Gradients with a smaller stand-in for their per-channel sum: a max pool's input gradient (a scatter of
   * the pooled gradient, so each channel sums to the same) maps to the pooled one, 4× fewer values for a
   * bias gradient to add up. Reset every micro-step.
   */
  channelSums: Map<string, string>;
  /** Gradients that are one Gemm (a Dense kernel's), by name: an optimizer can fold its own sum into it (Gemm's β·C). */
  gemmGrads: Map<string, GemmForm>;
  /** Max pools also output their indices (a backward reads them); ONNX Runtime's pool without them runs ~7× faster. */
  readonly poolIndices: boolean;
}

/** A Gemm's two matrix inputs and attributes (its C and β left to whoever adds to it). */
export interface GemmForm {
  inputs: [string, string];
  attrs: Record<string, AttrValue>;
}

/** What a step's forward leaves for its backward. */
export interface Saved {
  x: GValue;
  y: GValue;
  indices?: string;
  mask?: string | null;
  /** A max pool whose input is a ReLU that nothing else reads: the pool's backward applies the ReLU's too. */
  reluBelow?: boolean;
  /** Every input of a merge or a concatenation. */
  xs?: GValue[];
  /** Intermediate values a backward reuses (batch norm's x̂ and √(var + ε)). */
  extra?: Record<string, string>;
}

function only<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`internal: ${what} missing`);
  return v;
}

/** A step's forward on its inputs (stepInputs order). */
export function forward(ctx: LayerContext, step: Step, xs: readonly GValue[]): Saved {
  if (isDagStep(step)) return forwardDag(ctx, step, xs);
  const [x] = xs;
  if (!x) throw new Error(`internal: ${step.layer} has no input`);
  return forwardOne(ctx, step, x);
}

function forwardOne(ctx: LayerContext, step: Exclude<Step, { kind: 'depthwise' | 'batchNorm' | 'avgPool' | 'merge' | 'concat' }>, x: GValue): Saved {
  const { b } = ctx;
  const out = (name: string): GValue => ({ name, shape: step.outShape });
  switch (step.kind) {
    case 'conv': {
      const w = step.window;
      const inputs = [x.name, ctx.param(step.kernel), ...(step.bias ? [ctx.param(step.bias)] : [])];
      const y = b.node('Conv', inputs, step.layer, { kernel_shape: w.kernel, strides: w.strides, dilations: w.dilations, pads: w.pads });
      return { x, y: out(y) };
    }
    case 'maxPool': {
      const w = step.window;
      if (!ctx.poolIndices) return { x, y: out(b.node('MaxPool', [x.name], step.layer, { kernel_shape: w.kernel, strides: w.strides, pads: w.pads })) };
      const [y, indices] = b.nodeOutputs('MaxPool', [x.name], [step.layer, `${step.layer}_argmax`], { kernel_shape: w.kernel, strides: w.strides, pads: w.pads });
      return { x, y: out(only(y, 'pool output')), indices: only(indices, 'pool indices') };
    }
    case 'globalAvgPool': {
      const p = b.node('GlobalAveragePool', [x.name], `${step.layer}_4d`);
      return { x, y: out(b.node('Flatten', [p], step.layer, { axis: 1 })) };
    }
    case 'flatten': {
      if (x.shape.length === 1) return { x, y: out(x.name) };
      // tfjs flattens NHWC, in (H, W, C) order
      const nhwc = b.node('Transpose', [x.name], `${step.layer}_nhwc`, { perm: [0, 2, 3, 1] });
      return { x, y: out(b.node('Flatten', [nhwc], step.layer, { axis: 1 })) };
    }
    case 'dense': {
      const inputs = [x.name, ctx.param(step.kernel), ...(step.bias ? [ctx.param(step.bias)] : [])];
      return { x, y: out(b.node(step.bias ? 'Gemm' : 'MatMul', inputs, step.layer)) };
    }
    case 'dropout': {
      const m = step.rate > 0 ? ctx.mask(step.layer) : null;
      if (m === null) return { x, y: out(x.name), mask: null };
      const mask = x.shape.length === 3 ? b.node('Transpose', [m], `${step.layer}_mask_nchw`, { perm: [0, 3, 1, 2] }) : m;
      return { x, y: out(b.node('Mul', [x.name, mask], step.layer)), mask };
    }
    case 'activation':
      if (step.activation === 'linear') return { x, y: out(x.name) };
      return { x, y: out(b.node(step.activation === 'relu' ? 'Relu' : 'Sigmoid', [x.name], `${step.layer}_${step.activation}`)) };
  }
}

export interface StepGrads {
  /** Gradient of the step's input (null when nothing upstream needs it). */
  dx: string | null;
  /** Gradients of the step's trainable weights, by weight name. */
  params: Array<[string, string]>;
}

export interface AllGrads {
  /** One per input (stepInputs order); null where nothing upstream needs it. */
  dxs: Array<string | null>;
  params: Array<[string, string]>;
}

/** The gradients w.r.t. a step's inputs and weights given `dy`, the gradient of its output; `needs` per input. */
export function backward(ctx: LayerContext, step: Step, s: Saved, dy: string, needs: readonly boolean[], trains: (param: string) => boolean): AllGrads {
  if (isDagStep(step)) return backwardDag(ctx, step, s, dy, needs, trains);
  if (stepInputs(step).length !== 1) throw new Error(`internal: ${step.layer} has several inputs`);
  const r = backwardOne(ctx, step, s, dy, needs[0] === true, trains);
  return { dxs: [r.dx], params: r.params };
}

function backwardOne(ctx: LayerContext, step: Exclude<Step, { kind: 'depthwise' | 'batchNorm' | 'avgPool' | 'merge' | 'concat' }>, s: Saved, dy: string, needDx: boolean, trains: (param: string) => boolean): StepGrads {
  const { b } = ctx;
  const n = step.layer;
  switch (step.kind) {
    case 'conv': {
      const params: Array<[string, string]> = [];
      // Σ over batch and space; a pooled stand-in (ctx.channelSums) has the same sums in fewer values
      const sums = ctx.channelSums.get(dy) ?? dy;
      if (step.bias && trains(step.bias)) params.push([step.bias, b.node('ReduceSum', [sums, ctx.ints([0, 2, 3])], `${n}_dbias`, { keepdims: 0 })]);
      if (trains(step.kernel)) params.push([step.kernel, convFilterGrad(ctx, step, s.x, dy)]);
      return { dx: needDx ? convInputGrad(ctx, step, dy) : null, params };
    }
    case 'maxPool': {
      if (!needDx) return { dx: null, params: [] };
      const w = step.window;
      const shape = b.node('Shape', [s.x.name], `${n}_xshape`);
      const indices = only(s.indices, 'indices');
      // a ReLU the pool alone reads: its gradient is where the window's maximum is positive (4× fewer values)
      const d = s.reluBelow ? reluGrad(ctx, dy, s.y.name, `${n}_dy_relu`) : dy;
      if (w.kernel[0] <= w.strides[0] && w.kernel[1] <= w.strides[1]) {
        // windows do not overlap: every element is picked at most once, and MaxUnpool is exactly the scatter
        const dx = b.node('MaxUnpool', [d, indices, shape], `${n}_dx`, { kernel_shape: w.kernel, strides: w.strides, pads: w.pads });
        ctx.channelSums.set(dx, d);
        return { dx, params: [] };
      }
      // overlapping windows can pick one element twice: a scatter that adds
      const zeros = b.node('ConstantOfShape', [b.node('ReduceProd', [shape], `${n}_size`, { keepdims: 1 })], `${n}_zeros`);
      const flat = (v: string, what: string): string => b.node('Reshape', [v, ctx.ints([-1])], `${n}_${what}_flat`);
      const scattered = b.node('ScatterElements', [zeros, flat(indices, 'argmax'), flat(d, 'dy')], `${n}_dx_flat`, { axis: 0, reduction: 'add' });
      const dx = b.node('Reshape', [scattered, shape], `${n}_dx`);
      ctx.channelSums.set(dx, d);
      return { dx, params: [] };
    }
    case 'globalAvgPool': {
      if (!needDx) return { dx: null, params: [] };
      const [c, h, w] = s.x.shape;
      const d4 = b.node('Reshape', [dy, ctx.ints([-1, c ?? 0, 1, 1])], `${n}_dy4`);
      const mean = b.node('Div', [d4, ctx.scalar((h ?? 1) * (w ?? 1))], `${n}_dymean`);
      return { dx: b.node('Expand', [mean, b.node('Shape', [s.x.name], `${n}_xshape`)], `${n}_dx`), params: [] };
    }
    case 'flatten': {
      if (!needDx) return { dx: null, params: [] };
      if (s.x.shape.length === 1) return { dx: dy, params: [] };
      const [c, h, w] = s.x.shape;
      const nhwc = b.node('Reshape', [dy, ctx.ints([-1, h ?? 0, w ?? 0, c ?? 0])], `${n}_dnhwc`);
      return { dx: b.node('Transpose', [nhwc], `${n}_dx`, { perm: [0, 3, 1, 2] }), params: [] };
    }
    case 'dense': {
      const params: Array<[string, string]> = [];
      if (trains(step.kernel)) {
        const form: GemmForm = { inputs: [s.x.name, dy], attrs: { transA: 1 } };
        const g = b.node('Gemm', form.inputs, `${n}_dkernel`, form.attrs);
        ctx.gemmGrads.set(g, form);
        params.push([step.kernel, g]);
      }
      if (step.bias && trains(step.bias)) params.push([step.bias, b.node('ReduceSum', [dy, ctx.ints([0])], `${n}_dbias`, { keepdims: 0 })]);
      const dx = needDx ? b.node('Gemm', [dy, ctx.param(step.kernel)], `${n}_dx`, { transB: 1 }) : null;
      return { dx, params };
    }
    case 'dropout':
      if (!needDx) return { dx: null, params: [] };
      return { dx: s.mask ? b.node('Mul', [dy, s.mask], `${n}_dx`) : dy, params: [] };
    case 'activation': {
      if (!needDx) return { dx: null, params: [] };
      if (step.activation === 'linear') return { dx: dy, params: [] };
      if (step.activation === 'relu') {
        // tfjs: dy · step(x); the output is positive exactly where the input is
        return { dx: reluGrad(ctx, dy, s.y.name, `${n}_drelu`), params: [] };
      }
      const oneMinus = b.node('Sub', [ctx.scalar(1), s.y.name], `${n}_1my`);
      return { dx: b.node('Mul', [dy, b.node('Mul', [s.y.name, oneMinus], `${n}_dsig`)], `${n}_dx`), params: [] };
    }
  }
}

/**
 * dy · (y > 0), y a ReLU's output (or its max pool's): TensorFlow.js's dy · step(x). As a cast of the
 * comparison, not Sign(y): ONNX Runtime's Sign runs ~3× slower than Greater + Cast together.
 */
export function reluGrad(ctx: LayerContext, dy: string, y: string, name: string): string {
  const { b } = ctx;
  const on = b.node('Cast', [b.node('Greater', [y, ctx.scalar(0)], `${name}_gt`)], `${name}_on`, { to: 1 });
  return b.node('Mul', [dy, on], name);
}

/**
 * Σ over the batch axis of v (rank ≥ 2) as one product with a row of ones, shaped `shape`: ONNX Runtime's
 * ReduceSum over a leading axis runs ~10× slower than this GEMV.
 */
export function batchSum(ctx: LayerContext, v: string, shape: number[], name: string): string {
  const { b } = ctx;
  const rows = b.node('Reshape', [v, ctx.ints([0, -1])], `${name}_rows`);
  const ones = b.node('Expand', [ctx.scalar(1), b.node('Concat', [ctx.ints([1]), b.node('Shape', [v], `${name}_batch`, { start: 0, end: 1 })], `${name}_ones_shape`, { axis: 0 })], `${name}_ones`);
  return b.node('Reshape', [b.node('MatMul', [ones, rows], `${name}_row`), ctx.ints(shape)], name);
}

type ConvStep = Extract<Step, { kind: 'conv' }>;

/** How a conv's filter gradient sums over the batch: see convFilterGrad. */
export type FilterGradForm = 'per-image' | 'one-gemm';

/**
 * The cheaper way to sum dL/dW over the batch, by the values each writes beyond the im2col itself:
 * 'per-image' writes a [C·kh·kw, F] product per image and sums them (B·C·kh·kw·F values), 'one-gemm'
 * transposes the columns and the output gradient so the batch and the positions are one contraction
 * (B·Ho·Wo·(C·kh·kw + F) values). A scratch CNN's early layers (128² positions, few filters) are per-image;
 * an InceptionV3 top above its cut (5×5 positions, 1,280 channels, 320 filters) is one GEMM: ~10× fewer
 * values, and a GEMM whose inner dimension is 800 instead of 25.
 */
export function filterGradForm(rows: number, filters: number, positions: number): FilterGradForm {
  return rows * filters <= positions * (rows + filters) ? 'per-image' : 'one-gemm';
}

/**
 * dL/dW[:, :, i, j] = Σ_b dY_b · tap_ij(x_b)ᵀ, where tap_ij is the padded input shifted by kernel tap (i, j)
 * and strided like the output. All taps at once come from a depthwise Conv with one-hot kernels (group = C,
 * C·kh·kw outputs: an im2col that ONNX Runtime runs multi-threaded with its fast depthwise kernels, ~3×
 * faster than a strided Slice per tap); a 1×1 kernel at stride 1 without padding needs none (the input is
 * its own columns). Then a GEMM in the form filterGradForm picks. A Conv over swapped axes computes the
 * same sum but leaves ONNX Runtime a GEMM with kh·kw columns (~5× slower).
 */
function convFilterGrad(ctx: LayerContext, step: ConvStep, x: GValue, dy: string): string {
  const [f = 0, ho = 0, wo = 0] = step.outShape;
  const cols = convColumns(ctx, step.layer, x, step.window, `${step.layer}_im2col`);
  return filterGrad(ctx, { name: step.layer, channels: x.shape[0] ?? 0, filters: f, kernel: step.window.kernel, positions: ho * wo }, cols, dy);
}

/** What filterGrad needs to know of a conv (or of one phase of it). */
export interface FilterGradShape {
  /** Prefix of the values it names. */
  name: string;
  channels: number;
  filters: number;
  kernel: [number, number];
  /** Output positions (Ho·Wo) the columns and the output gradient cover. */
  positions: number;
}

/**
 * dL/dW, [F, C, kh, kw], from the conv's columns ([B, C·kh·kw, Ho, Wo], convColumns) and its output
 * gradient ([B, F, Ho, Wo]), as one GEMM in the form filterGradForm picks.
 */
export function filterGrad(ctx: LayerContext, g: FilterGradShape, columns: string, dy: string): string {
  const { b } = ctx;
  const { name: n, channels: c, filters: f, kernel, positions } = g;
  const rows = c * kernel[0] * kernel[1];
  // [B, C·kh·kw, Ho·Wo], rows in (channel, tap) order
  const cols = b.node('Reshape', [columns, ctx.ints([0, rows, positions])], `${n}_cols`);
  const dy3 = b.node('Reshape', [dy, ctx.ints([0, f, positions])], `${n}_dy3`);
  if (filterGradForm(rows, f, positions) === 'one-gemm') {
    const flat = (v: string, width: number, what: string): string =>
      b.node('Reshape', [b.node('Transpose', [v], `${n}_${what}_t`, { perm: [1, 0, 2] }), ctx.ints([width, -1])], `${n}_${what}_flat`);
    const gemm = b.node('Gemm', [flat(dy3, f, 'dy'), flat(cols, rows, 'cols')], `${n}_dk_fc`, { transB: 1 });
    return b.node('Reshape', [gemm, ctx.ints([f, c, kernel[0], kernel[1]])], `${n}_dkernel`);
  }
  // the smaller of C·kh·kw and F is the GEMM's row count: ONNX Runtime's kernels waste far less on few rows than on few columns
  if (rows <= f) {
    const prod = b.node('MatMul', [cols, b.node('Transpose', [dy3], `${n}_dy3t`, { perm: [0, 2, 1] })], `${n}_dk_b`);
    const chwf = batchSum(ctx, prod, [c, kernel[0], kernel[1], f], `${n}_dkernel_chwf`);
    return b.node('Transpose', [chwf], `${n}_dkernel`, { perm: [3, 0, 1, 2] });
  }
  const prod = b.node('MatMul', [dy3, b.node('Transpose', [cols], `${n}_cols_t`, { perm: [0, 2, 1] })], `${n}_dk_b`);
  return batchSum(ctx, prod, [f, c, kernel[0], kernel[1]], `${n}_dkernel`);
}

/**
 * The im2col of a conv's input over `window`, [B, C·kh·kw, Ho, Wo]: the input itself for a 1×1 kernel at
 * stride 1 without padding.
 */
export function convColumns(ctx: LayerContext, layer: string, x: GValue, window: Window, name: string): string {
  const { kernel, strides, dilations, pads } = window;
  if (kernel[0] === 1 && kernel[1] === 1 && strides[0] === 1 && strides[1] === 1 && pads.every((p) => p === 0)) return x.name;
  const [c = 0] = x.shape;
  const taps = kernel[0] * kernel[1];
  const eye = new Float32Array(c * taps * taps);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < taps; t++) eye[(ch * taps + t) * taps + t] = 1;
  const onehot = ctx.b.floats(`${layer}_taps_eye`, [c * taps, 1, kernel[0], kernel[1]], eye);
  return ctx.b.node('Conv', [x.name, onehot], name, { group: c, kernel_shape: kernel, strides, dilations, pads });
}

/**
 * dL/dx. Stride 1: a Conv of the output gradient with the kernel transposed (in ↔ out) and flipped, padded
 * by the rest of the kernel's extent: the same sum as ConvTranspose, which ONNX Runtime runs ~4× slower.
 * Strided: ConvTranspose, output_padding restoring rows the strided windows skipped.
 */
function convInputGrad(ctx: LayerContext, step: ConvStep, dy: string): string {
  const { b } = ctx;
  const { kernel, strides, dilations, pads } = step.window;
  const n = step.layer;
  const extent = [(kernel[0] - 1) * dilations[0], (kernel[1] - 1) * dilations[1]] as const;
  const fullPads = [extent[0] - pads[0], extent[1] - pads[1], extent[0] - pads[2], extent[1] - pads[3]];
  if (strides[0] === 1 && strides[1] === 1 && fullPads.every((p) => p >= 0)) {
    const swapped = b.node('Transpose', [ctx.param(step.kernel)], `${n}_kernel_t`, { perm: [1, 0, 2, 3] });
    // only the axes longer than 1 flip (a 1×1, 1×n or n×1 kernel copies less, or nothing)
    const axes = [2, 3].filter((_, i) => kernel[i]! > 1);
    const flipped =
      axes.length === 0
        ? swapped
        : b.node('Slice', [swapped, ctx.ints(axes.map(() => -1)), ctx.ints(axes.map((a) => -(kernel[a - 2]! + 1))), ctx.ints(axes), ctx.ints(axes.map(() => -1))], `${n}_kernel_flip`);
    return b.node('Conv', [dy, flipped], `${n}_dx`, { kernel_shape: kernel, dilations, pads: fullPads });
  }
  const [, h = 0, w = 0] = step.inShape;
  const [, ho = 0, wo = 0] = step.outShape;
  const opH = h - ((ho - 1) * strides[0] + extent[0] + 1 - pads[0] - pads[2]);
  const opW = w - ((wo - 1) * strides[1] + extent[1] + 1 - pads[1] - pads[3]);
  if (opH < 0 || opW < 0 || opH >= Math.max(strides[0], dilations[0]) || opW >= Math.max(strides[1], dilations[1])) {
    throw new UnsupportedTrainingError(`layer "${step.layer}" (Conv2D)`, `its input gradient needs output padding [${opH}, ${opW}]`);
  }
  return b.node('ConvTranspose', [dy, ctx.param(step.kernel)], `${n}_dx`, {
    kernel_shape: kernel,
    strides,
    dilations,
    pads,
    ...(opH > 0 || opW > 0 ? { output_padding: [opH, opW] } : {}),
  });
}
