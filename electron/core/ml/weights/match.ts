/**
 * Matching saved weights to a model's layers, shared by the Keras `.h5` and TensorFlow.js `model.json`
 * readers. Keras's rule (legacy `load_weights_from_hdf5_group`): keep only the layers that own weights, on
 * both sides, and pair them in order; inside a layer the weights come in `trainable + non_trainable` order
 * (tfjs's `layer.weights` is the same order). Every pair is checked before any value is written, so a
 * refused file leaves the model as it was.
 */
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../../shared/errors';

export interface SourceWeight {
  name: string;
  shape: number[];
  /** Reads the values (float32, row-major); called only after every shape was checked. */
  read(): Float32Array;
}

export interface SourceLayer {
  name: string;
  weights: SourceWeight[];
}

/** Keras's two modes: `order` (topological, the default) and `name` (`by_name=True`). */
export type MatchMode = 'order' | 'name';

export interface MatchOptions {
  mode?: MatchMode;
  /**
   * What to do when the source has more weighted layers than the model after every model layer matched
   * (a full network whose head the model lacks, e.g. nsfwjs's classifier). Keras refuses: so do we by default.
   */
  extraSourceLayers?: 'refuse' | 'ignore';
  /** How messages name the source, e.g. the file name. */
  origin: string;
}

export interface MatchedLayer {
  source: string;
  target: string;
  shapes: number[][];
}

export interface LoadReport {
  mode: MatchMode;
  layers: MatchedLayer[];
  /** Source layers with weights that nothing received (trailing ones with `extraSourceLayers: 'ignore'`, or unnamed in `name` mode). */
  ignoredSourceLayers: string[];
  /** Model layers with weights that kept their values (`name` mode only). */
  untouchedTargetLayers: string[];
  /** Number of scalar values written. */
  values: number;
}

/** Refusal that names the first layer that differs; `code` BAD_INPUT. */
export class WeightsMismatchError extends AppError {
  readonly sourceLayer: string | null;
  readonly targetLayer: string | null;
  constructor(message: string, sourceLayer: string | null, targetLayer: string | null) {
    super('BAD_INPUT', message);
    this.name = 'WeightsMismatchError';
    this.sourceLayer = sourceLayer;
    this.targetLayer = targetLayer;
  }
}

export type WeightsTarget = tf.LayersModel | readonly tf.layers.Layer[];

export function targetLayers(target: WeightsTarget): tf.layers.Layer[] {
  return target instanceof tf.LayersModel ? target.layers : [...target];
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function formatShapes(shapes: readonly (readonly number[])[]): string {
  return shapes.length === 0 ? 'no weights' : shapes.map(formatShape).join(' ');
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function layerShapes(layer: tf.layers.Layer): number[][] {
  return layer.weights.map((w) => [...w.shape].map((d) => Number(d)));
}

interface Pair {
  source: SourceLayer;
  target: tf.layers.Layer;
}

function checkPair(pair: Pair, index: number | null, origin: string): void {
  const want = layerShapes(pair.target);
  const got = pair.source.weights.map((w) => w.shape);
  const ok = want.length === got.length && want.every((s, i) => sameShape(s, got[i]));
  if (ok) return;
  const where = index === null ? '' : ` weighted layer #${index + 1}:`;
  throw new WeightsMismatchError(
    `${origin} does not fit this model at${where} the file's layer '${pair.source.name}' has ` +
      `${formatShapes(got)} but the model's layer '${pair.target.name}' expects ${formatShapes(want)}. ` +
      `The file is probably for another architecture (or another variant of it).`,
    pair.source.name,
    pair.target.name,
  );
}

function planByOrder(layers: tf.layers.Layer[], source: SourceLayer[], opts: MatchOptions): { pairs: Pair[]; ignored: string[] } {
  const targets = layers.filter((l) => l.weights.length > 0);
  const sources = source.filter((l) => l.weights.length > 0);
  const n = Math.min(targets.length, sources.length);
  const pairs: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const pair = { source: sources[i], target: targets[i] };
    checkPair(pair, i, opts.origin);
    pairs.push(pair);
  }
  if (targets.length > sources.length) {
    const missing = targets[n];
    throw new WeightsMismatchError(
      `${opts.origin} has ${sources.length} layers with weights but the model has ${targets.length}: ` +
        `the model's weighted layer #${n + 1} '${missing.name}' (${formatShapes(layerShapes(missing))}) ` +
        `has no counterpart in the file. The file is probably for another architecture.`,
      null,
      missing.name,
    );
  }
  if (sources.length > targets.length && (opts.extraSourceLayers ?? 'refuse') === 'refuse') {
    const extra = sources[n];
    throw new WeightsMismatchError(
      `${opts.origin} has ${sources.length} layers with weights but the model has ${targets.length}: ` +
        `the file's weighted layer #${n + 1} '${extra.name}' (${formatShapes(extra.weights.map((w) => w.shape))}) ` +
        `has no counterpart in the model. A file saved with the classifier top does not load into the base.`,
      extra.name,
      null,
    );
  }
  return { pairs, ignored: sources.slice(n).map((l) => l.name) };
}

function planByName(layers: tf.layers.Layer[], source: SourceLayer[], opts: MatchOptions): { pairs: Pair[]; ignored: string[] } {
  const index = new Map<string, tf.layers.Layer[]>();
  for (const layer of layers) index.set(layer.name, [...(index.get(layer.name) ?? []), layer]);
  const pairs: Pair[] = [];
  const ignored: string[] = [];
  for (const src of source) {
    const matches = index.get(src.name) ?? [];
    if (matches.length === 0 && src.weights.length > 0) ignored.push(src.name);
    for (const target of matches) {
      const pair = { source: src, target };
      checkPair(pair, null, opts.origin);
      if (src.weights.length > 0) pairs.push(pair);
    }
  }
  return { pairs, ignored };
}

/** Checks every pair (shapes only, no values read) and returns what a load would do. */
export function planWeights(target: WeightsTarget, source: SourceLayer[], opts: MatchOptions): { pairs: Pair[]; report: LoadReport } {
  const layers = targetLayers(target);
  const mode = opts.mode ?? 'order';
  const { pairs, ignored } = mode === 'order' ? planByOrder(layers, source, opts) : planByName(layers, source, opts);
  const reached = new Set(pairs.map((p) => p.target));
  const report: LoadReport = {
    mode,
    layers: pairs.map((p) => ({ source: p.source.name, target: p.target.name, shapes: layerShapes(p.target) })),
    ignoredSourceLayers: ignored,
    untouchedTargetLayers: layers.filter((l) => l.weights.length > 0 && !reached.has(l)).map((l) => l.name),
    values: pairs.reduce((sum, p) => sum + layerShapes(p.target).reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0), 0),
  };
  return { pairs, report };
}

/** Checks, then writes the values layer by layer (so only one layer's values are held at a time). */
export function applyWeights(target: WeightsTarget, source: SourceLayer[], opts: MatchOptions): LoadReport {
  const { pairs, report } = planWeights(target, source, opts);
  for (const { source: src, target: layer } of pairs) {
    const values = src.weights.map((w) => {
      const data = w.read();
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (data.length !== size) {
        throw new AppError(
          'BAD_INPUT',
          `${opts.origin}: weight '${w.name}' of layer '${src.name}' holds ${data.length} values for shape ${formatShape(w.shape)} (${size})`,
        );
      }
      return { data, shape: w.shape };
    });
    tf.tidy(() => layer.setWeights(values.map((v) => tf.tensor(v.data, v.shape, 'float32'))));
  }
  return report;
}
