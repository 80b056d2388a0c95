/**
 * tf.LayersModel → ONNX. The model's graph is walked from its outputs (nested models are inlined), each
 * layer call is converted by its class's converter, and the result is a ModelProto written with onnx-proto.
 *
 * Layout: the graph input stays NHWC like the tfjs model's, one Transpose makes it NCHW, and everything
 * inside is NCHW (what ONNX Runtime's convolutions are fastest on). A 4-D output is transposed back to NHWC,
 * so the ONNX model's outputs are element for element the tfjs model's.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../../atomic-write';
import type { Preprocessing } from '../models/types';
import { CAFFE_MEAN_BGR } from '../models/preprocessing';
import { UnsupportedLayerError, type Call, type ConvertContext, type Converter, type Value } from './context';
import { activationConverters } from './convert-activations';
import { convConverters, materialize } from './convert-conv';
import { miscConverters } from './convert-misc';
import { encodeModel, GraphBuilder, IR_VERSION, OPSET, type Dim, type ModelProto } from './graph-builder';

export { OPSET, IR_VERSION, type ModelProto } from './graph-builder';
export { UnsupportedLayerError, type Call } from './context';

const CONVERTERS: Record<string, Converter> = { ...convConverters, ...activationConverters, ...miscConverters };

/** The layer classes the exporter converts. */
export const SUPPORTED_LAYERS: readonly string[] = Object.keys(CONVERTERS).sort();

export interface OnnxExportOptions {
  /**
   * Put Keras's preprocessing into the graph: the ONNX input is then raw RGB in [0, 255] (NHWC, float32),
   * which is what a deployed model should take. Default: none (the input is what the tfjs model takes).
   */
  preprocessing?: Preprocessing;
  /** Pool a 4-D output into features [batch, C] (a base without pooling → pooled features). */
  pool?: 'avg' | 'max';
  /** Export these layers' outputs instead of the model's (e.g. the activations at a fine-tune cut). */
  outputLayers?: string[];
  /** Fold batch norm into the preceding convolution (default true; false keeps BatchNormalization nodes). */
  foldBatchNorm?: boolean;
  /** Fixed batch size; default a symbolic `batch` dimension. */
  batchSize?: number;
  /**
   * Test-time augmentation in the graph (an image classifier with one [batch, 1] output): each image and its
   * horizontal mirror go through the network as one batch, and the output is the mean of their probabilities.
   */
  flipTta?: boolean;
  /** Extra metadata_props for the model card (threshold, classes, run id…). */
  metadata?: Record<string, string>;
}

export interface OnnxTensorInfo {
  name: string;
  shape: Dim[];
}

export interface OnnxExport {
  proto: ModelProto;
  bytes: Uint8Array;
  opset: number;
  irVersion: number;
  input: OnnxTensorInfo & { layout: 'NHWC' | 'NC'; preprocessing: Preprocessing | 'none' };
  outputs: OnnxTensorInfo[];
  nodeCount: number;
}

/** Flattens the model's graph (inlining nested models) into calls in an order where inputs come first. */
class Walker {
  readonly calls: Call[] = [];
  private readonly memo = new Map<string, string>();

  visit(st: tf.SymbolicTensor, prefix: string, inputs: Map<number, string>): string {
    const bound = inputs.get(st.id);
    if (bound !== undefined) return bound;
    const key = `${prefix}${st.id}`;
    const done = this.memo.get(key);
    if (done !== undefined) return done;
    const layer = st.sourceLayer;
    const className = layer.getClassName();
    if (className === 'InputLayer') {
      throw new UnsupportedLayerError(layer.name, className, 'an input the exported graph does not start from');
    }
    const inKeys = st.inputs.map((i) => this.visit(i, prefix, inputs));
    if (layer instanceof tf.LayersModel) {
      const inner = new Map<number, string>(layer.inputs.map((t, i) => [t.id, inKeys[i] ?? '']));
      const out = layer.outputs[st.outputTensorIndex ?? 0];
      if (!out) throw new UnsupportedLayerError(layer.name, className, 'nested model output not found');
      const result = this.visit(out, `${prefix}${layer.name}(${inKeys.join(',')})/`, inner);
      this.memo.set(key, result);
      return result;
    }
    this.calls.push({ layer, className, inputs: inKeys, output: key, inShapes: st.inputs.map((i) => i.shape), outShape: st.shape });
    this.memo.set(key, key);
    return key;
  }
}

/**
 * The model's layer calls in an order where every call's inputs come first (nested models inlined). Keys:
 * 'input' for the model input, an opaque string per produced value. For tests and tools that replay a model
 * layer by layer.
 */
