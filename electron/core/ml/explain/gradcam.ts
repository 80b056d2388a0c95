/**
 * Grad-CAM (Selvaraju et al. 2017) for our binary classifiers: the activation A of the last layer whose
 * output is still a 4-D feature map (picked automatically), the gradient of the explained class's logit
 * with respect to A, channel weights = the gradient's spatial mean, CAM = ReLU(Σ_k w_k A_k). By default the
 * explained class is the predicted one: for a binary sigmoid the negative class's logit is −logit, so a
 * confident 'no mask' shows what the model saw instead of an empty map.
 *
 * The gradient only flows through the layers after the cut (pooling/flatten → dense → dropout → dense),
 * which every backend differentiates cheaply; the base runs forward once, like predict.
 */
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../../shared/errors';

export interface CamLayer {
  index: number;
  name: string;
}

/** A class activation map on the cut layer's grid (row-major, height × width), ≥ 0 and not normalised. */
export interface CamGrid {
  height: number;
  width: number;
  cam: Float32Array;
}

export interface CamResult extends CamGrid {
  /** The layer whose activation was used. */
  layer: string;
  /** The model's probability of the positive class (the second one) for the image. */
  probability: number;
  logit: number;
  /** Whose evidence the map shows: 1 = the positive class, 0 = the other. */
  explained: 0 | 1;
}

/** 'predicted' (default): the class the model predicts; or always the given class's evidence. */
export type CamTarget = 'predicted' | 0 | 1;

function outputRank(layer: tf.layers.Layer): number {
  const shape = layer.outputShape;
  // a layer with several outputs is never the cut: the head after it could not be a chain
  if (shape.length > 0 && Array.isArray(shape[0])) return -1;
  return shape.length;
}

/** The last layer whose output is a 4-D feature map, or `name` when given (it must be 4-D too). */
export function findCamLayer(model: tf.LayersModel, name?: string): CamLayer {
  const layers = model.layers;
  if (name !== undefined) {
    const index = layers.findIndex((l) => l.name === name);
    const layer = layers[index];
    if (!layer) throw new AppError('BAD_INPUT', `the model has no layer '${name}'`);
    if (outputRank(layer) !== 4) throw new AppError('BAD_INPUT', `layer '${name}' does not output a 4-D feature map (shape ${JSON.stringify(layer.outputShape)})`);
    return { index, name };
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (layer && layer.getClassName() !== 'InputLayer' && outputRank(layer) === 4) return { index: i, name: layer.name };
  }
  throw new AppError('BAD_INPUT', `model '${model.name}' has no layer with a 4-D output to explain`);
}

/** The layers after the cut, checked to form a single chain ending in the model's one output. */
function headChain(model: tf.LayersModel, cut: CamLayer): tf.layers.Layer[] {
  const chain = model.layers.slice(cut.index + 1);
  let prev = model.layers[cut.index];
  for (const layer of chain) {
    const nodes = layer.inboundNodes;
    const from = nodes.length === 1 ? nodes[0]?.inboundLayers : undefined;
    if (!from || from.length !== 1 || from[0] !== prev) {
      throw new AppError('BAD_INPUT', `cannot explain at '${cut.name}': layer '${layer.name}' after it is not a simple chain from the previous layer`);
    }
    prev = layer;
  }
  if (model.outputs.length !== 1 || chain.length === 0) throw new AppError('BAD_INPUT', `model '${model.name}' must have one output after '${cut.name}'`);
  return chain;
}

/**
 * activation → positive-class logit. Dropout is the identity at inference; a final sigmoid Dense is applied
 * without its sigmoid so a confident image (p ≈ 1) still has a gradient.
 */
