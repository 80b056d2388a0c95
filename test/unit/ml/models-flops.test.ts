/** countFlops against a model small enough to count by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { countFlops, flopsByLayer } from '../../../electron/core/ml/models/flops';

test('countFlops: 2 per multiply-add of Conv2D, SeparableConv2D, DepthwiseConv2D and Dense, plus bias adds', () => {
  const input = tf.input({ shape: [8, 8, 3] });
  const ap = (l: tf.layers.Layer, x: tf.SymbolicTensor): tf.SymbolicTensor => {
    const y = l.apply(x);
    assert.ok(y instanceof tf.SymbolicTensor);
    return y;
  };
  let x = ap(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }), input); // 8x8x4
  x = ap(tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same', useBias: false, name: 's' }), x);
  x = ap(tf.layers.depthwiseConv2d({ kernelSize: [1, 3], strides: 2, depthMultiplier: 2, name: 'd' }), x); // 4x3x10
  x = ap(tf.layers.globalAveragePooling2d({ name: 'p' }), x);
  x = ap(tf.layers.dense({ units: 2, name: 'f' }), x);
  const model = tf.model({ inputs: input, outputs: x });

  const expected = {
    c: 2 * 8 * 8 * 4 * (3 * 3 * 3) + 8 * 8 * 4,
    s: 2 * 8 * 8 * 4 * 9 + 2 * 8 * 8 * 4 * 5,
    d: 2 * 4 * 3 * 10 * 3 + 4 * 3 * 10,
    p: 0,
    f: 2 * 10 * 2 + 2,
  };
  const byLayer = Object.fromEntries(flopsByLayer(model).filter((l) => l.className !== 'InputLayer').map((l) => [l.name, l.flops]));
  assert.deepEqual(byLayer, expected);
  assert.equal(countFlops(model), Object.values(expected).reduce((a, b) => a + b, 0));
  model.dispose();
});
