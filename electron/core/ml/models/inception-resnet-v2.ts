/**
 * InceptionResNetV2 as keras/src/applications/inception_resnet_v2.py builds it (Szegedy et al., AAAI
 * 2017). Unnamed stem and mixed-branch layers take Keras's automatic names; the residual blocks are named
 * `block35_1_mixed`, `block35_1_conv`, `block35_1_ac`…, and their scaled sums are CustomScaleLayer
 * instances (registered, so saved models load). BatchNormalization has no scale (gamma).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-normalization';
import { CustomScaleLayer } from './custom-scale-layer';
import { apply, buildModel, kernelInit, poolingTail, type GraphContext } from './graph';
import type { ArchitectureSpec, BuildOptions } from './types';

export const INCEPTION_RESNET_V2_SPEC: ArchitectureSpec = {
  name: 'inception_resnet_v2',
  kerasName: 'inception_resnet_v2',
  defaultInputSize: 299,
  minInputSize: 75,
  preprocessing: 'tf',
  keras: { paramsWithTop: 55_873_736, paramsNoTop: 54_336_736 },
};

interface ConvBnArgs {
  strides?: number;
  padding?: 'valid' | 'same';
  /** null: no activation (Keras's `activation=None`). */
  activation?: 'relu' | null;
  /** With a bias the BatchNormalization is skipped, as in Keras. */
  useBias?: boolean;
  name?: string;
}

function conv2dBn(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  filters: number,
  kernelSize: number | [number, number],
  args: ConvBnArgs = {},
): tf.SymbolicTensor {
  const { strides = 1, padding = 'same', activation = 'relu', useBias = false, name } = args;
  const n = ctx.names;
  let y = apply(
    tf.layers.conv2d({
      filters,
      kernelSize,
      strides,
      padding,
      useBias,
      kernelInitializer: kernelInit(ctx),
      name: name ?? n.next('conv2d'),
    }),
    x,
  );
  if (!useBias) {
    const bnName = name === undefined ? n.next('batch_normalization') : `${name}_bn`;
    y = apply(batchNormalization({ axis: 3, scale: false, name: bnName }), y);
  }
  if (activation !== null) {
    y = apply(tf.layers.activation({ activation, name: name === undefined ? n.next('activation') : `${name}_ac` }), y);
  }
  return y;
}

function concat(xs: tf.SymbolicTensor[], name: string): tf.SymbolicTensor {
  return apply(tf.layers.concatenate({ axis: 3, name }), xs);
}

function maxPool3(x: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  return apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: ctx.names.next('max_pooling2d') }), x);
}

type BlockType = 'block35' | 'block17' | 'block8';

function residualBlock(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  scale: number,
  type: BlockType,
  idx: number,
  activation: 'relu' | null = 'relu',
): tf.SymbolicTensor {
  let branches: tf.SymbolicTensor[];
  if (type === 'block35') {
    const b0 = conv2dBn(x, ctx, 32, 1);
    let b1 = conv2dBn(x, ctx, 32, 1);
    b1 = conv2dBn(b1, ctx, 32, 3);
    let b2 = conv2dBn(x, ctx, 32, 1);
    b2 = conv2dBn(b2, ctx, 48, 3);
    b2 = conv2dBn(b2, ctx, 64, 3);
    branches = [b0, b1, b2];
  } else if (type === 'block17') {
    const b0 = conv2dBn(x, ctx, 192, 1);
    let b1 = conv2dBn(x, ctx, 128, 1);
    b1 = conv2dBn(b1, ctx, 160, [1, 7]);
    b1 = conv2dBn(b1, ctx, 192, [7, 1]);
    branches = [b0, b1];
  } else {
    const b0 = conv2dBn(x, ctx, 192, 1);
    let b1 = conv2dBn(x, ctx, 192, 1);
    b1 = conv2dBn(b1, ctx, 224, [1, 3]);
    b1 = conv2dBn(b1, ctx, 256, [3, 1]);
    branches = [b0, b1];
  }
  const blockName = `${type}_${idx}`;
  const mixed = concat(branches, `${blockName}_mixed`);
  const channels = x.shape[3];
  if (typeof channels !== 'number') throw new Error(`${blockName}: input channels unknown`);
  const up = conv2dBn(mixed, ctx, channels, 1, { activation: null, useBias: true, name: `${blockName}_conv` });
  let y = apply(new CustomScaleLayer({ scale, name: ctx.names.next('custom_scale_layer') }), [x, up]);
  if (activation !== null) y = apply(tf.layers.activation({ activation, name: `${blockName}_ac` }), y);
  return y;
}

