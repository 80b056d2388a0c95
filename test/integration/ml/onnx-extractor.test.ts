/**
 * OnnxFeatureExtractor behind the FeatureExtractor interface: the same features as the TensorFlow.js
 * extractor from raw uint8 pixels, progress, cancel, input checks, and one cached session per model.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ImageBatch } from '../../../electron/core/ml/feature-extractor';
import { TfjsFeatureExtractor } from '../../../electron/core/ml/inference/features';
import { buildBase, preprocess } from '../../../electron/core/ml/models/index';
import { createFeatureExtractor, onnxRuntimeStatus } from '../../../electron/core/ml/inference/engine';
import { writeOnnx } from '../../../electron/core/ml/onnx/export';
import { OnnxFeatureExtractor } from '../../../electron/core/ml/onnx/extractor';
import { randomizeWeights } from '../../../electron/core/ml/onnx/random-weights';
import { seededRandom } from '../../../electron/core/random';
import { cachedSessionCount, onnxruntimeProviders, releaseSessions } from '../../../electron/core/ml/onnx/runtime';
import { compareArrays } from '../../../electron/core/ml/onnx/verify';

const SIZE = 64;
let base: tf.LayersModel;
let dir: string;

function batches(count: number, per: number, seed: number): ImageBatch[] {
  const rand = seededRandom(seed);
  const out: ImageBatch[] = [];
  for (let done = 0; done < count; done += per) {
    const n = Math.min(per, count - done);
    out.push({ pixels: Uint8Array.from({ length: n * SIZE * SIZE * 3 }, () => Math.floor(rand() * 256)), count: n });
  }
  return out;
}

before(async () => {
  await tf.setBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'onnx-extractor-'));
  base = buildBase('resnet50', { inputSize: SIZE, pooling: 'avg' });
  const calib = tf.tidy(() => preprocess(tf.randomUniform([4, SIZE, SIZE, 3], 0, 255, 'float32', 3), 'caffe'));
  randomizeWeights(base, 99, calib);
  calib.dispose();
});

after(async () => {
  base.dispose();
  await releaseSessions();
  await rm(dir, { recursive: true, force: true });
});

describe('OnnxFeatureExtractor', () => {
  test('same pooled features as the TensorFlow.js extractor, from uint8 batches of any size, with progress', async () => {
    const onnx = await OnnxFeatureExtractor.fromModel(base, 'caffe', { threads: 1, maxBatch: 4 });
    assert.equal(onnx.inputSize, SIZE);
    assert.equal(onnx.featureSize, 2048);
    assert.deepEqual(onnx.info, { engine: 'onnx', provider: 'cpu', threads: 1 });
    const input = batches(7, 5, 1); // 5 + 2 images; the first batch is split 4 + 1
    const progress: number[] = [];
    const got = await onnx.extract(input, { total: 7, onProgress: (p) => progress.push(p.done) });
    const ref = await new TfjsFeatureExtractor(base, 'caffe').extract(input);
    assert.equal(got.length, 7);
    assert.deepEqual(progress, [4, 5, 7]);
    for (let i = 0; i < 7; i++) {
      const a = got[i];
      const b = ref[i];
      assert.ok(a && b);
      const r = compareArrays(a, b);
      assert.ok(r.ok && r.maxAbsRef > 0.5, `image ${i}: ${JSON.stringify(r)}`);
    }
    await onnx.dispose();
    await assert.rejects(onnx.extract(input), /after dispose/);
  });

  test('cancel stops after the batch in flight', async () => {
    const onnx = await OnnxFeatureExtractor.fromModel(base, 'caffe', { threads: 1, maxBatch: 2 });
    const ac = new AbortController();
    let calls = 0;
    await assert.rejects(
      onnx.extract(batches(8, 8, 2), {
        signal: ac.signal,
        onProgress: () => {
          calls++;
          ac.abort();
        },
      }),
      (err: Error) => err.name === 'AbortError',
    );
    assert.equal(calls, 1);
    await onnx.dispose();
  });

  test('a batch of the wrong size is refused with what it received', async () => {
    const onnx = await OnnxFeatureExtractor.fromModel(base, 'caffe', { threads: 1 });
    await assert.rejects(onnx.extract([{ pixels: new Uint8Array(10), count: 1 }]), /10 values for 1 images of 64×64×3/);
    await onnx.dispose();
  });

  test('from a file: one cached session per model, whichever way it is loaded', async () => {
    await releaseSessions();
    const file = join(dir, 'resnet50.onnx');
    const written = await writeOnnx(base, file, { preprocessing: 'caffe' });
    assert.match(written.sha256, /^[0-9a-f]{64}$/);
    const a = await OnnxFeatureExtractor.fromOnnx(file, { threads: 1 });
    const b = await OnnxFeatureExtractor.fromOnnx(written.bytes, { threads: 1 });
    assert.equal(cachedSessionCount(), 1);
    const [fa] = await a.extract(batches(1, 1, 3));
    const [fb] = await b.extract(batches(1, 1, 3));
    assert.ok(fa && fb);
    assert.deepEqual(fa, fb);
    await a.dispose();
    await b.dispose();
    assert.equal(cachedSessionCount(), 1, 'an idle session stays cached for the next caller');
  });

  test('a model that does not pool is refused', async () => {
    const file = join(dir, 'unpooled.onnx');
    const x = tf.input({ shape: [SIZE, SIZE, 3] });
    const y = tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(x);
    assert.ok(y instanceof tf.SymbolicTensor);
    await writeOnnx(tf.model({ inputs: x, outputs: y }), file);
    await assert.rejects(OnnxFeatureExtractor.fromOnnx(file, { threads: 1 }), /output must be pooled features/);
  });

  test('providers are reported for the doctor', () => {
    const r = onnxruntimeProviders();
    assert.match(r.version, /^\d+\.\d+/);
    assert.deepEqual(
      r.providers.find((p) => p.name === 'cpu'),
      { name: 'cpu', available: true, detail: 'bundled' },
    );
    const cuda = r.providers.find((p) => p.name === 'cuda');
    assert.ok(cuda, 'the CUDA provider is listed');
    assert.equal(r.cudaHint === null, cuda.available);
  });

  test('engine choice: auto picks ONNX Runtime, tfjs on request, auto falls back when export fails', async () => {
    const auto = await createFeatureExtractor('auto', base, 'caffe', { threads: 1 });
    assert.equal(auto.extractor.info.engine, 'onnx');
    assert.equal(auto.fallback, null);
    await auto.extractor.dispose();
    const tfjs = await createFeatureExtractor('tfjs', base, 'caffe');
    assert.equal(tfjs.extractor.info.engine, 'tfjs');
    const x = tf.input({ shape: [SIZE, SIZE, 3] });
    const up = tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, name: 'up' }).apply(x);
    assert.ok(up instanceof tf.SymbolicTensor);
    const pooled = tf.layers.globalAveragePooling2d({}).apply(up);
    assert.ok(pooled instanceof tf.SymbolicTensor);
    const odd = tf.model({ inputs: x, outputs: pooled });
    const fellBack = await createFeatureExtractor('auto', odd, 'unit');
    assert.equal(fellBack.extractor.info.engine, 'tfjs');
    assert.match(fellBack.fallback ?? '', /layer "up" \(Conv2DTranspose\)/);
    await assert.rejects(createFeatureExtractor('onnx', odd, 'unit'), /Conv2DTranspose/);
    odd.dispose();
    const status = await onnxRuntimeStatus();
    assert.ok(status.loads);
  });
});
