/**
 * Convolutions (Conv2D, DepthwiseConv2D, SeparableConv2D) with batch norm folded in, stand-alone batch norm,
 * ZeroPadding2D (folded into the next convolution's pads where it only feeds convolutions) and pooling.
 */
import { emitActivation } from './convert-activations';
import type { AttrValue } from './graph-builder';
import {
  cfgNumber,
  cfgPair,
  cfgString,
  config,
  requireChannelsLast,
  spatial,
  UnsupportedLayerError,
  type Call,
  type ConvertContext,
  type Converter,
  type Value,
} from './context';
import {
  depthwiseToOnnx,
  foldIntoConv,
  hwioToOihw,
  layerWeights,
  samePads,
  type BatchNormParams,
  type WeightArray,
} from './weights';

const CONV_CLASSES = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);

type Pads4 = [number, number, number, number];

interface ConvSpec {
  x: string;
  weight: WeightArray;
  bias: Float32Array | null;
  group: number;
  strides: [number, number];
  dilations: [number, number];
  /** [top, bottom, left, right] */
  pads: Pads4;
}

function need<T>(call: Call, value: T | undefined, what: string): T {
  if (value === undefined) throw new UnsupportedLayerError(call.layer.name, call.className, `missing weight ${what}`);
  return value;
}

function nchwInput(ctx: ConvertContext, call: Call): Value {
  const v = ctx.value(call.inputs[0]);
  if (v.layout !== 'nchw') throw new UnsupportedLayerError(call.layer.name, call.className, 'expects a 4-D image input');
  return v;
}

/** Explicit [top, bottom, left, right] pads for Keras `padding` on this call's input, plus folded zero padding. */
function convPads(call: Call, kernel: [number, number], strides: [number, number], dilations: [number, number], pending?: Pads4): Pads4 {
  const padding = cfgString(call, 'padding', 'valid');
  let pads: Pads4 = [0, 0, 0, 0];
  if (padding === 'same') {
    const [h, w] = spatial(call);
    const [t, bo] = samePads(h, kernel[0], strides[0], dilations[0]);
    const [l, r] = samePads(w, kernel[1], strides[1], dilations[1]);
    pads = [t, bo, l, r];
  } else if (padding !== 'valid') {
    throw new UnsupportedLayerError(call.layer.name, call.className, `padding "${padding}"`);
  }
  if (pending) pads = [pads[0] + pending[0], pads[1] + pending[1], pads[2] + pending[2], pads[3] + pending[3]];
  return pads;
}

function emitConvNode(ctx: ConvertContext, name: string, spec: ConvSpec): string {
  const [o, , kh, kw] = spec.weight.shape;
  const inputs = [spec.x, ctx.b.floats(`${name}_W`, spec.weight.shape, spec.weight.data)];
  if (spec.bias) inputs.push(ctx.b.floats(`${name}_B`, [o], spec.bias));
  const [t, bo, l, r] = spec.pads;
  return ctx.b.node('Conv', inputs, name, {
    kernel_shape: [kh, kw],
    strides: spec.strides,
    dilations: spec.dilations,
    pads: [t, l, bo, r],
    group: spec.group,
  });
}

function bnParams(call: Call): BatchNormParams {
  const w = layerWeights(call.layer);
  const mean = need(call, w.get('moving_mean'), 'moving_mean').data;
  const variance = need(call, w.get('moving_variance'), 'moving_variance').data;
  return {
    gamma: w.get('gamma')?.data ?? null,
    beta: w.get('beta')?.data ?? null,
    mean,
    variance,
    epsilon: cfgNumber(call, 'epsilon', 1e-3),
  };
}

function isChannelBatchNorm(call: Call): boolean {
  if (call.className !== 'BatchNormalization') return false;
  const raw = config(call).axis;
  const axis = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  const rank = call.inShapes[0].length;
  return axis === -1 || axis === rank - 1;
}

/**
 * Emits a convolution, its bias, the batch norm that alone reads it (folded into weight and bias), and its
 * activation. The value is registered under the batch norm's output when one was folded.
 */
