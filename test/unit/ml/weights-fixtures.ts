/**
 * Test helpers for the weights loaders: a small Conv2D + BatchNormalization + Dense model, random values in
 * every weight (moving statistics included, so a swapped gamma/beta/mean/variance shows), and a writer of
 * Keras-layout `.h5` files that follows keras's `save_weights_to_hdf5_group` with h5wasm directly, so the
 * reader is checked against the layout and not against itself.
 */
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import type { Group } from 'h5wasm/node';

export interface SmallModelOptions {
  filters?: number;
  /** An extra Dense layer at the end (a "top" the base lacks). */
  extraDense?: boolean;
  prefix?: string;
}

function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor {
  const out = layer.apply(x);
  if (!(out instanceof tf.SymbolicTensor)) throw new Error(`${layer.name}: expected one symbolic tensor`);
  return out;
}

export function smallModel(opts: SmallModelOptions = {}): tf.LayersModel {
  const p = opts.prefix ?? '';
  const input = tf.input({ shape: [8, 8, 3], name: `${p}input` });
  let x = apply(tf.layers.conv2d({ filters: opts.filters ?? 4, kernelSize: 3, padding: 'same', name: `${p}conv_a` }), input);
  x = apply(tf.layers.batchNormalization({ axis: 3, name: `${p}bn_a` }), x);
  x = apply(tf.layers.activation({ activation: 'relu', name: `${p}relu_a` }), x);
  x = apply(tf.layers.conv2d({ filters: 6, kernelSize: [1, 3], useBias: false, name: `${p}conv_b` }), x);
  x = apply(tf.layers.batchNormalization({ axis: 3, scale: false, name: `${p}bn_b` }), x);
  x = apply(tf.layers.globalAveragePooling2d({ name: `${p}gap` }), x);
  x = apply(tf.layers.dense({ units: 3, name: `${p}dense` }), x);
  if (opts.extraDense) x = apply(tf.layers.dense({ units: 2, name: `${p}extra` }), x);
  return tf.model({ inputs: input, outputs: x });
}

/** Fills every weight with seeded random values; variances stay positive. */
export function randomize(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => {
      const shape = w.shape.map(Number);
      s += 1;
      const r = tf.randomUniform(shape, -1, 1, 'float32', s);
      return w.originalName.endsWith('moving_variance') ? tf.tidy(() => r.abs().add(0.5)) : r;
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

export function weightValues(model: tf.LayersModel): Float32Array[] {
  return model.layers.flatMap((l) => l.weights.map((w) => w.read().dataSync() as Float32Array));
}

export interface WriteOptions {
  /** Write `layer_names` as this many chunks `layer_names0`, `layer_names1`, … (Keras's large-model split). */
  chunks?: number;
  /** Put everything under a `model_weights` group, as `model.save('x.h5')` does. */
  modelWeightsGroup?: boolean;
  /** Rename the layers in the file (Keras's automatic names differ from ours). */
  rename?: (name: string) => string;
  /** Layer order of `layer_names` (default: the model's). */
  order?: (names: string[]) => string[];
  kerasVersion?: string;
  backend?: string;
}

function fixedStrings(values: string[]): string {
  return `S${Math.max(1, ...values.map((v) => Buffer.byteLength(v)))}`;
}

function writeStringList(g: Group, name: string, values: string[], chunks: number): void {
  if (values.length === 0) {
    // Keras (numpy) writes an empty float64 array for a layer without weights.
    g.create_attribute(name, new Float64Array(0), [0]);
    return;
  }
  if (chunks <= 1) {
    g.create_attribute(name, values, [values.length], fixedStrings(values));
    return;
  }
  const size = Math.ceil(values.length / chunks);
  for (let i = 0; i < chunks; i++) {
    const part = values.slice(i * size, (i + 1) * size);
    g.create_attribute(`${name}${i}`, part, [part.length], fixedStrings(part));
  }
}

/** Writes `model`'s weights as Keras 2's `save_weights` does (layer groups sorted by name, `name/kernel:0`). */
export async function writeKerasH5(path: string, model: tf.LayersModel, opts: WriteOptions = {}): Promise<void> {
  await h5wasm.ready;
  const rename = opts.rename ?? ((n: string) => n);
  const file = new h5wasm.File(path, 'w');
  try {
    const root: Group = opts.modelWeightsGroup ? file.create_group('model_weights') : file;
    if (opts.modelWeightsGroup) file.create_attribute('model_config', '{"class_name": "Functional"}', null, 'S29');
    const names = model.layers.map((l) => rename(l.name));
    writeStringList(root, 'layer_names', opts.order ? opts.order(names) : names, opts.chunks ?? 1);
    root.create_attribute('backend', opts.backend ?? 'tensorflow', null, `S${(opts.backend ?? 'tensorflow').length}`);
    root.create_attribute('keras_version', opts.kerasVersion ?? '2.2.4', null, `S${(opts.kerasVersion ?? '2.2.4').length}`);
    const layers = [...model.layers].sort((a, b) => (rename(a.name) < rename(b.name) ? -1 : 1));
    for (const layer of layers) {
      const name = rename(layer.name);
      const g = root.create_group(name);
      const weightNames = layer.weights.map((w) => `${name}/${w.originalName.split('/').pop() ?? ''}:0`);
      writeStringList(g, 'weight_names', weightNames, 1);
      if (layer.weights.length === 0) continue;
      const inner = g.create_group(name);
      layer.weights.forEach((w, i) => {
        const wn = weightNames[i] ?? '';
        inner.create_dataset({ name: wn.slice(name.length + 1), data: w.read().dataSync() as Float32Array, shape: w.shape.map(Number) });
      });
    }
  } finally {
    file.close();
  }
}
