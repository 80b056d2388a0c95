/**
 * ResNet50 (v1) as keras/src/applications/resnet.py builds it (He et al., CVPR 2016): every layer is
 * named by stage, block and position (`conv3_block2_1_conv`), convolutions carry biases, and
 * BatchNormalization uses epsilon 1.001e-5 (the value the Caffe-converted weights were trained with).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-normalization';
import { apply, buildModel, kernelInit, poolingTail, type GraphContext } from './graph';
import type { ArchitectureSpec, BuildOptions } from './types';

export const RESNET50_SPEC: ArchitectureSpec = {
  name: 'resnet50',
  kerasName: 'resnet50',
  defaultInputSize: 224,
  minInputSize: 32,
  preprocessing: 'caffe',
  keras: { paramsWithTop: 25_636_712, paramsNoTop: 23_587_712 },
};

const BN_EPSILON = 1.001e-5;

function convBn(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  name: string,
  filters: number,
  kernelSize: number,
  strides = 1,
  padding: 'valid' | 'same' = 'valid',
): tf.SymbolicTensor {
  const y = apply(
    tf.layers.conv2d({ filters, kernelSize, strides, padding, kernelInitializer: kernelInit(ctx), name: `${name}_conv` }),
    x,
  );
  return apply(batchNormalization({ axis: 3, epsilon: BN_EPSILON, name: `${name}_bn` }), y);
}

/** Keras's residual_block_v1: the 1x1 → 3x3 → 1x1 bottleneck, its projection shortcut `_0_` when asked. */
function block(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  filters: number,
  name: string,
  stride: number,
  convShortcut: boolean,
): tf.SymbolicTensor {
  const shortcut = convShortcut ? convBn(x, ctx, `${name}_0`, 4 * filters, 1, stride) : x;
  let y = convBn(x, ctx, `${name}_1`, filters, 1, stride);
  y = apply(tf.layers.activation({ activation: 'relu', name: `${name}_1_relu` }), y);
  y = convBn(y, ctx, `${name}_2`, filters, 3, 1, 'same');
  y = apply(tf.layers.activation({ activation: 'relu', name: `${name}_2_relu` }), y);
  y = convBn(y, ctx, `${name}_3`, 4 * filters, 1);
  y = apply(tf.layers.add({ name: `${name}_add` }), [shortcut, y]);
  return apply(tf.layers.activation({ activation: 'relu', name: `${name}_out` }), y);
}

function stack(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  filters: number,
  blocks: number,
  stride1: number,
  name: string,
): tf.SymbolicTensor {
  let y = block(x, ctx, filters, `${name}_block1`, stride1, true);
  for (let i = 2; i <= blocks; i++) y = block(y, ctx, filters, `${name}_block${i}`, 1, false);
  return y;
}

export function resnet50Graph(input: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  let x = apply(tf.layers.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }), input);
  x = convBn(x, ctx, 'conv1', 64, 7, 2);
  x = apply(tf.layers.activation({ activation: 'relu', name: 'conv1_relu' }), x);
  x = apply(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }), x);
  x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }), x);

  x = stack(x, ctx, 64, 3, 1, 'conv2');
  x = stack(x, ctx, 128, 4, 2, 'conv3');
  x = stack(x, ctx, 256, 6, 2, 'conv4');
  x = stack(x, ctx, 512, 3, 2, 'conv5');
  return poolingTail(x, ctx, 'avg_pool');
}

export function buildResnet50(opts: BuildOptions = {}): tf.LayersModel {
  return buildModel(RESNET50_SPEC, resnet50Graph, opts);
}