function finishConv(ctx: ConvertContext, call: Call, spec: ConvSpec, activation: string): void {
  let outKey = call.output;
  let name = call.layer.name;
  const readers = ctx.consumers(call.output);
  const bn = readers.length === 1 ? readers[0] : undefined;
  if (ctx.foldBatchNorm && activation === 'linear' && bn && isChannelBatchNorm(bn) && !ctx.isGraphOutput(call.output)) {
    const folded = foldIntoConv(spec.weight, spec.bias, bnParams(bn));
    spec = { ...spec, weight: folded.weight, bias: folded.bias };
    ctx.skip(bn);
    outKey = bn.output;
    name = `${call.layer.name}+${bn.layer.name}`;
  }
  const conv = emitConvNode(ctx, name, spec);
  const out = emitActivation(ctx, call, activation, conv, `${call.layer.name}_${activation}`);
  ctx.setValue(outKey, { name: out, layout: 'nchw' });
}

function biasOf(call: Call, w: Map<string, WeightArray>): Float32Array | null {
  if (config(call).useBias === false) return null;
  return need(call, w.get('bias'), 'bias').data;
}

const conv2d: Converter = (ctx, call) => {
  requireChannelsLast(call);
  const x = nchwInput(ctx, call);
  const w = layerWeights(call.layer);
  const kernel = need(call, w.get('kernel'), 'kernel');
  const k: [number, number] = [kernel.shape[0], kernel.shape[1]];
  const strides = cfgPair(call, 'strides', [1, 1]);
  const dilations = cfgPair(call, 'dilationRate', [1, 1]);
  const spec: ConvSpec = {
    x: x.name,
    weight: hwioToOihw(kernel),
    bias: biasOf(call, w),
    group: 1,
    strides,
    dilations,
    pads: convPads(call, k, strides, dilations, x.pendingPads),
  };
  finishConv(ctx, call, spec, cfgString(call, 'activation', 'linear'));
};

const depthwiseConv2d: Converter = (ctx, call) => {
  requireChannelsLast(call);
  const x = nchwInput(ctx, call);
  const w = layerWeights(call.layer);
  const kernel = need(call, w.get('depthwise_kernel'), 'depthwise_kernel');
  const k: [number, number] = [kernel.shape[0], kernel.shape[1]];
  const strides = cfgPair(call, 'strides', [1, 1]);
  const dilations = cfgPair(call, 'dilationRate', [1, 1]);
  const spec: ConvSpec = {
    x: x.name,
    weight: depthwiseToOnnx(kernel),
    bias: biasOf(call, w),
    group: kernel.shape[2],
    strides,
    dilations,
    pads: convPads(call, k, strides, dilations, x.pendingPads),
  };
  finishConv(ctx, call, spec, cfgString(call, 'activation', 'linear'));
};

/** Depthwise Conv with group = C (padding, strides, dilation), then a pointwise 1×1 Conv carrying the bias. */
const separableConv2d: Converter = (ctx, call) => {
  requireChannelsLast(call);
  const x = nchwInput(ctx, call);
  const w = layerWeights(call.layer);
  const dw = need(call, w.get('depthwise_kernel'), 'depthwise_kernel');
  const pw = need(call, w.get('pointwise_kernel'), 'pointwise_kernel');
  const k: [number, number] = [dw.shape[0], dw.shape[1]];
  const strides = cfgPair(call, 'strides', [1, 1]);
  const dilations = cfgPair(call, 'dilationRate', [1, 1]);
  const depthwise = emitConvNode(ctx, `${call.layer.name}_depthwise`, {
    x: x.name,
    weight: depthwiseToOnnx(dw),
    bias: null,
    group: dw.shape[2],
    strides,
    dilations,
    pads: convPads(call, k, strides, dilations, x.pendingPads),
  });
  const spec: ConvSpec = {
    x: depthwise,
    weight: hwioToOihw(pw),
    bias: biasOf(call, w),
    group: 1,
    strides: [1, 1],
    dilations: [1, 1],
    pads: [0, 0, 0, 0],
  };
  finishConv(ctx, call, spec, cfgString(call, 'activation', 'linear'));
};

