import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import { checkH5Weights, loadH5Weights, withKerasH5 } from '../../../electron/core/ml/weights/h5';
import { WeightsMismatchError } from '../../../electron/core/ml/weights/match';
import { AppError } from '../../../shared/errors';
import { randomize, smallModel, weightValues, writeKerasH5 } from './weights-fixtures';

let dir = '';
before(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'weights-h5-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function sample(): tf.Tensor {
  return tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 7);
}

function assertSameOutputs(a: tf.LayersModel, b: tf.LayersModel): void {
  const x = sample();
  const ya = a.predict(x) as tf.Tensor;
  const yb = b.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(yb.dataSync()), Array.from(ya.dataSync()));
  tf.dispose([x, ya, yb]);
}

function assertSameWeights(a: tf.LayersModel, b: tf.LayersModel): void {
  const wa = weightValues(a);
  const wb = weightValues(b);
  assert.equal(wb.length, wa.length);
  wa.forEach((v, i) => assert.deepEqual(Array.from(wb[i] ?? []), Array.from(v)));
}

async function written(name: string, opts: Parameters<typeof writeKerasH5>[2] = {}): Promise<{ path: string; source: tf.LayersModel }> {
  const source = smallModel();
  randomize(source, 100);
  const path = join(dir, name);
  await writeKerasH5(path, source, opts);
  return { path, source };
}

