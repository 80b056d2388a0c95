/**
 * Floating-point operations per image of a built model's forward pass, from its layers' shapes. Counts
 * the multiply-adds of convolutions (plain, depthwise, separable) and dense layers as 2 FLOPs each, plus
 * their bias adds: what a benchmark's "achieved GFLOP/s" divides by. Pooling, normalisation, activations
 * and sums are left out (a few percent at most for these architectures, and memory-bound anyway).
 */
import type * as tf from '@tensorflow/tfjs';

export interface LayerFlops {
  name: string;
  className: string;
  flops: number;
}

type Dims = readonly (number | null)[];

function dims(shape: tf.Shape | tf.Shape[]): Dims {
  const first = shape[0];
  if (Array.isArray(first)) return first;
  return shape as Dims;
}

function known(d: Dims, from: number): number[] {
  const out: number[] = [];
  for (let i = from; i < d.length; i++) {
    const v = d[i];
    if (typeof v !== 'number') throw new Error(`flops: unknown dimension in shape [${d.join(', ')}]`);
    out.push(v);
  }
  return out;
}

function configNumber(config: tf.serialization.ConfigDict, key: string, fallback: number): number {
  const v = config[key];
  return typeof v === 'number' ? v : fallback;
}

function kernelArea(config: tf.serialization.ConfigDict): number {
  const k = config['kernelSize'];
  if (typeof k === 'number') return k * k;
  if (Array.isArray(k) && k.every((v): v is number => typeof v === 'number')) return k.reduce((a, b) => a * b, 1);
  throw new Error(`flops: unreadable kernelSize ${JSON.stringify(k)}`);
}

/** FLOPs of one layer for one image, 0 for the layers not counted. */
export function layerFlops(layer: tf.layers.Layer): number {
  const cls = layer.getClassName();
  if (!['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense'].includes(cls)) return 0;
  const config = layer.getConfig();
  const useBias = config['useBias'] !== false;
  const inShape = known(dims(inputShapeOf(layer)), 1);
  const outShape = known(dims(layer.outputShape), 1);
  const outElems = outShape.reduce((a, b) => a * b, 1);
  const cin = inShape[inShape.length - 1] ?? 0;
  if (cls === 'Dense') return 2 * cin * outElems + (useBias ? outElems : 0);
  const area = kernelArea(config);
  const [h = 0, w = 0] = outShape;
  if (cls === 'Conv2D') return 2 * outElems * area * cin + (useBias ? outElems : 0);
  const mult = configNumber(config, 'depthMultiplier', 1);
  const depthwise = 2 * h * w * cin * mult * area;
  if (cls === 'DepthwiseConv2D') return depthwise + (useBias ? outElems : 0);
  return depthwise + 2 * h * w * cin * mult * (outShape[2] ?? 0) + (useBias ? outElems : 0);
}

function inputShapeOf(layer: tf.layers.Layer): tf.Shape | tf.Shape[] {
  const input = layer.input;
  if (Array.isArray(input)) {
    const first = input[0];
    if (first === undefined) throw new Error(`flops: layer ${layer.name} has no input`);
    return first.shape;
  }
  return input.shape;
}

export function flopsByLayer(model: tf.LayersModel): LayerFlops[] {
  return model.layers.map((layer) => ({ name: layer.name, className: layer.getClassName(), flops: layerFlops(layer) }));
}

export function countFlops(model: tf.LayersModel): number {
  return flopsByLayer(model).reduce((sum, l) => sum + l.flops, 0);
}

/**
 * FLOPs of one training step per image: the forward pass, each weighted layer's weight gradient (as many
 * multiply-adds as its forward) and its input gradient (the same again), except where the input is the
 * model's own input, which needs no gradient. Frozen layers count no weight gradient.
 */
export function countTrainingFlops(model: tf.LayersModel): number {
  const inputs = new Set(model.inputs.map((t) => t.id));
  let total = 0;
  for (const layer of model.layers) {
    const f = layerFlops(layer);
    if (f === 0) continue;
    const input = layer.input;
    const first = Array.isArray(input) ? input[0] : input;
    const readsModelInput = first !== undefined && inputs.has(first.id);
    total += f + (layer.trainable ? f : 0) + (readsModelInput ? 0 : f);
  }
  return total;
}
