/**
 * Forward and backward of the step kinds the five architectures' tops add to the scratch CNN's:
 * - Depthwise Conv2D (a SeparableConv2D's first half): Conv with group = C. The input gradient is the same
 *   grouped Conv of the output gradient with the kernel flipped; the kernel gradient is the per-channel sum
 *   of each tap's input times the output gradient (the taps from a one-hot grouped Conv, as for Conv2D).
 * - BatchNormalization in inference mode: y = (x − mean)/√(var + ε)·γ + β with the statistics frozen;
 *   dx = dy·γ/√(var + ε), dγ = Σ dy·x̂, dβ = Σ dy (over batch and space).
 * - AveragePooling2D with padded cells not counted (TensorFlow's 'same', which Keras's weights were trained
 *   with): dx spreads dy/count over each window (a grouped ConvTranspose with a kernel of ones). TensorFlow.js's
 *   own CPU gradient divides by the full window instead, which is wrong at the borders; this is the gradient
 *   of the forward pass that tfjs and Keras compute.
 * - Merge (Add, the scaled residual): each input gets dy times its scale. Concatenate: dy split by channels.
 */
import { batchSum, type GValue, type LayerContext, type Saved } from './layers';
import type { Step } from './plan';

export type DagStep = Extract<Step, { kind: 'depthwise' | 'batchNorm' | 'avgPool' | 'merge' | 'concat' }>;

export function isDagStep(step: Step): step is DagStep {
  return step.kind === 'depthwise' || step.kind === 'batchNorm' || step.kind === 'avgPool' || step.kind === 'merge' || step.kind === 'concat';
}

function first(xs: readonly GValue[]): GValue {
  const [x] = xs;
  if (!x) throw new Error('internal: a step without input');
  return x;
}

/** A per-channel weight [C] as [C, 1, 1], to broadcast over NCHW. */
function channels(ctx: LayerContext, name: string, what: string): string {
  return ctx.b.node('Reshape', [ctx.param(name), ctx.ints([-1, 1, 1])], what);
}

export function forwardDag(ctx: LayerContext, step: DagStep, xs: readonly GValue[]): Saved {
  const { b } = ctx;
  const n = step.layer;
  const x = first(xs);
  const out = (name: string): GValue => ({ name, shape: step.outShape });
  switch (step.kind) {
    case 'depthwise': {
      const w = step.window;
      const c = step.inShape[0] ?? 0;
      return { x, y: out(b.node('Conv', [x.name, ctx.param(step.kernel)], `${n}_depthwise`, { group: c, kernel_shape: w.kernel, strides: w.strides, dilations: w.dilations, pads: w.pads })) };
    }
    case 'batchNorm': {
      const centred = b.node('Sub', [x.name, channels(ctx, step.mean, `${n}_mean`)], `${n}_centred`);
      const std = b.node('Sqrt', [b.node('Add', [channels(ctx, step.variance, `${n}_var`), ctx.scalar(step.epsilon)], `${n}_var_eps`)], `${n}_std`);
      const xhat = b.node('Div', [centred, std], `${n}_xhat`);
      const gamma = step.gamma ? channels(ctx, step.gamma, `${n}_gamma`) : null;
      const scaled = gamma ? b.node('Mul', [xhat, gamma], `${n}_scaled`) : xhat;
      const y = step.beta ? b.node('Add', [scaled, channels(ctx, step.beta, `${n}_beta`)], `${n}_bn`) : scaled;
      return { x, y: out(y), extra: { xhat, std, ...(gamma ? { gamma } : {}) } };
    }
    case 'avgPool': {
      const w = step.window;
      return { x, y: out(b.node('AveragePool', [x.name], `${n}_avg`, { kernel_shape: w.kernel, strides: w.strides, pads: w.pads, count_include_pad: 0 })) };
    }
    case 'merge': {
      const terms = xs.map((v, i) => ((step.scales[i] ?? 1) === 1 ? v.name : b.node('Mul', [v.name, ctx.scalar(step.scales[i] ?? 1)], `${n}_scaled${i}`)));
      return { x, xs: [...xs], y: out(b.tree('Add', terms, `${n}_sum`)) };
    }
    case 'concat':
      return { x, xs: [...xs], y: out(b.node('Concat', xs.map((v) => v.name), `${n}_concat`, { axis: 1 })) };
  }
}

export interface DagGrads {
  /** One per input (stepInputs order); null where nothing upstream needs it. */
  dxs: Array<string | null>;
  params: Array<[string, string]>;
}

export function backwardDag(ctx: LayerContext, step: DagStep, s: Saved, dy: string, needs: readonly boolean[], trains: (param: string) => boolean): DagGrads {
  const { b } = ctx;
  const n = step.layer;
  const need = needs[0] === true;
  switch (step.kind) {
    case 'depthwise': {
      const params: Array<[string, string]> = trains(step.kernel) ? [[step.kernel, depthwiseKernelGrad(ctx, step, s.x, dy)]] : [];
      return { dxs: [need ? depthwiseInputGrad(ctx, step, dy) : null], params };
    }
    case 'batchNorm': {
      const e = s.extra ?? {};
      const params: Array<[string, string]> = [];
      const sum = (v: string, what: string): string => b.node('ReduceSum', [v, ctx.ints([0, 2, 3])], `${n}_${what}`, { keepdims: 0 });
      if (step.gamma && trains(step.gamma)) params.push([step.gamma, sum(b.node('Mul', [dy, e['xhat'] ?? ''], `${n}_dy_xhat`), 'dgamma')]);
      if (step.beta && trains(step.beta)) params.push([step.beta, sum(dy, 'dbeta')]);
      if (!need) return { dxs: [null], params };
      const g = e['gamma'];
      const scaled = g ? b.node('Mul', [dy, g], `${n}_dy_gamma`) : dy;
      return { dxs: [b.node('Div', [scaled, e['std'] ?? ''], `${n}_dx`)], params };
    }
    case 'avgPool':
      return { dxs: [need ? avgPoolInputGrad(ctx, step, dy) : null], params: [] };
    case 'merge':
      return {
        dxs: step.inputs.map((_, i) => {
          if (needs[i] !== true) return null;
          const k = step.scales[i] ?? 1;
          return k === 1 ? dy : b.node('Mul', [dy, ctx.scalar(k)], `${n}_dx${i}`);
        }),
        params: [],
      };
    case 'concat': {
      if (!needs.some((v) => v)) return { dxs: step.inputs.map(() => null), params: [] };
      const parts = b.nodeOutputs('Split', [dy, ctx.ints(step.channels)], step.inputs.map((_, i) => `${n}_dx${i}`), { axis: 1 });
      return { dxs: parts.map((p, i) => (needs[i] === true ? p : null)), params: [] };
    }
  }
}