export function layerCalls(model: tf.LayersModel): Call[] {
  const [input] = model.inputs;
  if (!input || model.inputs.length !== 1) throw new Error(`${model.name}: expected one input`);
  const walker = new Walker();
  for (const o of model.outputs) walker.visit(o, '', new Map([[input.id, 'input']]));
  return walker.calls;
}

function symbolicOutputs(model: tf.LayersModel, layerNames?: string[]): tf.SymbolicTensor[] {
  if (!layerNames || layerNames.length === 0) return model.outputs;
  return layerNames.map((n) => {
    const out = model.getLayer(n).output;
    if (Array.isArray(out)) {
      const first = out[0];
      if (out.length !== 1 || !first) throw new Error(`layer ${n} has ${out.length} outputs; export needs one`);
      return first;
    }
    return out;
  });
}

function emitPreprocessing(b: GraphBuilder, x: string, mode: Preprocessing): string {
  // The same operations as models/preprocessing.ts, in the same order, so results match bit for bit.
  switch (mode) {
    case 'caffe': {
      const bgr = b.node('Gather', [x, b.int64s('rgb_to_bgr', [2, 1, 0])], 'input_bgr', { axis: 3 });
      return b.node('Sub', [bgr, b.floats('caffe_mean_bgr', [3], new Float32Array(CAFFE_MEAN_BGR))], 'input_centered');
    }
    case 'tf': {
      const half = b.node('Div', [x, b.floats('k127_5', [], new Float32Array([127.5]))], 'input_scaled');
      return b.node('Sub', [half, b.floats('one', [], new Float32Array([1]))], 'input_centered');
    }
    case 'unit':
      return b.node('Div', [x, b.floats('k255', [], new Float32Array([255]))], 'input_unit');
  }
}

/** The batch followed by its horizontal mirror (NHWC, width `w`): [x; x[:, :, ::-1, :]]. */
function emitFlipPair(b: GraphBuilder, x: string, w: number): string {
  if (!(w > 0)) throw new Error('TTA in the graph needs a fixed input width');
  // a negative step from the last column to before the first (an end of -(w+1) clamps to -1)
  const mirrored = b.node('Slice', [x, b.int64s('tta_start', [-1]), b.int64s('tta_end', [-(w + 1)]), b.int64s('tta_axis', [2]), b.int64s('tta_step', [-1])], 'tta_mirror');
  return b.node('Concat', [x, mirrored], 'tta_pair', { axis: 0 });
}

/** Every layer call converted in order, reading and writing `values`; the context the converters shared. */
function convertCalls(b: GraphBuilder, calls: readonly Call[], values: Map<string, Value>, outKeys: readonly string[], foldBatchNorm: boolean): ConvertContext {
  const readers = new Map<string, Call[]>();
  for (const c of calls) for (const k of c.inputs) readers.set(k, [...(readers.get(k) ?? []), c]);
  const outSet = new Set(outKeys);
  const skipped = new Set<Call>();
  const ctx: ConvertContext = {
    b,
    value(key) {
      const v = values.get(key);
      if (!v) throw new Error(`internal: value ${key} used before it was produced`);
      return v;
    },
    setValue: (key, v) => values.set(key, v),
    consumers: (key) => readers.get(key) ?? [],
    isGraphOutput: (key) => outSet.has(key),
    skip: (call) => skipped.add(call),
    foldBatchNorm,
  };
  for (const call of calls) {
    if (skipped.has(call)) continue;
    const convert = CONVERTERS[call.className];
    if (!convert) {
      throw new UnsupportedLayerError(call.layer.name, call.className, `no converter for this layer class (supported: ${SUPPORTED_LAYERS.join(', ')})`);
    }
    convert(ctx, call);
  }
  return ctx;
}