const batchNorm: Converter = (ctx, call) => {
  const v = ctx.value(call.inputs[0]);
  if (v.layout === 'nchw' && !isChannelBatchNorm(call)) {
    throw new UnsupportedLayerError(call.layer.name, call.className, 'batch norm over a spatial axis');
  }
  const p = bnParams(call);
  const n = p.mean.length;
  const b = ctx.b;
  const name = call.layer.name;
  const out = b.node(
    'BatchNormalization',
    [
      v.name,
      b.floats(`${name}_gamma`, [n], p.gamma ?? new Float32Array(n).fill(1)),
      b.floats(`${name}_beta`, [n], p.beta ?? new Float32Array(n)),
      b.floats(`${name}_mean`, [n], p.mean),
      b.floats(`${name}_var`, [n], p.variance),
    ],
    name,
    { epsilon: { float: p.epsilon } },
  );
  ctx.setValue(call.output, { name: out, layout: v.layout });
};

function zeroPads(call: Call): Pads4 {
  const p = config(call).padding;
  if (typeof p === 'number') return [p, p, p, p];
  if (Array.isArray(p) && p.length === 2) {
    const [hp, wp] = p;
    const pair = (q: unknown): [number, number] => {
      if (typeof q === 'number') return [q, q];
      if (Array.isArray(q) && typeof q[0] === 'number' && typeof q[1] === 'number') return [q[0], q[1]];
      throw new UnsupportedLayerError(call.layer.name, call.className, `padding ${JSON.stringify(p)}`);
    };
    const [t, bo] = pair(hp);
    const [l, r] = pair(wp);
    return [t, bo, l, r];
  }
  throw new UnsupportedLayerError(call.layer.name, call.className, `padding ${JSON.stringify(p)}`);
}

/** Emits a Pad for zero padding that could not be folded (e.g. before a max pool, where it is not −∞). */
export function materialize(ctx: ConvertContext, v: Value, name: string): Value {
  if (!v.pendingPads) return v;
  const [t, bo, l, r] = v.pendingPads;
  const pads = ctx.b.int64s(`${name}_pads`, [0, 0, t, l, 0, 0, bo, r]);
  return { name: ctx.b.node('Pad', [v.name, pads], name), layout: 'nchw' };
}

const zeroPadding2d: Converter = (ctx, call) => {
  requireChannelsLast(call);
  const v = nchwInput(ctx, call);
  const pads = zeroPads(call);
  const readers = ctx.consumers(call.output);
  const foldable =
    readers.length > 0 && readers.every((c) => CONV_CLASSES.has(c.className)) && !ctx.isGraphOutput(call.output);
  const prior = v.pendingPads ?? [0, 0, 0, 0];
  const total: Pads4 = [prior[0] + pads[0], prior[1] + pads[1], prior[2] + pads[2], prior[3] + pads[3]];
  const pending: Value = { name: v.name, layout: 'nchw', pendingPads: total };
  ctx.setValue(call.output, foldable ? pending : materialize(ctx, pending, call.layer.name));
};

function pool(op: 'MaxPool' | 'AveragePool'): Converter {
  return (ctx, call) => {
    requireChannelsLast(call);
    const v = materialize(ctx, nchwInput(ctx, call), `${call.layer.name}_pad`);
    const k = cfgPair(call, 'poolSize', [2, 2]);
    const strides = cfgPair(call, 'strides', k);
    const [t, bo, l, r] = convPads(call, k, strides, [1, 1]);
    // count_include_pad = 0: TensorFlow's `same` average pool divides by the number of real pixels
    const attrs: Record<string, AttrValue> = { kernel_shape: k, strides, pads: [t, l, bo, r] };
    if (op === 'AveragePool') attrs.count_include_pad = 0;
    const out = ctx.b.node(op, [v.name], call.layer.name, attrs);
    ctx.setValue(call.output, { name: out, layout: 'nchw' });
  };
}

function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool'): Converter {
  return (ctx, call) => {
    requireChannelsLast(call);
    const v = materialize(ctx, nchwInput(ctx, call), `${call.layer.name}_pad`);
    const pooled = ctx.b.node(op, [v.name], `${call.layer.name}_nc11`);
    if (config(call).keepDims === true) {
      ctx.setValue(call.output, { name: pooled, layout: 'nchw' });
      return;
    }
    ctx.setValue(call.output, { name: ctx.b.node('Flatten', [pooled], call.layer.name, { axis: 1 }), layout: 'flat' });
  };
}

export const convConverters: Record<string, Converter> = {
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNorm,
  ZeroPadding2D: zeroPadding2d,
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  GlobalAveragePooling2D: globalPool('GlobalAveragePool'),
  GlobalMaxPooling2D: globalPool('GlobalMaxPool'),
};
