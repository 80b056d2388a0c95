/**
 * What every architecture module in this folder exports. Builders follow Keras Applications: the same
 * structure, the same layer names (so Keras `.h5` weights load by Keras's own rules) and the same
 * parameter counts.
 */

import type { ModelName } from '../../../../shared/names';
export { MODEL_NAMES, TRANSFER_MODELS, isTransfer, type ModelName, type TransferModelName } from '../../../../shared/names';

/**
 * How raw RGB pixels in [0, 255] become the network's input.
 * - caffe: RGB→BGR, minus the ImageNet channel means [103.939, 116.779, 123.68] (VGG19, ResNet50)
 * - tf: x / 127.5 − 1 (InceptionV3, InceptionResNetV2, Xception)
 * - unit: x / 255 (the scratch CNN; the nsfwjs InceptionV3 weights were trained this way)
 */
export type Preprocessing = 'caffe' | 'tf' | 'unit';

export interface ArchitectureSpec {
  name: ModelName;
  /** Keras's own name for the model, e.g. "resnet50". */
  kerasName: string;
  defaultInputSize: number;
  /** Smallest input side the architecture accepts without a spatial dimension reaching zero. */
  minInputSize: number;
  preprocessing: Preprocessing;
  /** Keras's counts (include_top=True with 1000 classes, and include_top=False). Null for scratch. */
  keras: { paramsWithTop: number; paramsNoTop: number } | null;
}

/** 'avg' adds a GlobalAveragePooling2D after the last block, as Keras's `pooling='avg'`. */
export type Pooling = 'none' | 'avg';

/**
 * 'default' follows Keras (glorot_uniform kernels, zero biases). 'zeros' makes every kernel zero: only for
 * builds that count parameters or shapes, where drawing ~140M random numbers (VGG19's top) is wasted time.
 */
export type InitializerMode = 'default' | 'zeros';

export interface BuildOptions {
  /** Square input side in pixels; defaults to the architecture's `defaultInputSize`. */
  inputSize?: number;
  /** Keras's ImageNet top (1000 classes). Only for counting parameters: nothing trains it here. */
  includeTop?: boolean;
  /** Ignored with `includeTop`. Default 'none'. */
  pooling?: Pooling;
  initializer?: InitializerMode;
}
