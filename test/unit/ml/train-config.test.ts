import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildClassifier, buildHead } from '../../../electron/core/ml/models';
import { classWeightsFor, defaultConfig, resolveConfig } from '../../../electron/core/ml/train/config';
import { disposeSnapshot, restoreWeights, scheduledLr, snapshotWeights } from '../../../electron/core/ml/train/loop';
import { featureStats, standardize } from '../../../electron/core/stats/standardize';
import { foldStandardization, unfreezeTop } from '../../../electron/core/ml/train/transfer';

describe('resolveConfig', () => {
  test('fills the defaults and keeps what was given', () => {
    const c = resolveConfig({ model: 'scratch', epochs: 3, inputSize: 64 });
    assert.equal(c.epochs, 3);
    assert.equal(c.inputSize, 64);
    assert.equal(c.optimizer, 'sgd');
    assert.equal(c.augment, true);
    assert.equal(c.weights, 'none');
    assert.equal(resolveConfig({ model: 'resnet50' }).inputSize, defaultConfig('resnet50').inputSize);
    assert.equal(resolveConfig({ model: 'vgg19' }).augment, false);
  });

  test('refuses what cannot work, naming the value', () => {
    assert.throws(() => resolveConfig({ model: 'inception_v3', inputSize: 32 }), /at least 75 px; received 32/);
    assert.throws(() => resolveConfig({ model: 'scratch', weights: 'imagenet' }), /scratch trains from random weights/);
    assert.throws(() => resolveConfig({ model: 'scratch', fineTuneLayers: 2 }), /fine-tune-layers/);
    assert.throws(() => resolveConfig({ model: 'resnet50', weights: 'nsfwjs' }), /InceptionV3; received --model resnet50/);
  });

  test('fine-tuning runs at a tenth of a given learning rate', () => {
    assert.equal(resolveConfig({ model: 'xception', lr: 0.05, fineTuneLayers: 3 }).fineTuneLr, 0.005);
  });
});

test('class weights: balanced gives each class half of the total weight', () => {
  assert.deepEqual(classWeightsFor('none', [0, 1, 1]), [1, 1]);
  const [w0, w1] = classWeightsFor('balanced', [0, 1, 1, 1]);
  assert.equal(w0 * 1, w1 * 3); // one negative weighs as much as three positives
  assert.equal(w0 * 1 + w1 * 3, 4);
  assert.deepEqual(classWeightsFor([2, 5], [0, 1]), [2, 5]);
});

test('standardised features through the head equal raw features through the folded classifier head', () => {
  const dim = 6;
  const rows = Array.from({ length: 10 }, (_, i) => Float32Array.from({ length: dim }, (_, j) => (j === 5 ? 3 : Math.sin(i * 7 + j) * (j + 1) + j)));
  const stats = featureStats(rows, dim);
  assert.equal(stats.std[5], 1, 'a constant dimension is left unscaled');
  const head = buildHead(dim, { dropout: 0.3 });
  const folded = buildHead(dim, { dropout: 0.3 });
  folded.setWeights(head.getWeights());
  foldStandardization(folded, stats);
  const z = standardize(rows, stats);
  const a = head.predict(tf.tensor2d(z.flatMap((r) => [...r]), [10, dim])) as tf.Tensor;
  const b = folded.predict(tf.tensor2d(rows.flatMap((r) => [...r]), [10, dim])) as tf.Tensor;
  const diff = Math.max(...Array.from(a.dataSync()).map((v, i) => Math.abs(v - (b.dataSync()[i] ?? 0))));
  assert.ok(diff < 1e-5, `max difference ${diff}`);
  tf.dispose([a, b]);
  head.dispose();
  folded.dispose();
});

test('weight snapshots survive a change of trainability (getWeights would reorder them)', () => {
  const model = buildClassifier('vgg19', { inputSize: 32, initializer: 'zeros' });
  const conv = model.getLayer('block1_conv1');
  const before = conv.getWeights().map((t) => t.shape.join('x'));
  const snap = snapshotWeights(model);
  const opened = unfreezeTop(model, 2);
  assert.deepEqual(opened, ['block5_conv3', 'block5_conv4']);
  assert.ok(model.getLayer('head_dense').trainable && !conv.trainable);
  restoreWeights(model, snap);
  assert.deepEqual(conv.getWeights().map((t) => t.shape.join('x')), before);
  disposeSnapshot(snap);
  model.dispose();
});

describe('scheduledLr', () => {
  test('constant keeps the rate; cosine starts at it, halves it midway and falls towards 0 without reaching it', () => {
    assert.deepEqual([0, 5, 9].map((e) => scheduledLr(0.01, 'constant', e, 10)), [0.01, 0.01, 0.01]);
    const cos = Array.from({ length: 10 }, (_, e) => scheduledLr(0.01, 'cosine', e, 10));
    assert.equal(cos[0], 0.01);
    assert.ok(Math.abs((cos[5] ?? 0) - 0.005) < 1e-12);
    assert.ok(cos.every((v, i) => i === 0 || v < (cos[i - 1] ?? 0)), 'falls every epoch');
    assert.ok((cos[9] ?? 0) > 0 && (cos[9] ?? 1) < 0.0003);
    assert.equal(scheduledLr(0.01, 'cosine', 0, 1), 0.01);
  });
});
