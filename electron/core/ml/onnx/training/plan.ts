/**
 * A tf.layers classifier as a list of training steps: what the training graph computes forward and
 * differentiates backward. Each layer call becomes one step of a kind the graph knows a gradient for
 * (a layer's own activation becomes a step of its own); anything else is refused up front with the layer's
 * name, so `--engine onnx` fails before the first batch and `auto` falls back with that reason.
 */
import type * as tf from '@tensorflow/tfjs';
import { cfgNumber, cfgPair, cfgString, config, requireChannelsLast, type Call } from '../context';
import { layerCalls } from '../export';
import { samePads } from '../weights';

export class UnsupportedTrainingError extends Error {
  constructor(what: string, why: string) {
    super(`the ONNX Runtime training engine cannot train ${what}: ${why}`);
    this.name = 'UnsupportedTrainingError';
  }
}

/** The activations the graph differentiates (sigmoid only as the output, where the loss takes it). */
export type Activation = 'linear' | 'relu' | 'sigmoid';

/** [C, H, W] for image values, [D] for flat ones (the batch is never part of a shape here). */
export type Shape = number[];

/** [top, left, bottom, right], the order of ONNX's `pads`. */
export type Pads = [number, number, number, number];

export interface Window {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pads: Pads;
}

interface StepBase {
  /** The tfjs layer's name (errors and value names). */
  layer: string;
  /** The first (for most kinds the only) input; `inputs` lists all of a merge's or a concatenation's. */
  input: string;
  output: string;
  inShape: Shape;
  outShape: Shape;
}

export type Step =
  | (StepBase & { kind: 'conv'; window: Window; kernel: string; bias: string | null })
  | (StepBase & { kind: 'maxPool'; window: Window })
  | (StepBase & { kind: 'globalAvgPool' })
  | (StepBase & { kind: 'flatten' })
  | (StepBase & { kind: 'dense'; kernel: string; bias: string | null })
  | (StepBase & { kind: 'dropout'; rate: number })
  | (StepBase & { kind: 'activation'; activation: Activation })
  /** A depthwise Conv2D (channel multiplier 1, a SeparableConv2D's first half): Conv with group = C. */
  | (StepBase & { kind: 'depthwise'; window: Window; kernel: string })
  /** BatchNormalization in inference mode: the moving statistics frozen, gamma and beta (when present) weights. */
  | (StepBase & { kind: 'batchNorm'; mean: string; variance: string; gamma: string | null; beta: string | null; epsilon: number })
  /** AveragePooling2D; padded cells are not counted (TensorFlow's and Keras's 'same'). */
  | (StepBase & { kind: 'avgPool'; window: Window })
  /** Σ scaleᵢ·inputᵢ: Add (all 1) and InceptionResNetV2's CustomScaleLayer (shortcut + residual·scale). */
  | (StepBase & { kind: 'merge'; inputs: string[]; scales: number[] })
  /** Concatenate on the channel axis. */
  | (StepBase & { kind: 'concat'; inputs: string[]; channels: number[] });

/** Every value a step reads. */
export function stepInputs(step: Step): string[] {
  return step.kind === 'merge' || step.kind === 'concat' ? step.inputs : [step.input];
}

/** The steps that read each value, in plan order. */
export function stepReaders(steps: readonly Step[]): Map<string, Step[]> {
  const readers = new Map<string, Step[]>();
  for (const s of steps) for (const k of stepInputs(s)) readers.set(k, [...(readers.get(k) ?? []), s]);
  return readers;
}

/** A weight: its tfjs variable, and its layout in the graph. */
export interface PlanParam {
  /** The tfjs weight's name (`block1_conv/kernel`): unique in a model, and the graph input's name. */
  name: string;
  variable: tf.LayerVariable;
  tfjsShape: number[];
  graphShape: number[];
  /**
   * 'oihw': a Conv2D kernel, HWIO in tfjs and OIHW in the graph. 'depthwise': a depthwise kernel [kh, kw, C, 1]
   * in tfjs, [C, 1, kh, kw] in the graph (the same values in the same order as OIHW with O = 1).
   */
  layout: 'same' | 'oihw' | 'depthwise';
  trainable: boolean;
}

