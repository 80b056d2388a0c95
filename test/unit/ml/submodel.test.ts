/**
 * Cutting a model: the cut points of a chain and of a branched graph, the cut chosen below the layers to
 * train, and the top model rebuilt from a cut computing what the whole model computes above it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import { buildTopModel, chooseCut, cutPoints } from '../../../electron/core/ml/models/submodel';

type ST = tf.SymbolicTensor;
const L = tf.layers;
/** stem → two branches joined by `join1` (a residual add around `b2`) → dense. */
function branched(): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2], name: 'in' });
  const stem = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'stem' }), input);
  const a1 = ap(L.conv2d({ filters: 4, kernelSize: 1, name: 'a1' }), stem);
  const b1 = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'b1' }), stem);
  const b2 = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'b2' }), b1);
  const cat = ap(L.concatenate({ name: 'join1' }), [a1, b2]);
  const r1 = ap(L.conv2d({ filters: 8, kernelSize: 1, name: 'r1' }), cat);
  const add = ap(L.add({ name: 'join2' }), [cat, r1]);
  const act = ap(L.activation({ activation: 'relu', name: 'join2_act' }), add);
  const pool = ap(L.globalAveragePooling2d({ name: 'pool' }), act);
  const out = ap(L.dense({ units: 1, activation: 'sigmoid', name: 'out' }), pool);
  return tf.model({ inputs: input, outputs: out, name: 'branched' });
}

describe('submodel', () => {
  test('a chain can be cut after every layer but the last', () => {
    const m = tf.sequential({
      layers: [L.dense({ units: 3, inputShape: [2], name: 'd1' }), L.dense({ units: 3, name: 'd2' }), L.dense({ units: 1, name: 'd3' })],
    });
    assert.deepEqual(cutPoints(m), ['d1', 'd2']);
    m.dispose();
  });

  test('a branched model is cut only at block boundaries; the cut snaps below the lowest layer to train', () => {
    const m = branched();
    try {
      // a1, b1, b2 sit inside the first block, r1 beside the residual's skip connection
      assert.deepEqual(cutPoints(m), ['stem', 'join1', 'join2', 'join2_act', 'pool']);
      assert.equal(chooseCut(m, new Set(['out']))?.cut, 'pool');
      assert.equal(chooseCut(m, new Set(['r1', 'out']))?.cut, 'join1');
      const lowInBlock = chooseCut(m, new Set(['b2', 'r1', 'out']));
      assert.equal(lowInBlock?.cut, 'stem');
      assert.deepEqual(lowInBlock?.shape, [6, 6, 4]);
      assert.equal(lowInBlock?.weightedAbove, 5); // a1, b1, b2, r1, out
      assert.equal(chooseCut(m, new Set(['stem'])), null);
    } finally {
      m.dispose();
    }
  });

  test('the top model on the activations at the cut gives the whole model\'s output, with copied weights', () => {
    const m = branched();
    const x = tf.randomNormal([3, 6, 6, 2], 0, 1, 'float32', 5);
    try {
      for (const cut of ['stem', 'join1', 'join2_act']) {
        const top = buildTopModel(m, cut);
        const toCut = tf.model({ inputs: m.inputs, outputs: m.getLayer(cut).output as ST });
        const [whole, viaTop] = tf.tidy(() => [m.predict(x) as tf.Tensor, top.predict(toCut.predict(x) as tf.Tensor) as tf.Tensor].map((t) => t.dataSync()));
        assert.ok(whole && viaTop);
        whole.forEach((v, i) => assert.ok(Math.abs(v - (viaTop[i] ?? NaN)) < 1e-6, `${cut}: ${v} vs ${viaTop[i]}`));
        // copies, not shared variables: changing the top leaves the model alone
        const r1 = top.layers.find((l) => l.name === 'out');
        assert.ok(r1);
        r1.setWeights(r1.getWeights().map((w) => tf.zerosLike(w)));
        const still = tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync());
        assert.deepEqual(Array.from(still), Array.from(whole));
        top.dispose();
      }
      assert.throws(() => buildTopModel(m, 'b1'), /'b1' is not a cut of branched: \w+ also reads/);
    } finally {
      x.dispose();
      m.dispose();
    }
  });
});