describe('Keras .h5 loader', () => {
  test('weights at the root load by order; outputs equal the written model', async () => {
    const { path, source } = await written('root.h5', { rename: (n) => `keras_${n}` });
    const target = smallModel();
    randomize(target, 999);
    const report = await loadH5Weights(target, path);
    assert.equal(report.layers.length, 5);
    assert.deepEqual(report.layers[0], { source: 'keras_conv_a', target: 'conv_a', shapes: [[3, 3, 3, 4], [4]] });
    // BN with scale: gamma, beta, moving_mean, moving_variance; with scale=False no gamma.
    assert.deepEqual(report.layers[1]?.shapes, [[4], [4], [4], [4]]);
    assert.deepEqual(report.layers[3]?.shapes, [[6], [6], [6]]);
    assert.equal(report.values, source.countParams());
    assertSameWeights(source, target);
    assertSameOutputs(source, target);
  });

  test('a layer_names attribute split into layer_names0, layer_names1, … loads the same', async () => {
    const { path, source } = await written('split.h5', { chunks: 3 });
    await withKerasH5(path, (h5) => {
      assert.equal(h5.layers.length, source.layers.length);
      assert.deepEqual(h5.layers.map((l) => l.name), source.layers.map((l) => l.name));
    });
    const target = smallModel();
    await loadH5Weights(target, path);
    assertSameOutputs(source, target);
  });

  test('a whole-model file (weights under model_weights) loads the same', async () => {
    const { path, source } = await written('model.h5', { modelWeightsGroup: true, chunks: 2 });
    const info = await withKerasH5(path, (h5) => ({ group: h5.group, version: h5.kerasVersion, backend: h5.backend }));
    assert.deepEqual(info, { group: 'model_weights', version: '2.2.4', backend: 'tensorflow' });
    const target = smallModel();
    await loadH5Weights(target, path);
    assertSameOutputs(source, target);
  });

  test('a file for another architecture is refused, naming the first layer that differs, and nothing is written', async () => {
    const other = smallModel({ filters: 5 });
    randomize(other, 5);
    const path = join(dir, 'other.h5');
    await writeKerasH5(path, other, { rename: (n) => `file_${n}` });
    const target = smallModel();
    randomize(target, 6);
    const before = weightValues(target);
    await assert.rejects(loadH5Weights(target, path), (err: unknown) => {
      assert.ok(err instanceof WeightsMismatchError);
      assert.equal(err.code, 'BAD_INPUT');
      assert.equal(err.sourceLayer, 'file_conv_a');
      assert.equal(err.targetLayer, 'conv_a');
      assert.match(err.message, /weighted layer #1/);
      assert.match(err.message, /\[3,3,3,5\] \[5\]/);
      assert.match(err.message, /\[3,3,3,4\] \[4\]/);
      return true;
    });
    const afterValues = weightValues(target);
    before.forEach((v, i) => assert.deepEqual(Array.from(afterValues[i] ?? []), Array.from(v)));
  });

  test('a wrong number of layers is refused with the first unmatched layer named', async () => {
    const big = smallModel({ extraDense: true });
    const pathBig = join(dir, 'with-top.h5');
    await writeKerasH5(pathBig, big);
    await assert.rejects(loadH5Weights(smallModel(), pathBig), (err: unknown) => {
      assert.ok(err instanceof WeightsMismatchError);
      assert.equal(err.sourceLayer, 'extra');
      assert.match(err.message, /6 layers with weights but the model has 5/);
      return true;
    });
    const { path } = await written('base.h5');
    await assert.rejects(loadH5Weights(smallModel({ extraDense: true }), path), (err: unknown) => {
      assert.ok(err instanceof WeightsMismatchError);
      assert.equal(err.targetLayer, 'extra');
      return true;
    });
  });

  test('extra trailing file layers can be ignored on request (a head the base lacks)', async () => {
    const big = smallModel({ extraDense: true });
    randomize(big, 3);
    const path = join(dir, 'head.h5');
    await writeKerasH5(path, big);
    const target = smallModel();
    const report = await loadH5Weights(target, path, { extraSourceLayers: 'ignore' });
    assert.deepEqual(report.ignoredSourceLayers, ['extra']);
    const wb = weightValues(big);
    weightValues(target).forEach((v, i) => assert.deepEqual(Array.from(v), Array.from(wb[i] ?? [])));
  });

  test('a wrong shape deep inside is refused with that layer, even when the count matches', async () => {
    const { path } = await written('shape.h5');
    const input = tf.input({ shape: [8, 8, 3] });
    const layers = [
      tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }),
      tf.layers.batchNormalization({ axis: 3, name: 'b1' }),
      tf.layers.conv2d({ filters: 6, kernelSize: [3, 1], useBias: false, name: 'c2' }),
      tf.layers.batchNormalization({ axis: 3, scale: false, name: 'b2' }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 3, name: 'd' }),
    ];
    let x: tf.SymbolicTensor = input;
    for (const l of layers) {
      const y = l.apply(x);
      assert.ok(y instanceof tf.SymbolicTensor);
      x = y;
    }
    const model = tf.model({ inputs: input, outputs: x });
    await assert.rejects(checkH5Weights(model, path), (err: unknown) => {
      assert.ok(err instanceof WeightsMismatchError);
      assert.equal(err.sourceLayer, 'conv_b');
      assert.equal(err.targetLayer, 'c2');
      assert.match(err.message, /weighted layer #3/);
      assert.match(err.message, /\[1,3,4,6\]/);
      assert.match(err.message, /\[3,1,4,6\]/);
      return true;
    });
  });

  test('by-name mode matches on names whatever the order; by-order refuses the shuffled file', async () => {
    const { path, source } = await written('shuffled.h5', { order: (names) => [...names].reverse() });
    await assert.rejects(loadH5Weights(smallModel(), path), WeightsMismatchError);
    const target = smallModel();
    const report = await loadH5Weights(target, path, { mode: 'name' });
    assert.equal(report.layers.length, 5);
    assert.deepEqual(report.untouchedTargetLayers, []);
    assertSameOutputs(source, target);

    const renamed = smallModel({ prefix: 'x_' });
    const partial = await checkH5Weights(renamed, path, { mode: 'name' });
    assert.equal(partial.layers.length, 0);
    assert.equal(partial.untouchedTargetLayers.length, 5);
  });

  test('files that are not Keras weights are refused with a clear error', async () => {
    await assert.rejects(loadH5Weights(smallModel(), join(dir, 'missing.h5')), (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
    const text = join(dir, 'text.h5');
    writeFileSync(text, 'not an hdf5 file');
    await assert.rejects(loadH5Weights(smallModel(), text), /not an HDF5 file/);
    await h5wasm.ready;
    const plain = join(dir, 'plain.h5');
    const f = new h5wasm.File(plain, 'w');
    f.create_dataset({ name: 'x', data: new Float32Array([1, 2]) });
    f.close();
    await assert.rejects(loadH5Weights(smallModel(), plain), /no 'layer_names' attribute/);
    const { path: theano } = await written('theano.h5', { backend: 'theano' });
    await assert.rejects(loadH5Weights(smallModel(), theano), /Theano/);
  });
});