export interface TrainPlan {
  modelName: string;
  /** The model input: NHWC images [H, W, C] or feature vectors [D]. */
  input: { rank: 4 | 2; shape: number[] };
  steps: Step[];
  params: PlanParam[];
  /** The value the final Dense + sigmoid reads: the loss differentiates from these logits. */
  logits: string;
  /** Dropout layers in graph order: each has a mask input (tfjs's layout: NHWC or flat) when dropout is on. */
  dropouts: Array<{ layer: string; shape: Shape }>;
}

const SUPPORTED = [
  'Conv2D', 'SeparableConv2D', 'DepthwiseConv2D', 'BatchNormalization', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D',
  'Concatenate', 'Add', 'CustomScaleLayer', 'Flatten', 'Dense', 'Dropout', 'Activation', 'ReLU',
];

function fixed(call: Call, shape: tf.Shape, what: string): number[] {
  const dims = shape.slice(1);
  if (dims.some((d) => typeof d !== 'number')) {
    throw new UnsupportedTrainingError(`layer "${call.layer.name}" (${call.className})`, `${what} shape [${shape.join(', ')}] is not fixed`);
  }
  return dims as number[];
}

/** NHWC [H, W, C] → [C, H, W]; flat shapes unchanged. */
function graphShape(dims: number[]): Shape {
  return dims.length === 3 ? [dims[2] ?? 0, dims[0] ?? 0, dims[1] ?? 0] : dims;
}

function activationOf(call: Call): Activation {
  const a = cfgString(call, 'activation', 'linear');
  if (a === 'linear' || a === 'relu' || a === 'sigmoid') return a;
  throw new UnsupportedTrainingError(`layer "${call.layer.name}" (${call.className})`, `activation "${a}" has no gradient in the graph yet (linear, relu, sigmoid)`);
}

function windowOf(call: Call, inShape: Shape, kernel: [number, number], strides: [number, number], dilations: [number, number]): Window {
  const padding = cfgString(call, 'padding', 'valid');
  let pads: Pads = [0, 0, 0, 0];
  if (padding === 'same') {
    const [t, b] = samePads(inShape[1] ?? 0, kernel[0], strides[0], dilations[0]);
    const [l, r] = samePads(inShape[2] ?? 0, kernel[1], strides[1], dilations[1]);
    pads = [t, l, b, r];
  } else if (padding !== 'valid') {
    throw new UnsupportedTrainingError(`layer "${call.layer.name}" (${call.className})`, `padding "${padding}"`);
  }
  return { kernel, strides, dilations, pads };
}

class Planner {
  readonly steps: Step[] = [];
  readonly params: PlanParam[] = [];
  readonly dropouts: Array<{ layer: string; shape: Shape }> = [];

  constructor(private readonly layerTrainable: (layer: tf.layers.Layer) => boolean) {}

  param(call: Call, role: string, layout: PlanParam['layout']): string | null {
    const v = call.layer.weights.find((w) => w.originalName.slice(w.originalName.lastIndexOf('/') + 1).replace(/_\d+$/, '') === role);
    if (!v) return null;
    const shape = v.shape.map((d) => d ?? 0);
    const [kh = 0, kw = 0, ci = 0, co = 0] = shape;
    const g = layout === 'oihw' ? [co, ci, kh, kw] : layout === 'depthwise' ? [ci * co, 1, kh, kw] : shape;
    if (this.params.some((p) => p.name === v.originalName)) {
      throw new UnsupportedTrainingError(`layer "${call.layer.name}"`, 'a layer applied twice (shared weights)');
    }
    this.params.push({ name: v.originalName, variable: v, tfjsShape: shape, graphShape: g, layout, trainable: v.trainable && this.layerTrainable(call.layer) });
    return v.originalName;
  }