export function inceptionResnetV2Graph(input: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  // Stem: 35 x 35 x 192 at 299 px
  let x = conv2dBn(input, ctx, 32, 3, { strides: 2, padding: 'valid' });
  x = conv2dBn(x, ctx, 32, 3, { padding: 'valid' });
  x = conv2dBn(x, ctx, 64, 3);
  x = maxPool3(x, ctx);
  x = conv2dBn(x, ctx, 80, 1, { padding: 'valid' });
  x = conv2dBn(x, ctx, 192, 3, { padding: 'valid' });
  x = maxPool3(x, ctx);

  // Mixed 5b (Inception-A): 35 x 35 x 320
  {
    const b0 = conv2dBn(x, ctx, 96, 1);
    let b1 = conv2dBn(x, ctx, 48, 1);
    b1 = conv2dBn(b1, ctx, 64, 5);
    let b2 = conv2dBn(x, ctx, 64, 1);
    b2 = conv2dBn(b2, ctx, 96, 3);
    b2 = conv2dBn(b2, ctx, 96, 3);
    let bp = apply(
      tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: ctx.names.next('average_pooling2d') }),
      x,
    );
    bp = conv2dBn(bp, ctx, 64, 1);
    x = concat([b0, b1, b2, bp], 'mixed_5b');
  }
  for (let i = 1; i <= 10; i++) x = residualBlock(x, ctx, 0.17, 'block35', i);

  // Mixed 6a (Reduction-A): 17 x 17 x 1088
  {
    const b0 = conv2dBn(x, ctx, 384, 3, { strides: 2, padding: 'valid' });
    let b1 = conv2dBn(x, ctx, 256, 1);
    b1 = conv2dBn(b1, ctx, 256, 3);
    b1 = conv2dBn(b1, ctx, 384, 3, { strides: 2, padding: 'valid' });
    x = concat([b0, b1, maxPool3(x, ctx)], 'mixed_6a');
  }
  for (let i = 1; i <= 20; i++) x = residualBlock(x, ctx, 0.1, 'block17', i);

  // Mixed 7a (Reduction-B): 8 x 8 x 2080
  {
    let b0 = conv2dBn(x, ctx, 256, 1);
    b0 = conv2dBn(b0, ctx, 384, 3, { strides: 2, padding: 'valid' });
    let b1 = conv2dBn(x, ctx, 256, 1);
    b1 = conv2dBn(b1, ctx, 288, 3, { strides: 2, padding: 'valid' });
    let b2 = conv2dBn(x, ctx, 256, 1);
    b2 = conv2dBn(b2, ctx, 288, 3);
    b2 = conv2dBn(b2, ctx, 320, 3, { strides: 2, padding: 'valid' });
    x = concat([b0, b1, b2, maxPool3(x, ctx)], 'mixed_7a');
  }
  for (let i = 1; i <= 9; i++) x = residualBlock(x, ctx, 0.2, 'block8', i);
  x = residualBlock(x, ctx, 1.0, 'block8', 10, null);

  x = conv2dBn(x, ctx, 1536, 1, { name: 'conv_7b' });
  return poolingTail(x, ctx);
}

export function buildInceptionResnetV2(opts: BuildOptions = {}): tf.LayersModel {
  return buildModel(INCEPTION_RESNET_V2_SPEC, inceptionResnetV2Graph, opts);
}
