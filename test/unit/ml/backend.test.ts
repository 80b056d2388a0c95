import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { detectCuda, initBackend, probeBackends } from '../../../electron/core/ml/backend/backend';

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');

test('auto picks the best backend that loads and lists every attempt before it', async () => {
  const info = await initBackend('auto');
  assert.equal(tf.getBackend(), info.name);
  const last = info.tried.at(-1);
  assert.equal(last?.ok, true);
  assert.ok(info.tried.slice(0, -1).every((t) => !t.ok && typeof t.error === 'string' && t.error.length > 0));
  if (!nativeInstalled) {
    assert.equal(info.name, 'wasm');
    assert.deepEqual(
      info.tried.map((t) => t.name),
      ['tensorflow-gpu', 'tensorflow-cpu', 'wasm'],
    );
    assert.match(info.device, /^CPU \(wasm/);
    assert.equal(info.threads, false);
  }
  assert.equal(await initBackend('auto'), await initBackend('auto'), 'a second call returns the first answer');
});

test('wasm registers the training kernels; cpu and wasm can be chosen explicitly', async () => {
  const cpu = await initBackend('cpu');
  assert.deepEqual([cpu.name, tf.getBackend(), cpu.device], ['cpu', 'cpu', 'CPU (JavaScript)']);
  const wasm = await initBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(wasm.device, wasm.simd ? 'CPU (wasm SIMD)' : 'CPU (wasm)');
  for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
    assert.ok(tf.getKernel(k, 'wasm'), `${k} registered for wasm`);
  }
});

test('an explicit tensorflow preference that cannot load is an error naming the packages', { skip: nativeInstalled }, async () => {
  await assert.rejects(initBackend('tensorflow'), /tfjs-node-gpu is not installed.*tfjs-node is not installed/);
});

test('the doctor probe reports each backend and the CUDA findings', async () => {
  const report = await probeBackends();
  assert.deepEqual(
    report.backends.map((b) => b.name),
    ['tensorflow-gpu', 'tensorflow-cpu', 'wasm', 'cpu'],
  );
  const wasm = report.backends.find((b) => b.name === 'wasm');
  assert.equal(wasm?.loads, true);
  assert.equal(typeof report.wasm.simd, 'boolean');
  for (const b of report.backends) assert.equal(b.loads, b.device !== null);
  const cuda = await detectCuda();
  if (cuda.platform === 'linux') {
    assert.ok(cuda.libraries.some((l) => l.name === 'libcudart.so.11.0'));
    assert.ok(cuda.libraries.some((l) => l.name === 'libcudnn.so.8'));
  }
  if (!cuda.gpuReady) assert.match(cuda.hint, /CUDA 11\.2/);
});
