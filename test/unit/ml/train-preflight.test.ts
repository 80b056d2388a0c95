/**
 * The pre-flight estimate: its tables agree with the built models, a configuration past the wasm heap,
 * the free memory or the free disk is refused with what fits (and what it proposes does fit), and the
 * defaults pass on a modest machine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AppError } from '../../../shared/errors';
import { ARCHITECTURES, MODEL_NAMES, buildBase, buildClassifier } from '../../../electron/core/ml/models/index';
import {
  ACTIVATIONS_PER_PIXEL,
  BASE_PARAMS,
  WASM_HEAP_BYTES,
  doesNotFit,
  preflight,
  scratchParams,
  type Machine,
  type PlannedRun,
} from '../../../electron/core/ml/train/preflight';

function activationsPerPixel(model: tf.LayersModel, size: number): number {
  let sum = 0;
  for (const l of model.layers) {
    const shapes = (Array.isArray(l.outputShape[0]) ? l.outputShape : [l.outputShape]) as Array<Array<number | null>>;
    for (const s of shapes) sum += s.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  }
  return sum / (size * size);
}

test("the tables are the built models' parameters and activations", () => {
  for (const size of [32, 128, 200]) {
    const m = buildClassifier('scratch', { inputSize: size });
    assert.equal(scratchParams(size), m.countParams(), `scratch parameters at ${size} px`);
    m.dispose();
  }
  for (const name of MODEL_NAMES) {
    const size = ARCHITECTURES[name].defaultInputSize;
    const m = name === 'scratch' ? buildClassifier(name, { inputSize: size }) : buildBase(name, { inputSize: size, pooling: 'avg', initializer: 'zeros' });
    if (name !== 'scratch') assert.equal(BASE_PARAMS[name], m.countParams(), `${name} parameters`);
    const measured = activationsPerPixel(m, size);
    const ratio = ACTIVATIONS_PER_PIXEL[name] / measured;
    assert.ok(ratio > 0.95 && ratio < 1.1, `${name}: table ${ACTIVATIONS_PER_PIXEL[name]}, built ${measured.toFixed(1)} activations per pixel`);
    m.dispose();
  }
});

const GB = 1024 ** 3;
const machine = (over: Partial<Machine> = {}): Machine => ({ memoryBytes: 16 * GB, tensorHeapBytes: WASM_HEAP_BYTES, backend: 'wasm', diskFreeBytes: 100 * GB, ...over });
const scratch = (over: Partial<PlannedRun> = {}): PlannedRun => ({
  model: 'scratch', inputSize: 128, batchSize: 32, optimizer: 'sgd', fromPixels: true, trainsNetwork: true, images: 1800, uncached: 1800, ...over,
});

function refusal(p: PlannedRun, m: Machine): string {
  try {
    preflight(p, m, ARCHITECTURES[p.model].minInputSize);
  } catch (err) {
    assert.ok(err instanceof AppError && err.code === 'BAD_INPUT');
    return err.message;
  }
  assert.fail(`${p.model} at ${p.inputSize} px, batch ${p.batchSize} was not refused`);
}

test('the defaults fit a modest machine; a scratch CNN at 1024 px does not fit the wasm heap, and what is proposed fits', () => {
  assert.equal(doesNotFit(scratch(), machine({ memoryBytes: 4 * GB })), null);
  assert.equal(doesNotFit({ ...scratch(), model: 'xception', inputSize: 299, fromPixels: false, trainsNetwork: false }, machine({ memoryBytes: 4 * GB })), null);
  const big = scratch({ inputSize: 1024, batchSize: 2 });
  const message = refusal(big, machine());
  assert.match(message, /scratch at 1024 px, batch 2 needs about [\d.]+ GB of tensor memory .* the wasm backend holds at most 3\.8 GB/);
  const size = Number(/--input-size (\d+) at batch 2/.exec(message)?.[1]);
  assert.ok(size >= 8 && size < 1024, message);
  assert.equal(doesNotFit({ ...big, inputSize: size }, machine()), null, 'the proposed input size fits');
  assert.equal(size % 8, 0, 'a round size');
  assert.notEqual(doesNotFit({ ...big, inputSize: size + 8 }, machine()), null, 'and the largest round one that does');
  assert.doesNotMatch(message, /--batch/, 'no batch fits at 1024 px: the weights alone take most of the heap');
});

test('pixels past the free memory and a cache past the free disk are refused before any work', () => {
  // 1800 images at 512 px hold 1.3 GiB of pixels: refused with 1.5 GiB free, a smaller batch does not help
  const memory = refusal(scratch({ inputSize: 512, batchSize: 4 }), machine({ memoryBytes: 1.5 * GB, tensorHeapBytes: null, backend: 'tensorflow' }));
  assert.match(memory, /needs about [\d.]+ GB of memory \(pixels of 1800 images 1\.3 GB, tensors/);
  assert.match(memory, /--input-size \d+ at batch 4/);
  const disk = refusal(scratch({ inputSize: 256 }), machine({ diskFreeBytes: 0.2 * GB }));
  assert.match(disk, /would write a 0\.3 GB pixel cache and the disk has 0\.2 GB free/);
  // images already cached cost no disk
  assert.equal(doesNotFit(scratch({ inputSize: 256, uncached: 0 }), machine({ diskFreeBytes: 0.2 * GB })), null);
});
