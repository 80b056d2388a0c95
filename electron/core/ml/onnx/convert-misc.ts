/**
 * Dense, Flatten, identity layers (Dropout and friends), merges (Add, Concatenate, …) and Rescaling.
 */
import { emitActivation } from './convert-activations';
import { materialize } from './convert-conv';
import {
  cfgNumber,
  cfgString,
  config,
  onnxAxis,
  UnsupportedLayerError,
  type Call,
  type ConvertContext,
  type Converter,
  type Value,
} from './context';
import { layerWeights } from './weights';

const dense: Converter = (ctx, call) => {
  const v = ctx.value(call.inputs[0]);
  if (v.layout !== 'flat') {
    throw new UnsupportedLayerError(call.layer.name, call.className, 'Dense on a 4-D input (add Flatten or pooling first)');
  }
  const w = layerWeights(call.layer);
  const kernel = w.get('kernel');
  if (!kernel) throw new UnsupportedLayerError(call.layer.name, call.className, 'missing weight kernel');
  const name = call.layer.name;
  const b = ctx.b;
  const kernelName = b.floats(`${name}_W`, kernel.shape, kernel.data);
  const bias = config(call).useBias === false ? undefined : w.get('bias');
  const out = bias
    ? b.node('Gemm', [v.name, kernelName, b.floats(`${name}_B`, bias.shape, bias.data)], `${name}_linear`)
    : b.node('MatMul', [v.name, kernelName], `${name}_linear`);
  const act = emitActivation(ctx, call, cfgString(call, 'activation', 'linear'), out, name, 1);
  ctx.setValue(call.output, { name: act, layout: 'flat' });
};

/** tfjs flattens NHWC in (H, W, C) order, so the NCHW value goes back to NHWC before flattening. */
const flatten: Converter = (ctx, call) => {
  const v = materialize(ctx, ctx.value(call.inputs[0]), `${call.layer.name}_pad`);
  if (v.layout === 'flat') {
    ctx.setValue(call.output, v);
    return;
  }
  const nhwc = ctx.b.node('Transpose', [v.name], `${call.layer.name}_nhwc`, { perm: [0, 2, 3, 1] });
  ctx.setValue(call.output, { name: ctx.b.node('Flatten', [nhwc], call.layer.name, { axis: 1 }), layout: 'flat' });
};

const identity: Converter = (ctx, call) => {
  ctx.setValue(call.output, ctx.value(call.inputs[0]));
};

function inputsOf(ctx: ConvertContext, call: Call): Value[] {
  const vs = call.inputs.map((k, i) => materialize(ctx, ctx.value(k), `${call.layer.name}_pad${i}`));
  const layouts = new Set(vs.map((v) => v.layout));
  if (layouts.size !== 1) throw new UnsupportedLayerError(call.layer.name, call.className, 'inputs of different ranks');
  return vs;
}

/** Elementwise merges over any number of inputs, chained pairwise (Sum/Mean/Max/Min take many at once). */
function merge(op: 'Sum' | 'Mul' | 'Mean' | 'Max' | 'Min'): Converter {
  return (ctx, call) => {
    const vs = inputsOf(ctx, call);
    const name = call.layer.name;
    let out: string;
    if (op === 'Mul') {
      out = vs[0].name;
      for (let i = 1; i < vs.length; i++) out = ctx.b.node('Mul', [out, vs[i].name], name);
    } else if (op === 'Sum' && vs.length === 2) {
      out = ctx.b.node('Add', [vs[0].name, vs[1].name], name);
    } else {
      out = ctx.b.node(op, vs.map((v) => v.name), name);
    }
    ctx.setValue(call.output, { name: out, layout: vs[0].layout });
  };
}

const concatenate: Converter = (ctx, call) => {
  const vs = inputsOf(ctx, call);
  const axis = onnxAxis(cfgNumber(call, 'axis', -1), call.outShape.length, vs[0].layout);
  const out = ctx.b.node('Concat', vs.map((v) => v.name), call.layer.name, { axis });
  ctx.setValue(call.output, { name: out, layout: vs[0].layout });
};

/** tfjs Rescaling: x · scale + offset (scalars). */
const rescaling: Converter = (ctx, call) => {
  const v = materialize(ctx, ctx.value(call.inputs[0]), `${call.layer.name}_pad`);
  const name = call.layer.name;
  const scale = ctx.b.floats(`${name}_scale`, [], new Float32Array([cfgNumber(call, 'scale')]));
  const offset = ctx.b.floats(`${name}_offset`, [], new Float32Array([cfgNumber(call, 'offset', 0)]));
  const scaled = ctx.b.node('Mul', [v.name, scale], `${name}_scaled`);
  ctx.setValue(call.output, { name: ctx.b.node('Add', [scaled, offset], name), layout: v.layout });
};

/** InceptionResNetV2's scaled residual (models/custom-scale-layer.ts): shortcut + residual · scale. */
const customScale: Converter = (ctx, call) => {
  const [shortcut, residual] = inputsOf(ctx, call);
  if (!shortcut || !residual || call.inputs.length !== 2) {
    throw new UnsupportedLayerError(call.layer.name, call.className, 'expects two inputs (shortcut, residual)');
  }
  const name = call.layer.name;
  const scale = ctx.b.floats(`${name}_scale`, [], new Float32Array([cfgNumber(call, 'scale')]));
  const scaled = ctx.b.node('Mul', [residual.name, scale], `${name}_scaled`);
  ctx.setValue(call.output, { name: ctx.b.node('Add', [shortcut.name, scaled], name), layout: shortcut.layout });
};

export const miscConverters: Record<string, Converter> = {
  Dense: dense,
  Flatten: flatten,
  Dropout: identity,
  SpatialDropout1D: identity,
  SpatialDropout2D: identity,
  GaussianDropout: identity,
  GaussianNoise: identity,
  AlphaDropout: identity,
  Add: merge('Sum'),
  Multiply: merge('Mul'),
  Average: merge('Mean'),
  Maximum: merge('Max'),
  Minimum: merge('Min'),
  Concatenate: concatenate,
  Rescaling: rescaling,
  CustomScaleLayer: customScale,
};