/** One graph output: pooled or back in NHWC as asked, averaged over the image and its mirror under flip TTA. */
function emitOutput(
  ctx: ConvertContext,
  key: string,
  name: string,
  shape: tf.Shape,
  dims: (shape: tf.Shape) => Dim[],
  o: { batch: Dim; pool: OnnxExportOptions['pool']; flip: boolean },
): OnnxTensorInfo {
  const { b } = ctx;
  let v = materialize(ctx, ctx.value(key), `${name}_pad`);
  let outShape = dims(shape);
  if (v.layout === 'nchw' && o.pool) {
    const pooled = b.node(o.pool === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [v.name], `${name}_pool`);
    v = { name: b.node('Flatten', [pooled], `${name}_flat`, { axis: 1 }), layout: 'flat' };
    outShape = [o.batch, shape[3] ?? 'channels'];
  } else if (v.layout === 'nchw') {
    v = { name: b.node('Transpose', [v.name], `${name}_nhwc`, { perm: [0, 2, 3, 1] }), layout: 'nchw' };
  }
  if (o.flip) {
    // [2·batch, k] → [2, batch, k] → the mean over the image and its mirror
    const pair = b.node('Reshape', [v.name, b.int64s('tta_pair_shape', [2, -1, shape[1] ?? 1])], `${name}_tta_pair`);
    v = { name: b.node('ReduceMean', [pair], `${name}_tta_mean`, { axes: [0], keepdims: 0 }), layout: 'flat' };
  }
  b.node('Identity', [v.name], name, {}, true);
  b.addOutput(name, outShape);
  return { name, shape: outShape };
}

/** Converts a tf.layers model (functional or sequential, with its current weights) to an ONNX model. */
export function exportOnnx(model: tf.LayersModel, opts: OnnxExportOptions = {}): OnnxExport {
  if (model.inputs.length !== 1) throw new Error(`ONNX export takes models with one input; ${model.name} has ${model.inputs.length}`);
  const [input] = model.inputs;
  if (!input) throw new Error(`${model.name} has no input`);
  const rank = input.shape.length;
  if (rank !== 4 && rank !== 2) throw new Error(`ONNX export takes NHWC images or feature vectors; input shape is [${input.shape.join(', ')}]`);
  if (rank === 2 && opts.preprocessing) throw new Error('preprocessing applies to image inputs only');

  const batch: Dim = opts.batchSize ?? 'batch';
  const walker = new Walker();
  const outputs = symbolicOutputs(model, opts.outputLayers);
  const outKeys = outputs.map((o) => walker.visit(o, '', new Map([[input.id, 'input']])));

  const b = new GraphBuilder();
  // reserved first, so no layer-derived value can take the output names
  const outNames = outKeys.map((_, i) => b.unique(outKeys.length === 1 ? 'output' : `output_${i}`));
  const dims = (shape: tf.Shape): Dim[] => shape.map((d, i) => (i === 0 ? batch : (d ?? `d${i}`)));
  b.addInput('input', dims(input.shape));
  const values = new Map<string, Value>();
  const flip = opts.flipTta === true;
  if (flip && (rank !== 4 || outputs.length !== 1 || outputs[0]?.shape.length !== 2)) {
    throw new Error('TTA in the graph takes an image classifier with one [batch, k] output');
  }
  if (rank === 4) {
    const pre = opts.preprocessing ? emitPreprocessing(b, 'input', opts.preprocessing) : 'input';
    const x = flip ? emitFlipPair(b, pre, input.shape[2] ?? 0) : pre;
    values.set('input', { name: b.node('Transpose', [x], 'input_nchw', { perm: [0, 3, 1, 2] }), layout: 'nchw' });
  } else {
    values.set('input', { name: 'input', layout: 'flat' });
  }

  const ctx = convertCalls(b, walker.calls, values, outKeys, opts.foldBatchNorm ?? true);
  const infos = outKeys.map((key, i) => emitOutput(ctx, key, outNames[i] ?? `output_${i}`, outputs[i]?.shape ?? [], dims, { batch, pool: opts.pool, flip }));
  const preprocessing = opts.preprocessing ?? 'none';
  const proto = b.model(model.name, `${model.name} exported from TensorFlow.js by Mask Studio`, {
    source: 'tfjs-layers',
    opset: String(OPSET),
    input_layout: rank === 4 ? 'NHWC float32' : 'NC float32',
    preprocessing,
    outputs: infos.map((o) => `${o.name}[${o.shape.join(',')}]`).join(' '),
    ...opts.metadata,
  });
  return {
    proto,
    bytes: encodeModel(proto),
    opset: OPSET,
    irVersion: IR_VERSION,
    input: { name: 'input', shape: dims(input.shape), layout: rank === 4 ? 'NHWC' : 'NC', preprocessing },
    outputs: infos,
    nodeCount: b.nodeCount,
  };
}

/** Exports and writes `file` (atomically: a partial file never takes its place). */
export async function writeOnnx(
  model: tf.LayersModel,
  file: string,
  opts: OnnxExportOptions = {},
): Promise<OnnxExport & { file: string; sha256: string }> {
  const result = exportOnnx(model, opts);
  await writeFileAtomic(file, result.bytes);
  return { ...result, file, sha256: createHash('sha256').update(result.bytes).digest('hex') };
}