  /** Adds `call` (and its own activation as a step of its own). */
  add(call: Call): void {
    const base = { layer: call.layer.name, input: call.inputs[0] ?? '', inShape: graphShape(fixed(call, call.inShapes[0] ?? [], 'input')) };
    const outShape = graphShape(fixed(call, call.outShape, 'output'));
    const what = `layer "${call.layer.name}" (${call.className})`;
    if (this.addDag(call, base, outShape, what)) return;
    if (call.inputs.length !== 1) throw new UnsupportedTrainingError(what, 'layers with several inputs have no gradient in the graph yet');
    switch (call.className) {
      case 'Conv2D': {
        requireChannelsLast(call);
        if (base.inShape.length !== 3) throw new UnsupportedTrainingError(what, 'needs an image input');
        const dilations = cfgPair(call, 'dilationRate', [1, 1]);
        // TensorFlow.js has no gradient for it either, so nothing could check ours
        if (dilations[0] !== 1 || dilations[1] !== 1) throw new UnsupportedTrainingError(what, `dilation [${dilations.join(', ')}] (TensorFlow.js cannot train it either)`);
        const w = windowOf(call, base.inShape, cfgPair(call, 'kernelSize'), cfgPair(call, 'strides', [1, 1]), dilations);
        const kernel = this.param(call, 'kernel', 'oihw');
        if (!kernel) throw new UnsupportedTrainingError(what, 'no kernel');
        const bias = config(call)['useBias'] === false ? null : this.param(call, 'bias', 'same');
        this.withActivation(call, { ...base, kind: 'conv', window: w, kernel, bias, output: call.output, outShape });
        return;
      }
      case 'Dense': {
        if (base.inShape.length !== 1) throw new UnsupportedTrainingError(what, 'Dense on an image (add Flatten or pooling first)');
        const kernel = this.param(call, 'kernel', 'same');
        if (!kernel) throw new UnsupportedTrainingError(what, 'no kernel');
        const bias = config(call)['useBias'] === false ? null : this.param(call, 'bias', 'same');
        this.withActivation(call, { ...base, kind: 'dense', kernel, bias, output: call.output, outShape });
        return;
      }
      case 'MaxPooling2D': {
        requireChannelsLast(call);
        const pool = cfgPair(call, 'poolSize', [2, 2]);
        const w = windowOf(call, base.inShape, pool, cfgPair(call, 'strides', pool), [1, 1]);
        this.steps.push({ ...base, kind: 'maxPool', window: w, output: call.output, outShape });
        return;
      }
      case 'GlobalAveragePooling2D':
        requireChannelsLast(call);
        if (config(call)['keepDims'] === true) throw new UnsupportedTrainingError(what, 'keepDims');
        this.steps.push({ ...base, kind: 'globalAvgPool', output: call.output, outShape });
        return;
      case 'Flatten':
        this.steps.push({ ...base, kind: 'flatten', output: call.output, outShape });
        return;
      case 'Dropout': {
        if (config(call)['noiseShape'] != null) throw new UnsupportedTrainingError(what, 'a noise shape');
        const rate = cfgNumber(call, 'rate');
        this.steps.push({ ...base, kind: 'dropout', rate, output: call.output, outShape });
        if (rate > 0) this.dropouts.push({ layer: call.layer.name, shape: fixed(call, call.inShapes[0] ?? [], 'input') });
        return;
      }
      case 'Activation':
        this.steps.push({ ...base, kind: 'activation', activation: activationOf(call), output: call.output, outShape });
        return;
      case 'ReLU':
        if (config(call)['maxValue'] != null) throw new UnsupportedTrainingError(what, 'a capped ReLU');
        this.steps.push({ ...base, kind: 'activation', activation: 'relu', output: call.output, outShape });
        return;
      default:
        throw new UnsupportedTrainingError(what, `no gradient for this layer class in the graph yet (supported: ${SUPPORTED.join(', ')})`);
    }
  }

