/**
 * KerasBatchNormalization against tfjs's own layer: the same numbers where tfjs works, Keras's behaviour
 * where it does not (scale=False while training; frozen layers in inference mode).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { KerasBatchNormalization } from '../../../electron/core/ml/models/batch-normalization';

function close(a: tf.Tensor, b: tf.Tensor, tol = 1e-5): void {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Infinity);
  assert.ok(d <= tol, `max difference ${d} > ${tol}`);
}

/** A built layer whose moving statistics are not the defaults, so inference and training differ. */
function built<T extends tf.layers.Layer>(layer: T, channels: number): T {
  layer.build([null, 4, 4, channels]);
  // getWeights returns the variables' own tensors: not ours to dispose
  const values = layer.getWeights().map((t, i) => tf.randomUniform(t.shape, 0.5, 1.5, 'float32', 11 + i));
  layer.setWeights(values);
  tf.dispose(values);
  return layer;
}

/** Layer.dispose() refuses a layer only ever called eagerly; its variables are all it holds. */
function free(...layers: tf.layers.Layer[]): void {
  for (const l of layers) for (const w of l.weights) w.dispose();
}

function stats(layer: tf.layers.Layer): number[][] {
  return layer.getWeights().slice(-2).map((t) => Array.from(t.dataSync()));
}

describe('KerasBatchNormalization', () => {
  test('scale=False trains: output and moving statistics equal tfjs with a gamma of ones', () => {
    const x = tf.randomNormal([3, 4, 4, 5], 2, 3, 'float32', 1);
    const ours = built(new KerasBatchNormalization({ scale: false, momentum: 0.9 }), 5);
    const stock = tf.layers.batchNormalization({ scale: true, momentum: 0.9 });
    stock.build([null, 4, 4, 5]);
    const [beta, mean, variance] = ours.getWeights();
    assert.ok(beta && mean && variance);
    const ones = tf.ones([5]);
    stock.setWeights([ones, beta, mean, variance]);
    ones.dispose();
    const initial = stats(ours);

    const a = ours.apply(x, { training: true });
    const b = stock.apply(x, { training: true });
    assert.ok(a instanceof tf.Tensor && b instanceof tf.Tensor);
    close(a, b);
    const round = (rows: number[][]): string[][] => rows.map((r) => r.map((v) => v.toFixed(5)));
    assert.deepEqual(round(stats(ours)), round(stats(stock)));
    assert.notDeepEqual(round(stats(ours)), round(initial));
    tf.dispose([x, a, b]);
    free(ours, stock);
  });

  test("scale=False has gradients (tfjs's own layer throws)", () => {
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 2);
    const stock = tf.layers.batchNormalization({ scale: false });
    stock.build([null, 4, 4, 3]);
    assert.throws(() => tf.variableGrads(() => tf.sum(stock.apply(x, { training: true }) as tf.Tensor)));
    const ours = built(new KerasBatchNormalization({ scale: false }), 3);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(ours.apply(x, { training: true }) as tf.Tensor)));
    const names = Object.keys(grads);
    assert.equal(names.length, 1, names.join(', '));
    assert.match(names[0] ?? '', /beta/);
    tf.dispose([x, value, ...Object.values(grads)]);
    free(ours, stock);
  });

  test('a frozen layer runs in inference mode while training and keeps its statistics', () => {
    const x = tf.randomNormal([3, 4, 4, 2], 1, 2, 'float32', 3);
    for (const scale of [true, false]) {
      const layer = built(new KerasBatchNormalization({ scale }), 2);
      layer.trainable = false;
      const before = stats(layer);
      const inference = layer.apply(x, { training: false });
      const training = layer.apply(x, { training: true });
      assert.ok(inference instanceof tf.Tensor && training instanceof tf.Tensor);
      close(training, inference, 0);
      assert.deepEqual(stats(layer), before);
      layer.trainable = true;
      const live = layer.apply(x, { training: true });
      assert.ok(live instanceof tf.Tensor);
      assert.notDeepEqual(stats(layer), before, 'a trainable layer updates its moving statistics');
      tf.dispose([inference, training, live]);
      free(layer);
    }
    x.dispose();
  });

  test('serialises as a standard BatchNormalization and deserialises to this class', async () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const out = new KerasBatchNormalization({ scale: false, epsilon: 1.001e-5, name: 'bn' }).apply(input);
    assert.ok(out instanceof tf.SymbolicTensor);
    const model = tf.model({ inputs: input, outputs: out });
    const json = JSON.stringify(model.toJSON(undefined, false));
    assert.match(json, /"class_name":"BatchNormalization"/);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    assert.ok(artifacts);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const bn = loaded.getLayer('bn');
    assert.ok(bn instanceof KerasBatchNormalization);
    assert.equal(bn.getConfig()['scale'], false);
    assert.equal(bn.getConfig()['epsilon'], 1.001e-5);
    model.dispose();
    loaded.dispose();
  });
});