type Depthwise = Extract<Step, { kind: 'depthwise' }>;
type AvgPool = Extract<Step, { kind: 'avgPool' }>;

/** Stride 1 (the planner refuses others): the grouped Conv of dy with the kernel flipped, padded by the rest of its extent. */
function depthwiseInputGrad(ctx: LayerContext, step: Depthwise, dy: string): string {
  const { b } = ctx;
  const { kernel, pads } = step.window;
  const c = step.inShape[0] ?? 0;
  const full = [kernel[0] - 1 - pads[0], kernel[1] - 1 - pads[1], kernel[0] - 1 - pads[2], kernel[1] - 1 - pads[3]];
  const flipped = b.node('Slice', [ctx.param(step.kernel), ctx.ints([-1, -1]), ctx.ints([-(kernel[0] + 1), -(kernel[1] + 1)]), ctx.ints([2, 3]), ctx.ints([-1, -1])], `${step.layer}_dw_flip`);
  return b.node('Conv', [dy, flipped], `${step.layer}_dx`, { group: c, kernel_shape: kernel, pads: full });
}

/** dK[c, tap] = Σ_b Σ_p tap(x)[b, c, p]·dy[b, c, p]: the taps by a one-hot grouped Conv, then one batched MatMul. */
function depthwiseKernelGrad(ctx: LayerContext, step: Depthwise, x: GValue, dy: string): string {
  const { b } = ctx;
  const n = step.layer;
  const { kernel, strides, dilations, pads } = step.window;
  const c = x.shape[0] ?? 0;
  const [, ho = 0, wo = 0] = step.outShape;
  const taps = kernel[0] * kernel[1];
  const eye = new Float32Array(c * taps * taps);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < taps; t++) eye[(ch * taps + t) * taps + t] = 1;
  const onehot = b.floats(`${n}_dw_taps_eye`, [c * taps, 1, kernel[0], kernel[1]], eye);
  const cols4 = b.node('Conv', [x.name, onehot], `${n}_dw_im2col`, { group: c, kernel_shape: kernel, strides, dilations, pads });
  const cols = b.node('Reshape', [cols4, ctx.ints([0, c, taps, ho * wo])], `${n}_dw_cols`);
  const dy4 = b.node('Reshape', [dy, ctx.ints([0, c, ho * wo, 1])], `${n}_dw_dy4`);
  const g = b.node('MatMul', [cols, dy4], `${n}_dw_dk_b`);
  return batchSum(ctx, g, [c, 1, kernel[0], kernel[1]], `${n}_ddepthwise`);
}

/** How many input cells (padding excluded) each output cell of an average pool averages, as [1, 1, Ho, Wo]. */
export function poolCounts(inShape: readonly number[], outShape: readonly number[], step: Pick<AvgPool, 'window'>): Float32Array {
  const [, h = 0, w = 0] = inShape;
  const [, ho = 0, wo = 0] = outShape;
  const { kernel, strides, pads } = step.window;
  const covered = (i: number, size: number, k: number, s: number, pad: number): number => {
    const start = i * s - pad;
    return Math.min(start + k, size) - Math.max(start, 0);
  };
  const out = new Float32Array(ho * wo);
  for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) out[i * wo + j] = covered(i, h, kernel[0], strides[0], pads[0]) * covered(j, w, kernel[1], strides[1], pads[1]);
  return out;
}

function avgPoolInputGrad(ctx: LayerContext, step: AvgPool, dy: string): string {
  const { b } = ctx;
  const n = step.layer;
  const { kernel, strides, pads } = step.window;
  const [c = 0, h = 0, w = 0] = step.inShape;
  const [, ho = 0, wo = 0] = step.outShape;
  const counts = b.floats(`${n}_counts`, [1, 1, ho, wo], poolCounts(step.inShape, step.outShape, step));
  const share = b.node('Div', [dy, counts], `${n}_dy_share`);
  const ones = b.floats(`${n}_ones`, [c, 1, kernel[0], kernel[1]], new Float32Array(c * kernel[0] * kernel[1]).fill(1));
  const opH = h - ((ho - 1) * strides[0] + kernel[0] - pads[0] - pads[2]);
  const opW = w - ((wo - 1) * strides[1] + kernel[1] - pads[1] - pads[3]);
  return b.node('ConvTranspose', [share, ones], `${n}_dx`, {
    group: c,
    kernel_shape: kernel,
    strides,
    pads,
    ...(opH > 0 || opW > 0 ? { output_padding: [opH, opW] } : {}),
  });
}
