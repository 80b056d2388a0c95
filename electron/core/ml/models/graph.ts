/**
 * What the architecture modules share: Keras-style automatic layer names, the input-size check, and the
 * step from a symbolic graph to a LayersModel. Every module writes its graph as a function of a symbolic
 * input so the transfer classifier (index.ts) can append its head to the same flat graph: one model whose
 * layers are Keras's, in Keras's order, followed by the head.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArchitectureSpec, BuildOptions, InitializerMode, Pooling } from './types';

/**
 * Keras 3 names an unnamed layer after its class, snake_case, with a per-session counter: `conv2d`,
 * `conv2d_1`, `conv2d_2`… A fresh counter per build reproduces what a fresh Keras session prints, and
 * keeps names independent of how many models this process built before (tfjs's own counter is global).
 */
export class KerasNamer {
  private readonly counts = new Map<string, number>();

  next(base: string): string {
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }
}

export interface GraphContext {
  names: KerasNamer;
  init: InitializerMode;
  includeTop: boolean;
  pooling: Pooling;
}

export type GraphBuilder = (input: tf.SymbolicTensor, ctx: GraphContext) => tf.SymbolicTensor;

/** Keras's default kernel initializer is glorot_uniform (tfjs defaults to glorotNormal). */
export function kernelInit(ctx: GraphContext): 'glorotUniform' | 'zeros' {
  return ctx.init === 'zeros' ? 'zeros' : 'glorotUniform';
}

/** Applies a layer to one symbolic tensor (or a list) and checks that one symbolic tensor came out. */
export function apply(layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor {
  const out = layer.apply(x);
  if (out instanceof tf.SymbolicTensor) return out;
  throw new Error(`layer ${layer.name} did not return a single symbolic tensor`);
}

export function checkInputSize(spec: ArchitectureSpec, size: number): void {
  if (!Number.isInteger(size) || size < spec.minInputSize) {
    throw new RangeError(
      `${spec.name}: input size must be an integer of at least ${spec.minInputSize} px; received ${String(size)}`,
    );
  }
}

export function contextFor(opts: BuildOptions): GraphContext {
  return {
    names: new KerasNamer(),
    init: opts.initializer ?? 'default',
    includeTop: opts.includeTop ?? false,
    pooling: opts.pooling ?? 'none',
  };
}

/** Keras 3 names the input of a functional model `input_layer`. */
export function imageInput(spec: ArchitectureSpec, opts: BuildOptions): tf.SymbolicTensor {
  const size = opts.inputSize ?? spec.defaultInputSize;
  checkInputSize(spec, size);
  return tf.input({ shape: [size, size, 3], name: 'input_layer' });
}

export function buildModel(spec: ArchitectureSpec, graph: GraphBuilder, opts: BuildOptions = {}): tf.LayersModel {
  const input = imageInput(spec, opts);
  const output = graph(input, contextFor(opts));
  return tf.model({ inputs: input, outputs: output, name: spec.kerasName });
}

/**
 * The tail every Keras application shares except VGG's: GlobalAveragePooling2D `avg_pool` + Dense
 * `predictions` with the top, or the optional unnamed pooling without it. ResNet names its no-top
 * pooling `avg_pool` too, hence the parameter.
 */
export function poolingTail(
  x: tf.SymbolicTensor,
  ctx: GraphContext,
  noTopPoolName?: string,
): tf.SymbolicTensor {
  if (ctx.includeTop) {
    const pooled = apply(tf.layers.globalAveragePooling2d({ name: 'avg_pool' }), x);
    return apply(
      tf.layers.dense({ units: 1000, activation: 'softmax', kernelInitializer: kernelInit(ctx), name: 'predictions' }),
      pooled,
    );
  }
  if (ctx.pooling === 'avg') {
    const name = noTopPoolName ?? ctx.names.next('global_average_pooling2d');
    return apply(tf.layers.globalAveragePooling2d({ name }), x);
  }
  return x;
}
