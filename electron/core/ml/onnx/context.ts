/**
 * What a layer converter sees: the flattened call graph of the tf.layers model, the ONNX values produced so
 * far (with their layout), and the graph builder. Activations are NCHW inside the ONNX graph; 2-D values
 * (after pooling/flatten) are "flat".
 */
import type * as tf from '@tensorflow/tfjs';
import type { GraphBuilder } from './graph-builder';

/** One application of a layer to its inputs, as it appears in the model's graph. */
export interface Call {
  layer: tf.layers.Layer;
  className: string;
  inputs: string[];
  output: string;
  /** tfjs shapes (NHWC, batch first as null). */
  inShapes: tf.Shape[];
  outShape: tf.Shape;
}

export type Layout = 'nchw' | 'flat';

export interface Value {
  /** ONNX value name. */
  name: string;
  layout: Layout;
  /** Zero padding not yet applied, to be folded into the consuming convolution: [top, bottom, left, right]. */
  pendingPads?: [number, number, number, number];
}

export interface ConvertContext {
  b: GraphBuilder;
  value(key: string): Value;
  setValue(key: string, v: Value): void;
  /** The calls that read a value (graph outputs count as a consumer that is not a call). */
  consumers(key: string): Call[];
  isGraphOutput(key: string): boolean;
  /** Marks a later call as already emitted (e.g. a batch norm folded into its convolution). */
  skip(call: Call): void;
  foldBatchNorm: boolean;
}

export type Converter = (ctx: ConvertContext, call: Call) => void;

export class UnsupportedLayerError extends Error {
  constructor(layer: string, className: string, why: string) {
    super(`cannot export layer "${layer}" (${className}) to ONNX: ${why}`);
    this.name = 'UnsupportedLayerError';
  }
}

export function config(call: Call): Record<string, unknown> {
  return call.layer.getConfig() as Record<string, unknown>;
}

export function cfgNumber(call: Call, key: string, fallback?: number): number {
  const v = config(call)[key];
  if (typeof v === 'number') return v;
  if (v == null && fallback !== undefined) return fallback;
  throw new UnsupportedLayerError(call.layer.name, call.className, `config "${key}" is ${JSON.stringify(v)}`);
}

export function cfgString(call: Call, key: string, fallback?: string): string {
  const v = config(call)[key];
  if (typeof v === 'string') return v;
  if (v == null && fallback !== undefined) return fallback;
  throw new UnsupportedLayerError(call.layer.name, call.className, `config "${key}" is ${JSON.stringify(v)}`);
}

/** A Keras size/stride argument: one number or a pair. */
export function cfgPair(call: Call, key: string, fallback?: [number, number]): [number, number] {
  const v = config(call)[key];
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') return [v[0], v[1]];
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return [v[0], v[0]];
  if (v == null && fallback) return fallback;
  throw new UnsupportedLayerError(call.layer.name, call.className, `config "${key}" is ${JSON.stringify(v)}`);
}

/** Spatial size [H, W] of a call's input (NHWC); throws when the model was built without a fixed size. */
export function spatial(call: Call, index = 0): [number, number] {
  const s = call.inShapes[index];
  const h = s[1];
  const w = s[2];
  if (s.length !== 4 || typeof h !== 'number' || typeof w !== 'number') {
    throw new UnsupportedLayerError(
      call.layer.name,
      call.className,
      `needs a fixed-size 4-D input, got [${s.map(String).join(', ')}]`,
    );
  }
  return [h, w];
}

export function requireChannelsLast(call: Call): void {
  const f = config(call).dataFormat;
  if (f != null && f !== 'channelsLast') {
    throw new UnsupportedLayerError(call.layer.name, call.className, `dataFormat ${String(f)} (only channelsLast)`);
  }
}

/** Maps a tfjs (NHWC) axis of a 4-D value to its NCHW axis; 2-D axes are unchanged. */
export function onnxAxis(axis: number, rank: number, layout: Layout): number {
  const a = axis < 0 ? axis + rank : axis;
  if (layout === 'flat') return a;
  return [0, 2, 3, 1][a];
}
