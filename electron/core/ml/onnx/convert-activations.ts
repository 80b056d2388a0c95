/**
 * Activation functions, both as a layer's own `activation` argument and as stand-alone layers
 * (Activation, ReLU, LeakyReLU, ELU, Softmax).
 */
import { cfgNumber, cfgString, onnxAxis, UnsupportedLayerError, type Call, type ConvertContext, type Converter } from './context';

/**
 * Emits tfjs activation `kind` (its serialized class name: 'relu', 'hardSigmoid', …) on ONNX value `x`.
 * `axis` is the ONNX axis softmax works on. Returns the output value name (`x` itself for 'linear').
 */
export function emitActivation(ctx: ConvertContext, call: Call, kind: string, x: string, outName: string, axis = 1): string {
  const b = ctx.b;
  switch (kind) {
    case 'linear':
      return x;
    case 'relu':
      return b.node('Relu', [x], outName);
    case 'relu6':
      return clip(ctx, x, outName, 0, 6);
    case 'sigmoid':
      return b.node('Sigmoid', [x], outName);
    case 'tanh':
      return b.node('Tanh', [x], outName);
    case 'softplus':
      return b.node('Softplus', [x], outName);
    case 'softsign':
      return b.node('Softsign', [x], outName);
    case 'elu':
      return b.node('Elu', [x], outName, { alpha: { float: 1 } });
    case 'selu':
      // the constants tfjs uses (those of Klambauer et al.), written out so ONNX's float defaults cannot differ
      return b.node('Selu', [x], outName, { alpha: { float: 1.6732632423543772 }, gamma: { float: 1.0507009873554805 } });
    case 'hardSigmoid':
      // tfjs: clip(0.2·x + 0.5, 0, 1)
      return b.node('HardSigmoid', [x], outName, { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'softmax':
      return b.node('Softmax', [x], outName, { axis });
    case 'logSoftmax':
      return b.node('LogSoftmax', [x], outName, { axis });
    case 'swish': {
      const s = b.node('Sigmoid', [x], `${outName}_sigmoid`);
      return b.node('Mul', [x, s], outName);
    }
    case 'mish': {
      const sp = b.node('Softplus', [x], `${outName}_softplus`);
      const t = b.node('Tanh', [sp], `${outName}_tanh`);
      return b.node('Mul', [x, t], outName);
    }
    default:
      throw new UnsupportedLayerError(call.layer.name, call.className, `activation "${kind}" has no ONNX mapping here`);
  }
}

function clip(ctx: ConvertContext, x: string, outName: string, lo: number, hi: number | null): string {
  const min = ctx.b.floats(`${outName}_min`, [], new Float32Array([lo]));
  if (hi === null) return ctx.b.node('Clip', [x, min], outName);
  const max = ctx.b.floats(`${outName}_max`, [], new Float32Array([hi]));
  return ctx.b.node('Clip', [x, min, max], outName);
}

function passActivation(ctx: ConvertContext, call: Call, emit: (x: string, axis: number) => string): void {
  const v = ctx.value(call.inputs[0]);
  const out = emit(v.name, 1);
  ctx.setValue(call.output, { name: out, layout: v.layout });
}

export const activationConverters: Record<string, Converter> = {
  Activation: (ctx, call) => {
    const v = ctx.value(call.inputs[0]);
    const axis = onnxAxis(-1, call.inShapes[0].length, v.layout);
    const out = emitActivation(ctx, call, cfgString(call, 'activation'), v.name, call.layer.name, axis);
    ctx.setValue(call.output, { name: out, layout: v.layout });
  },
  ReLU: (ctx, call) =>
    passActivation(ctx, call, (x) => {
      const maxValue = call.layer.getConfig().maxValue;
      if (typeof maxValue === 'number') return clip(ctx, x, call.layer.name, 0, maxValue);
      return ctx.b.node('Relu', [x], call.layer.name);
    }),
  LeakyReLU: (ctx, call) =>
    passActivation(ctx, call, (x) =>
      ctx.b.node('LeakyRelu', [x], call.layer.name, { alpha: { float: cfgNumber(call, 'alpha', 0.3) } }),
    ),
  ELU: (ctx, call) =>
    passActivation(ctx, call, (x) => ctx.b.node('Elu', [x], call.layer.name, { alpha: { float: cfgNumber(call, 'alpha', 1) } })),
  Softmax: (ctx, call) => {
    const v = ctx.value(call.inputs[0]);
    const axis = onnxAxis(cfgNumber(call, 'axis', -1), call.inShapes[0].length, v.layout);
    ctx.setValue(call.output, { name: ctx.b.node('Softmax', [v.name], call.layer.name, { axis }), layout: v.layout });
  },
};
