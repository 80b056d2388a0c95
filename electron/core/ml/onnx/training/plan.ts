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
  | (StepBase & { kind: 'activation'; activation: Activation });

/** A weight: its tfjs variable, and its layout in the graph. */
export interface PlanParam {
  /** The tfjs weight's name (`block1_conv/kernel`): unique in a model, and the graph input's name. */
  name: string;
  variable: tf.LayerVariable;
  tfjsShape: number[];
  graphShape: number[];
  /** 'oihw': a Conv2D kernel, HWIO in tfjs and OIHW in the graph. */
  layout: 'same' | 'oihw';
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

const SUPPORTED = ['Conv2D', 'MaxPooling2D', 'GlobalAveragePooling2D', 'Flatten', 'Dense', 'Dropout', 'Activation', 'ReLU'];

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
    const g = layout === 'oihw' ? [shape[3] ?? 0, shape[2] ?? 0, shape[0] ?? 0, shape[1] ?? 0] : shape;
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
