/**
 * Cutting a flat functional model in two: where it can be cut (a layer whose output is the only thing the
 * layers after it read from below), and the top part rebuilt as its own model that takes the activations
 * at the cut. Fine-tuning uses this to train only the top of a base on activations cached once.
 *
 * The top model's layers are new layers made from the originals' configs (same names, same classes,
 * weights copied), not the originals applied a second time: a layer applied twice gets two inbound nodes,
 * which breaks `layer.output` and the saved graph of the original model.
 */
import * as tf from '@tensorflow/tfjs';
import { apply } from './graph';

function single(x: tf.SymbolicTensor | tf.SymbolicTensor[], what: string): tf.SymbolicTensor {
  if (!Array.isArray(x)) return x;
  const [first] = x;
  if (x.length !== 1 || !first) throw new Error(`${what}: expected one tensor, found ${x.length}`);
  return first;
}

function inputsOf(layer: tf.layers.Layer): tf.SymbolicTensor[] {
  const x = layer.input;
  return Array.isArray(x) ? x : [x];
}

/** The model's layers after its input, in an order where every layer comes after the layers it reads. */
function bodyLayers(model: tf.LayersModel): tf.layers.Layer[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`${model.name}: cutting needs one input and one output; it has ${model.inputs.length} and ${model.outputs.length}`);
  }
  return model.layers.filter((l) => l.getClassName() !== 'InputLayer');
}

/**
 * The layers at whose output the model can be cut, bottom to top: no layer above reads any tensor from
 * below it except its output. In a chain every layer qualifies; in Inception, ResNet or Xception only
 * the block boundaries (the `mixedN` concatenations, the residual `add`s and what directly follows them).
 * The last layer (the model's output) is not a cut.
 */
export function cutPoints(model: tf.LayersModel): string[] {
  const layers = bodyLayers(model);
  const [input] = model.inputs;
  const position = new Map<number, number>();
  if (input) position.set(input.id, -1);
  layers.forEach((l, i) => position.set(single(l.output, l.name).id, i));
  // crossing[i] > 0: some layer after i reads a tensor made before i (an edge jumps over i)
  const delta = new Int32Array(layers.length + 1);
  layers.forEach((l, j) => {
    for (const t of inputsOf(l)) {
      const a = position.get(t.id);
      if (a === undefined) throw new Error(`${l.name} reads a tensor from outside ${model.name} (nested models are not cut)`);
      if (a > j) throw new Error(`${model.name}: layer order is not topological at ${l.name}`);
      if (j - a > 1) {
        delta[a + 1] = (delta[a + 1] ?? 0) + 1;
        delta[j] = (delta[j] ?? 0) - 1;
      }
    }
  });
  const cuts: string[] = [];
  let crossing = 0;
  for (let i = 0; i < layers.length - 1; i++) {
    crossing += delta[i] ?? 0;
    const l = layers[i];
    if (crossing === 0 && l) cuts.push(l.name);
  }
  return cuts;
}

export interface CutChoice {
  /** The layer at whose output the model is cut. */
  cut: string;
  /** The activations' shape there, without the batch dimension ([h, w, c] for an image model). */
  shape: number[];
  /** Layers above the cut, and of those the ones with weights. */
  layersAbove: number;
  weightedAbove: number;
}

/**
 * The highest cut below every layer in `open` (the layers to train): the top model built from it contains
 * them all. Null when no cut lies below them (the whole model would have to run).
 */
export function chooseCut(model: tf.LayersModel, open: ReadonlySet<string>): CutChoice | null {
  const layers = bodyLayers(model);
  const lowest = layers.findIndex((l) => open.has(l.name));
  if (lowest < 0) return null;
  const cuts = new Set(cutPoints(model));
  for (let i = lowest - 1; i >= 0; i--) {
    const l = layers[i];
    if (!l || !cuts.has(l.name)) continue;
    const above = layers.slice(i + 1);
    const shape = single(l.output, l.name).shape.slice(1);
    if (shape.some((d) => d === null)) throw new Error(`${l.name}: activations with an unknown dimension [${shape.join(', ')}] cannot be cached`);
    return { cut: l.name, shape: shape as number[], layersAbove: above.length, weightedAbove: above.filter((a) => a.weights.length > 0).length };
  }
  return null;
}

function cloneLayer(layer: tf.layers.Layer): tf.layers.Layer {
  const cls = layer.constructor as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>;
  if (typeof cls.fromConfig !== 'function') throw new Error(`${layer.name}: its class ${layer.getClassName()} cannot be rebuilt from its config`);
  const clone = cls.fromConfig(cls, layer.getConfig());
  return clone;
}

/**
 * The part of `model` above layer `cut` as a model of its own: input = the activations at the cut
 * (named `<cut>_activations`), output = the model's output. Same layer names, classes, weights and
 * trainable flags; the weights are copies (copy them back by name after training).
 */
export function buildTopModel(model: tf.LayersModel, cut: string): tf.LayersModel {
  const layers = bodyLayers(model);
  const at = layers.findIndex((l) => l.name === cut);
  const cutLayer = layers[at];
  if (!cutLayer) throw new Error(`${model.name} has no layer '${cut}'`);
  const cutOut = single(cutLayer.output, cut);
  const input = tf.input({ shape: cutOut.shape.slice(1).map((d) => d ?? -1), name: `${cut}_activations` });
  const mapped = new Map<number, tf.SymbolicTensor>([[cutOut.id, input]]);
  const pairs: Array<[tf.layers.Layer, tf.layers.Layer]> = [];
  for (const layer of layers.slice(at + 1)) {
    const ins = inputsOf(layer).map((t) => {
      const m = mapped.get(t.id);
      if (!m) throw new Error(`'${cut}' is not a cut of ${model.name}: ${layer.name} also reads ${t.sourceLayer.name}`);
      return m;
    });
    const clone = cloneLayer(layer);
    const out = apply(clone, ins.length === 1 && ins[0] ? ins[0] : ins);
    mapped.set(single(layer.output, layer.name).id, out);
    pairs.push([layer, clone]);
  }
  const [output] = model.outputs;
  const top = output ? mapped.get(output.id) : undefined;
  if (!top) throw new Error(`${model.name}: its output was not rebuilt above '${cut}'`);
  const sub = tf.model({ inputs: input, outputs: top, name: `${model.name}_above_${cut}` });
  for (const [from, to] of pairs) {
    if (from.weights.length > 0) to.setWeights(from.getWeights());
    to.trainable = from.trainable;
  }
  return sub;
}
