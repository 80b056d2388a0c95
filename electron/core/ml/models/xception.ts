/**
 * Xception as keras/src/applications/xception.py builds it (Chollet, CVPR 2017): named entry, middle
 * (8 blocks) and exit flows of depthwise-separable convolutions; the strided 1x1 shortcut convolutions,
 * their BatchNormalization and the residual sums are unnamed in Keras, so they take its automatic names.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-normalization';
import { apply, buildModel, kernelInit, poolingTail, type GraphContext } from './graph';
import type { ArchitectureSpec, BuildOptions } from './types';

export const XCEPTION_SPEC: ArchitectureSpec = {
  name: 'xception',
  kerasName: 'xception',
  defaultInputSize: 299,
  minInputSize: 71,
  preprocessing: 'tf',
  keras: { paramsWithTop: 22_910_480, paramsNoTop: 20_861_480 },
};

function relu(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return apply(tf.layers.activation({ activation: 'relu', name }), x);
}

function bn(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return apply(batchNormalization({ axis: -1, name }), x);
}

/** SeparableConv2D 3x3 'same' without bias, then its BatchNormalization `<name>_bn`. */
function sepConvBn(x: tf.SymbolicTensor, ctx: GraphContext, filters: number, name: string): tf.SymbolicTensor {
  const init = kernelInit(ctx);
  const y = apply(
    tf.layers.separableConv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: init,
      pointwiseInitializer: init,
      name,
    }),
    x,
  );
  return bn(y, `${name}_bn`);
}

/** The unnamed strided 1x1 projection of the shortcut. */
function shortcut(x: tf.SymbolicTensor, ctx: GraphContext, filters: number): tf.SymbolicTensor {
  const y = apply(
    tf.layers.conv2d({
      filters,
      kernelSize: 1,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: kernelInit(ctx),
      name: ctx.names.next('conv2d'),
    }),
    x,
  );
  return bn(y, ctx.names.next('batch_normalization'));
}

function add(a: tf.SymbolicTensor, b: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  return apply(tf.layers.add({ name: ctx.names.next('add') }), [a, b]);
}

function pool(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  return apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name }), x);
}

/**
 * Entry-flow blocks 2–4 and exit block 13: two separable convolutions, a strided max-pool, plus the
 * projected shortcut. Block 2 follows the stem's activation directly, so it has no leading ReLU.
 */
function downBlock(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  block: number,
  filters: [number, number],
  leadingRelu: boolean,
): tf.SymbolicTensor {
  const residual = shortcut(x, ctx, filters[1]);
  const p = `block${block}`;
  let y = leadingRelu ? relu(x, `${p}_sepconv1_act`) : x;
  y = sepConvBn(y, ctx, filters[0], `${p}_sepconv1`);
  y = relu(y, `${p}_sepconv2_act`);
  y = sepConvBn(y, ctx, filters[1], `${p}_sepconv2`);
  y = pool(y, `${p}_pool`);
  return add(y, residual, ctx);
}

export function xceptionGraph(input: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  const init = kernelInit(ctx);
  let x = apply(
    tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, useBias: false, kernelInitializer: init, name: 'block1_conv1' }),
    input,
  );
  x = relu(bn(x, 'block1_conv1_bn'), 'block1_conv1_act');
  x = apply(tf.layers.conv2d({ filters: 64, kernelSize: 3, useBias: false, kernelInitializer: init, name: 'block1_conv2' }), x);
  x = relu(bn(x, 'block1_conv2_bn'), 'block1_conv2_act');

  x = downBlock(x, ctx, 2, [128, 128], false);
  x = downBlock(x, ctx, 3, [256, 256], true);
  x = downBlock(x, ctx, 4, [728, 728], true);

  for (let i = 5; i <= 12; i++) {
    const residual = x;
    const p = `block${i}`;
    for (let c = 1; c <= 3; c++) {
      x = relu(x, `${p}_sepconv${c}_act`);
      x = sepConvBn(x, ctx, 728, `${p}_sepconv${c}`);
    }
    x = add(x, residual, ctx);
  }

  x = downBlock(x, ctx, 13, [728, 1024], true);

  x = relu(sepConvBn(x, ctx, 1536, 'block14_sepconv1'), 'block14_sepconv1_act');
  x = relu(sepConvBn(x, ctx, 2048, 'block14_sepconv2'), 'block14_sepconv2_act');
  return poolingTail(x, ctx);
}

export function buildXception(opts: BuildOptions = {}): tf.LayersModel {
  return buildModel(XCEPTION_SPEC, xceptionGraph, opts);
}
