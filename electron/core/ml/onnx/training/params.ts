/**
 * Weights between the tfjs model and the graph: Conv2D kernels are HWIO in tfjs and OIHW in the graph,
 * everything else has the same layout. Reading happens once when training starts; writing back happens
 * when the loop needs the model itself (a checkpoint, the best epoch's snapshot, the end).
 */
import * as tf from '@tensorflow/tfjs';
import { hwioToOihw } from '../weights';
import type { PlanParam } from './plan';

/** A weight's current value in the graph's layout. */
export function readParam(p: PlanParam): Float32Array {
  const data = p.variable.read().dataSync();
  if (!(data instanceof Float32Array)) throw new Error(`weight ${p.name} is not float32`);
  // a depthwise kernel [kh, kw, C, 1] in OIHW order is [1, C, kh, kw]: the values [C, 1, kh, kw] holds
  return p.layout === 'same' ? data.slice() : hwioToOihw({ shape: p.tfjsShape, data }).data;
}

/** OIHW → HWIO. */
export function oihwToHwio(data: Float32Array, hwio: readonly number[]): Float32Array {
  const [kh = 0, kw = 0, ci = 0, co = 0] = hwio;
  const out = new Float32Array(data.length);
  for (let o = 0; o < co; o++)
    for (let i = 0; i < ci; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x] ?? 0;
  return out;
}

/** Writes a graph-layout value into the tfjs weight. */
export function writeParam(p: PlanParam, data: Float32Array): void {
  const values = p.layout === 'same' ? data : oihwToHwio(data, p.tfjsShape);
  const t = tf.tensor(values, p.tfjsShape, 'float32');
  p.variable.write(t);
  t.dispose();
}