  /** The kinds the five architectures' tops add: merges, normalisation, separable convolutions, average pools. */
  private addDag(call: Call, base: Pick<Step, 'layer' | 'input' | 'inShape'>, outShape: Shape, what: string): boolean {
    const out = { ...base, output: call.output, outShape };
    switch (call.className) {
      case 'Concatenate': {
        const axis = cfgNumber(call, 'axis', -1);
        if (axis !== -1 && axis !== 3) throw new UnsupportedTrainingError(what, `axis ${axis} (the channel axis only)`);
        const shapes = call.inShapes.map((sh) => graphShape(fixed(call, sh, 'input')));
        if (shapes.some((sh) => sh.length !== 3)) throw new UnsupportedTrainingError(what, 'needs image inputs');
        this.steps.push({ ...out, kind: 'concat', inputs: call.inputs, channels: shapes.map((sh) => sh[0] ?? 0) });
        return true;
      }
      case 'Add':
        this.merge(call, out, call.inputs.map(() => 1), what);
        return true;
      case 'CustomScaleLayer':
        this.merge(call, out, [1, cfgNumber(call, 'scale')], what);
        return true;
      case 'BatchNormalization': {
        const axis = cfgNumber(call, 'axis', -1);
        if (base.inShape.length !== 3 || (axis !== -1 && axis !== 3)) throw new UnsupportedTrainingError(what, 'normalisation over the channels of an image only');
        const mean = this.param(call, 'moving_mean', 'same');
        const variance = this.param(call, 'moving_variance', 'same');
        if (!mean || !variance) throw new UnsupportedTrainingError(what, 'no moving statistics');
        if (this.params.some((p) => (p.name === mean || p.name === variance) && p.trainable)) throw new UnsupportedTrainingError(what, 'trainable moving statistics');
        const gamma = this.param(call, 'gamma', 'same');
        const beta = this.param(call, 'beta', 'same');
        this.steps.push({ ...out, kind: 'batchNorm', mean, variance, gamma, beta, epsilon: cfgNumber(call, 'epsilon', 1e-3) });
        return true;
      }
      case 'AveragePooling2D': {
        requireChannelsLast(call);
        const pool = cfgPair(call, 'poolSize', [2, 2]);
        this.steps.push({ ...out, kind: 'avgPool', window: windowOf(call, base.inShape, pool, cfgPair(call, 'strides', pool), [1, 1]) });
        return true;
      }
      case 'SeparableConv2D':
      case 'DepthwiseConv2D':
        this.separable(call, out, what);
        return true;
      default:
        return false;
    }
  }

  private merge(call: Call, out: Pick<Step, 'layer' | 'input' | 'inShape' | 'output' | 'outShape'>, scales: number[], what: string): void {
    const shapes = call.inShapes.map((sh) => graphShape(fixed(call, sh, 'input')).join(','));
    if (shapes.some((sh) => sh !== shapes[0])) throw new UnsupportedTrainingError(what, `inputs of different shapes (${shapes.join(' / ')}) need broadcasting`);
    if (scales.length !== call.inputs.length) throw new UnsupportedTrainingError(what, `${call.inputs.length} inputs for ${scales.length} scales`);
    this.steps.push({ ...out, kind: 'merge', inputs: call.inputs, scales });
  }

