/** The exporter's arithmetic and the structure of the graphs it writes (no inference here). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { apply as ap } from '../../../electron/core/ml/models/graph';
import { exportOnnx, OPSET, SUPPORTED_LAYERS } from '../../../electron/core/ml/onnx/export';
import { onnx } from '../../../electron/core/ml/onnx/graph-builder';
import { depthwiseToOnnx, foldIntoConv, hwioToOihw, samePads } from '../../../electron/core/ml/onnx/weights';
import { compareArrays } from '../../../electron/core/ml/onnx/verify';

describe('TensorFlow same padding', () => {
  test('matches TF: the odd pixel goes bottom/right', () => {
    assert.deepEqual(samePads(224, 7, 2), [2, 3]);
    assert.deepEqual(samePads(17, 3, 2), [1, 1]);
    assert.deepEqual(samePads(16, 3, 2), [0, 1]);
    assert.deepEqual(samePads(9, 4, 2), [1, 2]);
    assert.deepEqual(samePads(10, 3, 1), [1, 1]);
    assert.deepEqual(samePads(10, 1, 2), [0, 0]);
    assert.deepEqual(samePads(10, 2, 1, 2), [1, 1]);
  });
});

describe('weight layouts', () => {
  test('HWIO → OIHW moves every element to [o, i, y, x]', () => {
    const [kh, kw, ci, co] = [2, 3, 4, 5];
    const data = Float32Array.from({ length: kh * kw * ci * co }, (_, i) => i);
    const out = hwioToOihw({ shape: [kh, kw, ci, co], data });
    assert.deepEqual(out.shape, [co, ci, kh, kw]);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < ci; i++)
          for (let o = 0; o < co; o++) {
            assert.equal(out.data[((o * ci + i) * kh + y) * kw + x], data[((y * kw + x) * ci + i) * co + o]);
          }
  });

  test('depthwise [kh, kw, C, m] → [C·m, 1, kh, kw], output channel c·m + k', () => {
    const [kh, kw, c, m] = [3, 2, 3, 2];
    const data = Float32Array.from({ length: kh * kw * c * m }, (_, i) => i + 0.5);
    const out = depthwiseToOnnx({ shape: [kh, kw, c, m], data });
    assert.deepEqual(out.shape, [c * m, 1, kh, kw]);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < c; i++)
          for (let k = 0; k < m; k++) assert.equal(out.data[((i * m + k) * kh + y) * kw + x], data[((y * kw + x) * c + i) * m + k]);
  });

  test('batch norm folded into a 1×1 convolution gives BN(conv(x)) for any x', () => {
    const weight = { shape: [2, 3, 1, 1], data: Float32Array.from([0.5, -1, 2, 1.5, 0.25, -0.75]) };
    const bias = Float32Array.from([0.1, -0.2]);
    const bn = {
      gamma: Float32Array.from([1.3, 0.6]),
      beta: Float32Array.from([-0.4, 0.9]),
      mean: Float32Array.from([0.7, -1.1]),
      variance: Float32Array.from([2.5, 0.3]),
      epsilon: 1e-3,
    };
    const folded = foldIntoConv(weight, bias, bn);
    const x = [0.3, -2, 1.25];
    for (let o = 0; o < 2; o++) {
      let conv = bias[o] ?? 0;
      let fused = folded.bias[o] ?? 0;
      for (let i = 0; i < 3; i++) {
        conv += (weight.data[o * 3 + i] ?? 0) * (x[i] ?? 0);
        fused += (folded.weight.data[o * 3 + i] ?? 0) * (x[i] ?? 0);
      }
      const g = bn.gamma[o] ?? 0;
      const expected = ((conv - (bn.mean[o] ?? 0)) / Math.sqrt((bn.variance[o] ?? 0) + bn.epsilon)) * g + (bn.beta[o] ?? 0);
      assert.ok(Math.abs(fused - expected) < 1e-5, `channel ${o}: ${fused} vs ${expected}`);
    }
  });
});

function smallModel(): tf.LayersModel {
  const x = tf.input({ shape: [15, 15, 3], name: 'img' });
  let y = ap(tf.layers.zeroPadding2d({ padding: [[3, 2], [1, 3]], name: 'pad_conv' }), x);
  y = ap(tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, useBias: false, name: 'conv' }), y);
  y = ap(tf.layers.batchNormalization({ name: 'bn' }), y);
  y = ap(tf.layers.activation({ activation: 'relu', name: 'relu' }), y);
  y = ap(tf.layers.zeroPadding2d({ padding: 1, name: 'pad_pool' }), y);
  y = ap(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool' }), y);
  y = ap(tf.layers.flatten({ name: 'flat' }), y);
  y = ap(tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'out' }), y);
  return tf.model({ inputs: x, outputs: y, name: 'small' });
}

describe('exported graph', () => {
  test('opset, one input transpose, batch norm folded, zero padding folded into the conv, a Pad before the pool', () => {
    const model = smallModel();
    const e = exportOnnx(model);
    const proto = onnx.ModelProto.decode(e.bytes);
    assert.equal(e.opset, OPSET);
    assert.equal(Number(proto.opsetImport[0]?.version), OPSET);
    const nodes = proto.graph?.node ?? [];
    const ops = nodes.map((n) => n.opType);
    assert.equal(ops[0], 'Transpose', 'the first node makes the NHWC input NCHW');
    assert.equal(ops.filter((o) => o === 'Transpose').length, 2, 'input, and before Flatten');
    assert.ok(!ops.includes('BatchNormalization'), `batch norm not folded: ${ops.join(' ')}`);
    assert.equal(ops.filter((o) => o === 'Pad').length, 1, 'only the zero padding before the max pool is a Pad');
    const conv = nodes.find((n) => n.opType === 'Conv');
    const pads = (conv?.attribute ?? []).find((a) => a.name === 'pads')?.ints?.map(Number);
    assert.deepEqual(pads, [3, 1, 2, 3], 'ONNX pads [top, left, bottom, right] from ZeroPadding2D');
    assert.equal(proto.graph?.initializer?.length, 5, 'conv W and B (BN folded in), the pads of the Pad, dense W and B');
    assert.deepEqual(e.input, { name: 'input', shape: ['batch', 15, 15, 3], layout: 'NHWC', preprocessing: 'none' });
    assert.deepEqual(e.outputs, [{ name: 'output', shape: ['batch', 1] }]);
    const meta = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta.opset, String(OPSET));
    assert.equal(meta.input_layout, 'NHWC float32');
    model.dispose();
  });

  test('folding off keeps a BatchNormalization node; pooling and outputLayers reshape the outputs', () => {
    const model = smallModel();
    const unfolded = onnx.ModelProto.decode(exportOnnx(model, { foldBatchNorm: false }).bytes);
    assert.ok((unfolded.graph?.node ?? []).some((n) => n.opType === 'BatchNormalization'));
    const cut = exportOnnx(model, { outputLayers: ['relu'] });
    assert.deepEqual(cut.outputs, [{ name: 'output', shape: ['batch', 9, 9, 4] }]);
    const pooled = exportOnnx(model, { outputLayers: ['relu', 'pool'], pool: 'avg', batchSize: 4 });
    assert.deepEqual(pooled.outputs, [
      { name: 'output_0', shape: [4, 4] },
      { name: 'output_1', shape: [4, 4] },
    ]);
    model.dispose();
  });

  test('an unsupported layer is refused with its name and class', () => {
    const x = tf.input({ shape: [8, 8, 3] });
    const y = ap(tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, name: 'up_conv' }), x);
    const model = tf.model({ inputs: x, outputs: y });
    assert.throws(() => exportOnnx(model), /layer "up_conv" \(Conv2DTranspose\).*no converter/);
    assert.ok(!SUPPORTED_LAYERS.includes('Conv2DTranspose'));
    model.dispose();
  });

  test('an unsupported activation is refused with the layer and the activation', () => {
    const x = tf.input({ shape: [4] });
    const y = ap(tf.layers.dense({ units: 2, activation: 'gelu', name: 'fc' }), x);
    assert.throws(() => exportOnnx(tf.model({ inputs: x, outputs: y })), /layer "fc" \(Dense\).*activation "gelu"/);
  });
});

describe('parity comparison', () => {
  test('relative to max(1, |b|), NaN fails', () => {
    const ref = Float32Array.from([1000, 0.5, -3]);
    assert.ok(compareArrays(Float32Array.from([1000.05, 0.50005, -3.0002]), ref).ok);
    assert.ok(!compareArrays(Float32Array.from([1000.2, 0.5, -3]), ref).ok);
    assert.ok(!compareArrays(Float32Array.from([1000, 0.5002, -3]), ref).ok);
    assert.ok(!compareArrays(Float32Array.from([1000, Number.NaN, -3]), ref).ok);
    assert.throws(() => compareArrays(new Float32Array(2), ref), /sizes differ/);
  });
});