function headFunction(chain: readonly tf.layers.Layer[]): (a: tf.Tensor) => tf.Tensor {
  const last = chain[chain.length - 1];
  if (!last) throw new Error('empty head chain');
  const lastConfig = last.getConfig();
  const linearLast = last.getClassName() === 'Dense' && lastConfig['activation'] === 'sigmoid';
  return (a) => {
    let x = a;
    for (const layer of chain.slice(0, -1)) {
      if (layer.getClassName() === 'Dropout') continue;
      x = layer.apply(x) as tf.Tensor;
    }
    if (linearLast) {
      const [kernel, bias] = last.getWeights();
      if (!kernel) throw new Error(`dense layer '${last.name}' has no kernel`);
      const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
      return bias && lastConfig['useBias'] !== false ? tf.add(z, bias) : z;
    }
    // any other ending: the logit of its probability, clipped away from 0 and 1
    const p = tf.clipByValue(last.apply(x) as tf.Tensor, 1e-7, 1 - 1e-7);
    return tf.sub(tf.log(p), tf.log(tf.sub(1, p)));
  };
}

/** What gradCam reuses across images of one model: the cut, the base up to it, the head after it. */
export interface CamModel {
  layer: CamLayer;
  base: tf.LayersModel;
  head: (a: tf.Tensor) => tf.Tensor;
}

/**
 * Prepares a classifier for Grad-CAM. `base` shares the classifier's layers and weights: dispose the
 * classifier, never `base`.
 */
export function camModel(model: tf.LayersModel, layerName?: string): CamModel {
  const layer = findCamLayer(model, layerName);
  const head = headFunction(headChain(model, layer));
  const cutLayer = model.layers[layer.index];
  const output = cutLayer?.output;
  if (!output || Array.isArray(output)) throw new AppError('BAD_INPUT', `layer '${layer.name}' has no single output`);
  const base = tf.model({ inputs: model.inputs, outputs: output, name: `${model.name}_to_${layer.name}` });
  return { layer, base, head };
}

/** Grad-CAM of one preprocessed image ([1, size, size, 3], as predict feeds it). */
export async function gradCam(cm: CamModel, input: tf.Tensor4D, target: CamTarget = 'predicted'): Promise<CamResult> {
  if (input.shape[0] !== 1) throw new RangeError(`gradCam takes one image at a time; received a batch of ${input.shape[0]}`);
  let explained: 0 | 1 = 1;
  const [camT, logitT] = tf.tidy(() => {
    const a = cm.base.predict(input) as tf.Tensor4D;
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => tf.sum(cm.head(x)))(a);
    explained = target === 'predicted' ? ((value.dataSync()[0] ?? 0) >= 0 ? 1 : 0) : target;
    // d(−logit)/dA = −d(logit)/dA: the other class's weights are the negated ones
    const weights = tf.mul(tf.mean(grad, [1, 2], true), explained === 1 ? 1 : -1); // [1, 1, 1, K]
    const cam = tf.relu(tf.sum(tf.mul(a, weights), -1)); // [1, h, w]
    return [cam, value];
  });
  try {
    const [h, w] = [camT.shape[1] ?? 0, camT.shape[2] ?? 0];
    const cam = new Float32Array(await camT.data());
    const logit = (await logitT.data())[0] ?? Number.NaN;
    return { layer: cm.layer.name, height: h, width: w, cam, logit, probability: 1 / (1 + Math.exp(-logit)), explained };
  } finally {
    camT.dispose();
    logitT.dispose();
  }
}

/** Share of the CAM's total mass inside a box of the grid (fractions of the side, [x0, y0, x1, y1]). */
export function camMassIn(grid: CamGrid, box: readonly [number, number, number, number]): number {
  let inside = 0;
  let total = 0;
  for (let y = 0; y < grid.height; y++) {
    for (let x = 0; x < grid.width; x++) {
      const v = grid.cam[y * grid.width + x] ?? 0;
      total += v;
      const cx = (x + 0.5) / grid.width;
      const cy = (y + 0.5) / grid.height;
      if (cx >= box[0] && cx < box[2] && cy >= box[1] && cy < box[3]) inside += v;
    }
  }
  return total > 0 ? inside / total : 0;
}