  /** DepthwiseConv2D, or SeparableConv2D as its depthwise step then a 1×1 Conv (pointwise kernel, bias, activation). */
  private separable(call: Call, out: Pick<Step, 'layer' | 'input' | 'inShape' | 'output' | 'outShape'>, what: string): void {
    requireChannelsLast(call);
    if (cfgNumber(call, 'depthMultiplier', 1) !== 1) throw new UnsupportedTrainingError(what, 'a depth multiplier other than 1');
    const dilations = cfgPair(call, 'dilationRate', [1, 1]);
    const strides = cfgPair(call, 'strides', [1, 1]);
    if (dilations.some((d) => d !== 1) || strides.some((d) => d !== 1)) throw new UnsupportedTrainingError(what, `strides [${strides.join(', ')}] or dilation [${dilations.join(', ')}] (1 only)`);
    const window = windowOf(call, out.inShape, cfgPair(call, 'kernelSize'), strides, dilations);
    const depthwise = this.param(call, 'depthwise_kernel', 'depthwise');
    if (!depthwise) throw new UnsupportedTrainingError(what, 'no depthwise kernel');
    const [c = 0, h = 0, w = 0] = out.inShape;
    const dwShape = [c, h + window.pads[0] + window.pads[2] - window.kernel[0] + 1, w + window.pads[1] + window.pads[3] - window.kernel[1] + 1];
    const bias = config(call)['useBias'] === false ? null : this.param(call, 'bias', 'same');
    if (call.className === 'DepthwiseConv2D') {
      if (bias !== null) throw new UnsupportedTrainingError(what, 'a depthwise bias');
      this.withActivation(call, { ...out, kind: 'depthwise', window, kernel: depthwise });
      return;
    }
    const mid = `${call.output}#depthwise`;
    this.steps.push({ ...out, kind: 'depthwise', window, kernel: depthwise, output: mid, outShape: dwShape });
    const pointwise = this.param(call, 'pointwise_kernel', 'oihw');
    if (!pointwise) throw new UnsupportedTrainingError(what, 'no pointwise kernel');
    const one: Window = { kernel: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] };
    this.withActivation(call, { ...out, kind: 'conv', window: one, kernel: pointwise, bias, input: mid, inShape: dwShape });
  }

  private withActivation(call: Call, step: Step): void {
    const act = activationOf(call);
    if (act === 'linear') {
      this.steps.push(step);
      return;
    }
    const linear = `${call.output}#linear`;
    this.steps.push({ ...step, output: linear });
    this.steps.push({ layer: call.layer.name, kind: 'activation', activation: act, input: linear, output: call.output, inShape: step.outShape, outShape: step.outShape });
  }
}

/**
 * The training plan of a binary classifier whose output is Dense(1, sigmoid). `trainable` says whether a
 * layer's weights train (default: the layer's own flag); frozen weights become graph constants.
 */
export function planTraining(model: tf.LayersModel, trainable: (layer: tf.layers.Layer) => boolean = (l) => l.trainable): TrainPlan {
  const [input] = model.inputs;
  if (!input || model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsupportedTrainingError(`model "${model.name}"`, 'it must have one input and one output');
  }
  const inDims = input.shape.slice(1);
  if (inDims.some((d) => typeof d !== 'number') || (inDims.length !== 3 && inDims.length !== 1)) {
    throw new UnsupportedTrainingError(`model "${model.name}"`, `input shape [${input.shape.join(', ')}] (expected fixed NHWC images or feature vectors)`);
  }
  const planner = new Planner(trainable);
  for (const call of layerCalls(model)) planner.add(call);
  const steps = planner.steps;
  const last = steps[steps.length - 1];
  const dense = steps[steps.length - 2];
  if (!last || !dense || last.kind !== 'activation' || last.activation !== 'sigmoid' || dense.kind !== 'dense' || last.outShape[0] !== 1 || last.outShape.length !== 1) {
    throw new UnsupportedTrainingError(`model "${model.name}"`, 'its output must be Dense(1, sigmoid) (binary cross-entropy)');
  }
  const sigmoids = steps.filter((s) => s.kind === 'activation' && s.activation === 'sigmoid');
  if (sigmoids.length > 1) {
    const inner = sigmoids[0];
    throw new UnsupportedTrainingError(`layer "${inner?.layer ?? '?'}"`, 'a sigmoid inside the network has no gradient in the graph yet');
  }
  return {
    modelName: model.name,
    input: { rank: inDims.length === 3 ? 4 : 2, shape: inDims as number[] },
    steps,
    params: planner.params,
    logits: last.input,
    dropouts: planner.dropouts,
  };
}
