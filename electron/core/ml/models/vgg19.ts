/** VGG19 as keras/src/applications/vgg19.py builds it (Simonyan & Zisserman, ICLR 2015). */
import * as tf from '@tensorflow/tfjs';
import { apply, buildModel, kernelInit, type GraphContext } from './graph';
import type { ArchitectureSpec, BuildOptions } from './types';

export const VGG19_SPEC: ArchitectureSpec = {
  name: 'vgg19',
  kerasName: 'vgg19',
  defaultInputSize: 224,
  minInputSize: 32,
  preprocessing: 'caffe',
  keras: { paramsWithTop: 143_667_240, paramsNoTop: 20_024_384 },
};

/** Filters and convolution count of the five blocks. */
const BLOCKS: ReadonlyArray<readonly [filters: number, convs: number]> = [
  [64, 2],
  [128, 2],
  [256, 4],
  [512, 4],
  [512, 4],
];

export function vgg19Graph(input: tf.SymbolicTensor, ctx: GraphContext): tf.SymbolicTensor {
  let x = input;
  BLOCKS.forEach(([filters, convs], b) => {
    for (let c = 1; c <= convs; c++) {
      x = apply(
        tf.layers.conv2d({
          filters,
          kernelSize: 3,
          activation: 'relu',
          padding: 'same',
          kernelInitializer: kernelInit(ctx),
          name: `block${b + 1}_conv${c}`,
        }),
        x,
      );
    }
    x = apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }), x);
  });

  if (ctx.includeTop) {
    x = apply(tf.layers.flatten({ name: 'flatten' }), x);
    for (const name of ['fc1', 'fc2']) {
      x = apply(tf.layers.dense({ units: 4096, activation: 'relu', kernelInitializer: kernelInit(ctx), name }), x);
    }
    return apply(
      tf.layers.dense({ units: 1000, activation: 'softmax', kernelInitializer: kernelInit(ctx), name: 'predictions' }),
      x,
    );
  }
  if (ctx.pooling === 'avg') {
    return apply(tf.layers.globalAveragePooling2d({ name: ctx.names.next('global_average_pooling2d') }), x);
  }
  return x;
}

export function buildVgg19(opts: BuildOptions = {}): tf.LayersModel {
  return buildModel(VGG19_SPEC, vgg19Graph, opts);
}
