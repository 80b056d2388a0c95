/**
 * Seeded random weights whose activations stay of order one through any depth, for parity tests and
 * benchmarks without ImageNet files. Plain random init makes residual networks' activations grow into the
 * thousands, where float32 rounding alone exceeds a 1e-4 relative tolerance on the smaller values. So batch
 * norms get their moving statistics from the batch they actually see (plus noise: the statistics stay
 * non-trivial, so batch-norm folding is really exercised), set layer by layer in one forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../random';
import { layerCalls } from './export';

function weightBase(w: tf.LayerVariable): string {
  return w.originalName.slice(w.originalName.lastIndexOf('/') + 1).replace(/_\d+$/, '');
}

function uniform(n: number, rand: () => number, lo: number, hi: number): Float32Array {
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * rand();
  return d;
}

/** Kernels He-uniform (Dense: LeCun-uniform, so a sigmoid head stays off its flat ends), biases small. */
function randomWeight(w: tf.LayerVariable, rand: () => number): Float32Array {
  const name = weightBase(w);
  const s = w.read().shape;
  const n = s.reduce((a, b) => a * b, 1);
  if (name === 'bias' || name === 'beta') return uniform(n, rand, -0.1, 0.1);
  if (name === 'gamma') return uniform(n, rand, 0.5, 1.5);
  if (name === 'moving_mean') return uniform(n, rand, -0.2, 0.2);
  if (name === 'moving_variance') return uniform(n, rand, 0.5, 2);
  const fanIn =
    s.length === 4 ? (s[0] ?? 1) * (s[1] ?? 1) * (name === 'depthwise_kernel' ? 1 : (s[2] ?? 1)) : s.length === 2 ? (s[0] ?? 1) : 1;
  const gain = s.length === 2 ? 1 : 2;
  const limit = Math.sqrt((3 * gain) / fanIn);
  return uniform(n, rand, -limit, limit);
}

function setLayer(layer: tf.layers.Layer, values: Map<string, Float32Array>, rand: () => number): void {
  const ws = layer.weights.map((w) => tf.tensor(values.get(weightBase(w)) ?? randomWeight(w, rand), w.read().shape));
  layer.setWeights(ws);
  tf.dispose(ws);
}

/**
 * Gives every weight of `model` a seeded random value; with `images` (what the model takes), batch norms'
 * moving mean/variance become the per-channel statistics of their input on those images, times noise.
 */
export function randomizeWeights(model: tf.LayersModel, seed: number, images?: tf.Tensor): void {
  const rand = seededRandom(seed);
  if (!images) {
    for (const layer of model.layers) if (layer.weights.length > 0) setLayer(layer, new Map(), rand);
    return;
  }
  const calls = layerCalls(model);
  const uses = new Map<string, number>();
  for (const c of calls) for (const k of c.inputs) uses.set(k, (uses.get(k) ?? 0) + 1);
  const values = new Map<string, tf.Tensor>([['input', images]]);
  const done = (k: string): void => {
    const left = (uses.get(k) ?? 0) - 1;
    uses.set(k, left);
    const t = values.get(k);
    if (left <= 0 && t && k !== 'input') {
      t.dispose();
      values.delete(k);
    }
  };
  for (const call of calls) {
    const ins = call.inputs.map((k) => {
      const t = values.get(k);
      if (!t) throw new Error(`randomizeWeights: value ${k} missing`);
      return t;
    });
    const layer = call.layer;
    const fixed = new Map<string, Float32Array>();
    if (call.className === 'BatchNormalization' && ins[0]) {
      const x = ins[0];
      const [mean, variance] = tf.tidy(() => {
        const m = tf.moments(x, [...Array(x.rank - 1).keys()]);
        return [Float32Array.from(m.mean.dataSync()), Float32Array.from(m.variance.dataSync())];
      });
      if (mean && variance) {
        // One scale per layer, not per channel: normalising each channel by its own spread over a small
        // batch (late maps are 1×1 or 3×3) divides nearly constant channels by ~0, and the network turns
        // chaotic: rounding differences between two correct engines then double every few layers. A mean
        // below the true one shifts channels up by 1–1.5 standard deviations, so most ReLUs stay open.
        const layerVar = variance.reduce((a, v) => a + v, 0) / Math.max(1, variance.length) + 1e-3;
        const sd = Math.sqrt(layerVar);
        fixed.set('moving_mean', mean.map((v) => v - (1 + 0.5 * rand()) * sd));
        fixed.set('moving_variance', variance.map(() => layerVar * (0.7 + 0.6 * rand())));
      }
    }
    if (layer.weights.length > 0) setLayer(layer, fixed, rand);
    const arg: tf.Tensor | tf.Tensor[] = ins.length === 1 && ins[0] ? ins[0] : ins;
    const out = tf.tidy(() => {
      const r = layer.apply(arg, { training: false });
      if (!(r instanceof tf.Tensor)) throw new Error(`randomizeWeights: ${layer.name} did not return one tensor`);
      return r;
    });
    values.set(call.output, out);
    call.inputs.forEach(done);
  }
  for (const [k, t] of values) if (k !== 'input') t.dispose();
}
