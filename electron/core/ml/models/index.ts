/**
 * The registry of the six architectures: their specs, the bare base (Keras's include_top=False), Keras's
 * ImageNet top (for counting parameters only) and the binary classifier we train: base → head.
 * The head's layers are all named `head_*`, which no Keras application uses, so base weights load by
 * Keras's names and order and the head is easy to tell apart (freeze everything else, export, fine-tune).
 */
import * as tf from '@tensorflow/tfjs';
import { apply, buildModel, contextFor, imageInput, type GraphBuilder } from './graph';
import { INCEPTION_RESNET_V2_SPEC, inceptionResnetV2Graph } from './inception-resnet-v2';
import { INCEPTION_V3_SPEC, inceptionV3Graph } from './inception-v3';
import { RESNET50_SPEC, resnet50Graph } from './resnet50';
import { SCRATCH_SPEC, buildScratch, buildScratchBase, type ScratchOptions } from './scratch';
import { VGG19_SPEC, vgg19Graph } from './vgg19';
import { XCEPTION_SPEC, xceptionGraph } from './xception';
import {
  MODEL_NAMES,
  type ArchitectureSpec,
  type InitializerMode,
  type ModelName,
  type Pooling,
  type TransferModelName,
} from './types';

export * from './types';
export { CustomScaleLayer } from './custom-scale-layer';
export { countFlops, countTrainingFlops, flopsByLayer } from './flops';
export { preprocess } from './preprocessing';

export const ARCHITECTURES: Record<ModelName, ArchitectureSpec> = {
  scratch: SCRATCH_SPEC,
  vgg19: VGG19_SPEC,
  inception_v3: INCEPTION_V3_SPEC,
  inception_resnet_v2: INCEPTION_RESNET_V2_SPEC,
  resnet50: RESNET50_SPEC,
  xception: XCEPTION_SPEC,
};

const GRAPHS: Record<TransferModelName, GraphBuilder> = {
  vgg19: vgg19Graph,
  inception_v3: inceptionV3Graph,
  inception_resnet_v2: inceptionResnetV2Graph,
  resnet50: resnet50Graph,
  xception: xceptionGraph,
};

export const HEAD_PREFIX = 'head_';

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

function specOf(name: string): ArchitectureSpec {
  if (!isModelName(name)) throw new Error(`unknown model '${name}'; expected one of ${MODEL_NAMES.join(', ')}`);
  return ARCHITECTURES[name];
}

export interface BaseOptions {
  inputSize?: number;
  /** Loading ImageNet weights is the weights module's job: builders only make randomly initialised models. */
  weights?: 'none';
  pooling?: Pooling;
  initializer?: InitializerMode;
  /** Only for scratch. */
  scratch?: ScratchOptions;
}

/** Keras's base (include_top=False); for scratch, its convolutional blocks. */
export function buildBase(name: ModelName, opts: BaseOptions = {}): tf.LayersModel {
  specOf(name);
  if (name === 'scratch') return buildScratchBase({ ...opts, ...opts.scratch });
  return buildModel(ARCHITECTURES[name], GRAPHS[name], { ...opts, includeTop: false });
}

/** Keras's full ImageNet model (1000 classes), at its default size unless told otherwise. For counting. */
export function buildWithTop(
  name: TransferModelName,
  opts: { inputSize?: number; initializer?: InitializerMode } = {},
): tf.LayersModel {
  return buildModel(specOf(name), GRAPHS[name], { ...opts, includeTop: true });
}

export interface HeadOptions {
  /** Dropout rate before the output. Default 0.2. */
  dropout?: number;
  /** Units of an optional hidden Dense(relu) layer between pooling and dropout. Default 0 (none). */
  hiddenUnits?: number;
}

export interface ClassifierOptions extends Omit<BaseOptions, 'pooling'>, HeadOptions {}

function checkHead(opts: HeadOptions): Required<HeadOptions> {
  const dropout = opts.dropout ?? 0.2;
  const hiddenUnits = opts.hiddenUnits ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`head: dropout must be in [0, 1); received ${String(dropout)}`);
  if (!Number.isInteger(hiddenUnits) || hiddenUnits < 0) {
    throw new RangeError(`head: hiddenUnits must be a non-negative integer; received ${String(hiddenUnits)}`);
  }
  return { dropout, hiddenUnits };
}

/** [hidden →] dropout → Dense(1, sigmoid), applied to pooled features. */
function headLayers(x: tf.SymbolicTensor, head: Required<HeadOptions>): tf.SymbolicTensor {
  let y = x;
  if (head.hiddenUnits > 0) {
    y = apply(tf.layers.dense({ units: head.hiddenUnits, activation: 'relu', kernelInitializer: 'glorotUniform', name: `${HEAD_PREFIX}hidden` }), y);
  }
  y = apply(tf.layers.dropout({ rate: head.dropout, name: `${HEAD_PREFIX}dropout` }), y);
  return apply(
    tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: 'glorotUniform', name: `${HEAD_PREFIX}dense` }),
    y,
  );
}

/**
 * The binary classifier as one flat model: Keras's base layers in Keras's order, then `head_pool`
 * (GlobalAveragePooling2D) → [`head_hidden`] → `head_dropout` → `head_dense` (1, sigmoid).
 * For scratch, its own full model (see scratch.ts).
 */
export function buildClassifier(name: ModelName, opts: ClassifierOptions = {}): tf.LayersModel {
  const spec = specOf(name);
  if (name === 'scratch') return buildScratch({ ...opts, ...opts.scratch });
  const head = checkHead(opts);
  const input = imageInput(spec, opts);
  const base = GRAPHS[name](input, contextFor({ ...opts, includeTop: false, pooling: 'none' }));
  const pooled = apply(tf.layers.globalAveragePooling2d({ name: `${HEAD_PREFIX}pool` }), base);
  return tf.model({ inputs: input, outputs: headLayers(pooled, head), name: `${spec.kerasName}_classifier` });
}

/**
 * The head alone on pooled features (transfer stage 1 trains it on cached features). Its layer names are
 * the classifier's, so its weights move into buildClassifier's model by name for fine-tuning.
 */
export function buildHead(featureDim: number, opts: HeadOptions = {}): tf.LayersModel {
  if (!Number.isInteger(featureDim) || featureDim < 1) {
    throw new RangeError(`head: featureDim must be a positive integer; received ${String(featureDim)}`);
  }
  const input = tf.input({ shape: [featureDim], name: `${HEAD_PREFIX}features` });
  return tf.model({ inputs: input, outputs: headLayers(input, checkHead(opts)), name: 'head' });
}
