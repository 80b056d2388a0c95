/**
 * The seed's scratch CNN: blocks of Conv2D(3x3, ReLU, same) + MaxPool2D(2), then a small dense head with
 * dropout and a sigmoid output. No Keras counterpart, so its names are ours: `block1_conv`, `block1_pool`,
 * … and `head_*` for the classifier.
 */
import * as tf from '@tensorflow/tfjs';
import { apply, checkInputSize, contextFor, kernelInit, type GraphContext } from './graph';
import type { ArchitectureSpec, BuildOptions } from './types';

export const SCRATCH_SPEC: ArchitectureSpec = {
  name: 'scratch',
  kerasName: 'scratch',
  /**
   * 96 px, measured on the real data (5-fold out of fold on 1,107 images, 40 epochs, augment, constant rate,
   * seed 42, ONNX Runtime engine): AUC 0.868 [0.85, 0.89] at 96 px, the best of what trains within about
   * half an hour here (the five folds take ~25 min idle by the per-epoch rate); 30 epochs gave 0.848 at 96 px
   * and 0.846 at 112 px (112 px costs 1.4× per epoch), so 128 px (1.8×) does not fit that budget.
   */
  defaultInputSize: 96,
  /** With the default three blocks; more blocks need 2^blocks (checked when building). */
  minInputSize: 8,
  preprocessing: 'unit',
  keras: null,
};

/**
 * 'flatten' keeps where in the image each feature fired; 'gap' averages it away (and has ~250x fewer
 * head parameters at 128 px). See DEFAULT_SCRATCH_OPTIONS for the one we default to and why.
 */
export type ScratchHead = 'flatten' | 'gap';

export interface ScratchOptions {
  /** Filters per block; its length is the block count. */
  filters?: readonly number[];
  head?: ScratchHead;
  denseUnits?: number;
  dropout?: number;
}

/**
 * Flatten trains better here: on 600 real Spot the Mask images (450 train / 150 validation, two splits),
 * 64 px, SGD momentum 0.9, lr 0.01, 12 epochs, no augmentation, the best validation AUC was 0.705 / 0.691
 * with flatten and 0.689 / 0.658 with GAP. A mask sits in a predictable place (the lower half of a face),
 * which flatten can use and GAP averages away; GAP also learns more slowly with SGD. Flatten's cost is a
 * larger head (1.0M parameters at 64 px, 4.2M at 128), which the 0.5 dropout is there for.
 */
export const DEFAULT_SCRATCH_OPTIONS: Required<ScratchOptions> = {
  filters: [32, 64, 128],
  head: 'flatten',
  denseUnits: 128,
  dropout: 0.5,
};

function resolve(opts: ScratchOptions): Required<ScratchOptions> {
  const r = { ...DEFAULT_SCRATCH_OPTIONS, ...opts };
  if (r.filters.length === 0 || r.filters.some((f) => !Number.isInteger(f) || f < 1)) {
    throw new RangeError(`scratch: filters must be a non-empty list of positive integers; received [${r.filters.join(', ')}]`);
  }
  if (!Number.isInteger(r.denseUnits) || r.denseUnits < 1) {
    throw new RangeError(`scratch: denseUnits must be a positive integer; received ${String(r.denseUnits)}`);
  }
  if (!(r.dropout >= 0 && r.dropout < 1)) {
    throw new RangeError(`scratch: dropout must be in [0, 1); received ${String(r.dropout)}`);
  }
  return r;
}

function scratchInput(opts: BuildOptions, filters: readonly number[]): tf.SymbolicTensor {
  const size = opts.inputSize ?? SCRATCH_SPEC.defaultInputSize;
  // each block halves the side; the last one must still see at least one pixel
  checkInputSize({ ...SCRATCH_SPEC, minInputSize: 2 ** filters.length }, size);
  return tf.input({ shape: [size, size, 3], name: 'input_layer' });
}

/** The convolutional blocks (the scratch model's "base"). */
export function scratchGraph(input: tf.SymbolicTensor, ctx: GraphContext, filters: readonly number[]): tf.SymbolicTensor {
  let x = input;
  filters.forEach((f, i) => {
    x = apply(
      tf.layers.conv2d({
        filters: f,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: kernelInit(ctx),
        name: `block${i + 1}_conv`,
      }),
      x,
    );
    x = apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${i + 1}_pool` }), x);
  });
  return x;
}

/** The blocks alone; with pooling 'avg', followed by GlobalAveragePooling2D. `includeTop` is refused. */
export function buildScratchBase(opts: BuildOptions & ScratchOptions = {}): tf.LayersModel {
  if (opts.includeTop === true) throw new Error('scratch has no Keras top; use buildScratch for its classifier');
  const r = resolve(opts);
  const input = scratchInput(opts, r.filters);
  const ctx = contextFor(opts);
  let x = scratchGraph(input, ctx, r.filters);
  if (ctx.pooling === 'avg') x = apply(tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }), x);
  return tf.model({ inputs: input, outputs: x, name: 'scratch_base' });
}

/** The full binary classifier: blocks → flatten | GAP → Dense(relu) → Dropout → Dense(1, sigmoid). */
export function buildScratch(opts: BuildOptions & ScratchOptions = {}): tf.LayersModel {
  const r = resolve(opts);
  const input = scratchInput(opts, r.filters);
  const ctx = contextFor(opts);
  let x = scratchGraph(input, ctx, r.filters);
  x = apply(
    r.head === 'flatten'
      ? tf.layers.flatten({ name: 'head_flatten' })
      : tf.layers.globalAveragePooling2d({ name: 'head_pool' }),
    x,
  );
  x = apply(
    tf.layers.dense({ units: r.denseUnits, activation: 'relu', kernelInitializer: kernelInit(ctx), name: 'head_hidden' }),
    x,
  );
  x = apply(tf.layers.dropout({ rate: r.dropout, name: 'head_dropout' }), x);
  x = apply(
    tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: kernelInit(ctx), name: 'head_dense' }),
    x,
  );
  return tf.model({ inputs: input, outputs: x, name: 'scratch' });
}
