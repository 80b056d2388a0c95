/**
 * InceptionV3 as keras/src/applications/inception_v3.py builds it (Szegedy et al., CVPR 2016). Its
 * conv2d_bn leaves every layer unnamed except the `mixedN` concatenations, so the names are Keras's
 * automatic ones (`conv2d_17`, `batch_normalization_17`, `activation_17`), as a fresh Keras 3 session
 * prints them (Keras 2's files say `conv2d_18`…: weights load by order, not by these names).
 * BatchNormalization has no scale (gamma), which the parameter counts depend on.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-normalization';
import { apply, buildModel, kernelInit, poolingTail, type GraphContext } from './graph';
import type { ArchitectureSpec, BuildOptions } from './types';

export const INCEPTION_V3_SPEC: ArchitectureSpec = {
  name: 'inception_v3',
  kerasName: 'inception_v3',
  defaultInputSize: 299,
  minInputSize: 75,
  preprocessing: 'tf',
  keras: { paramsWithTop: 23_851_784, paramsNoTop: 21_802_784 },
};

type Padding = 'valid' | 'same';

function conv2dBn(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  filters: number,
  rows: number,
  cols: number,
  padding: Padding = 'same',
  strides = 1,
): tf.SymbolicTensor {
  const n = ctx.names;
  let y = apply(
    tf.layers.conv2d({
      filters,
      kernelSize: [rows, cols],
      strides,
      padding,
      useBias: false,
      kernelInitializer: kernelInit(ctx),
      name: n.next('conv2d'),
    }),
    x,
  );
  y = apply(batchNormalization({ axis: 3, scale: false, name: n.next('batch_normalization') }), y);
  return apply(tf.layers.activation({ activation: 'relu', name: n.next('activation') }), y);
}

function avgPool3(x: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  return apply(
    tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: ctx.names.next('average_pooling2d') }),
    x,
  );
}

function maxPool3(x: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  return apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: ctx.names.next('max_pooling2d') }), x);
}

function concat(xs: tf.SymbolicTensor[], ctx: GraphContext, name?: string): tf.SymbolicTensor {
  return apply(tf.layers.concatenate({ axis: 3, name: name ?? ctx.names.next('concatenate') }), xs);
}

/** mixed0–2: 1x1, 5x5, double 3x3 and pooled branches at 35x35. */
function blockA(x: tf.SymbolicTensor, ctx: GraphContext, poolFilters: number, name: string): tf.SymbolicTensor {
  const b1 = conv2dBn(x, ctx, 64, 1, 1);
  let b5 = conv2dBn(x, ctx, 48, 1, 1);
  b5 = conv2dBn(b5, ctx, 64, 5, 5);
  let b3 = conv2dBn(x, ctx, 64, 1, 1);
  b3 = conv2dBn(b3, ctx, 96, 3, 3);
  b3 = conv2dBn(b3, ctx, 96, 3, 3);
  const bp = conv2dBn(avgPool3(x, ctx), ctx, poolFilters, 1, 1);
  return concat([b1, b5, b3, bp], ctx, name);
}

/** mixed4–7: factorised 7x7 branches at 17x17 with `c` channels inside. */
function blockC(x: tf.SymbolicTensor, ctx: GraphContext, c: number, name: string): tf.SymbolicTensor {
  const b1 = conv2dBn(x, ctx, 192, 1, 1);
  let b7 = conv2dBn(x, ctx, c, 1, 1);
  b7 = conv2dBn(b7, ctx, c, 1, 7);
  b7 = conv2dBn(b7, ctx, 192, 7, 1);
  let b7d = conv2dBn(x, ctx, c, 1, 1);
  b7d = conv2dBn(b7d, ctx, c, 7, 1);
  b7d = conv2dBn(b7d, ctx, c, 1, 7);
  b7d = conv2dBn(b7d, ctx, c, 7, 1);
  b7d = conv2dBn(b7d, ctx, 192, 1, 7);
  const bp = conv2dBn(avgPool3(x, ctx), ctx, 192, 1, 1);
  return concat([b1, b7, b7d, bp], ctx, name);
}

/** mixed9–10: expanded 3x3 branches at 8x8. */
function blockE(x: tf.SymbolicTensor, ctx: GraphContext, i: number): tf.SymbolicTensor {
  const b1 = conv2dBn(x, ctx, 320, 1, 1);
  const b3 = conv2dBn(x, ctx, 384, 1, 1);
  const b3a = conv2dBn(b3, ctx, 384, 1, 3);
  const b3b = conv2dBn(b3, ctx, 384, 3, 1);
  const b3cat = concat([b3a, b3b], ctx, `mixed9_${i}`);
  let bd = conv2dBn(x, ctx, 448, 1, 1);
  bd = conv2dBn(bd, ctx, 384, 3, 3);
  const bda = conv2dBn(bd, ctx, 384, 1, 3);
  const bdb = conv2dBn(bd, ctx, 384, 3, 1);
  const bdcat = concat([bda, bdb], ctx);
  const bp = conv2dBn(avgPool3(x, ctx), ctx, 192, 1, 1);
  return concat([b1, b3cat, bdcat, bp], ctx, `mixed${9 + i}`);
}

export function inceptionV3Graph(input: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  let x = conv2dBn(input, ctx, 32, 3, 3, 'valid', 2);
  x = conv2dBn(x, ctx, 32, 3, 3, 'valid');
  x = conv2dBn(x, ctx, 64, 3, 3);
  x = maxPool3(x, ctx);
  x = conv2dBn(x, ctx, 80, 1, 1, 'valid');
  x = conv2dBn(x, ctx, 192, 3, 3, 'valid');
  x = maxPool3(x, ctx);

  x = blockA(x, ctx, 32, 'mixed0');
  x = blockA(x, ctx, 64, 'mixed1');
  x = blockA(x, ctx, 64, 'mixed2');

  // mixed3: reduction to 17x17
  {
    const b3 = conv2dBn(x, ctx, 384, 3, 3, 'valid', 2);
    let bd = conv2dBn(x, ctx, 64, 1, 1);
    bd = conv2dBn(bd, ctx, 96, 3, 3);
    bd = conv2dBn(bd, ctx, 96, 3, 3, 'valid', 2);
    x = concat([b3, bd, maxPool3(x, ctx)], ctx, 'mixed3');
  }

  x = blockC(x, ctx, 128, 'mixed4');
  x = blockC(x, ctx, 160, 'mixed5');
  x = blockC(x, ctx, 160, 'mixed6');
  x = blockC(x, ctx, 192, 'mixed7');

  // mixed8: reduction to 8x8
  {
    let b3 = conv2dBn(x, ctx, 192, 1, 1);
    b3 = conv2dBn(b3, ctx, 320, 3, 3, 'valid', 2);
    let b7 = conv2dBn(x, ctx, 192, 1, 1);
    b7 = conv2dBn(b7, ctx, 192, 1, 7);
    b7 = conv2dBn(b7, ctx, 192, 7, 1);
    b7 = conv2dBn(b7, ctx, 192, 3, 3, 'valid', 2);
    x = concat([b3, b7, maxPool3(x, ctx)], ctx, 'mixed8');
  }

  x = blockE(x, ctx, 0);
  x = blockE(x, ctx, 1);
  return poolingTail(x, ctx);
}

export function buildInceptionV3(opts: BuildOptions = {}): tf.LayersModel {
  return buildModel(INCEPTION_V3_SPEC, inceptionV3Graph, opts);
}
