/**
 * The stage-2 part of `npm run bench -- train-engine`: one fine-tuning epoch of InceptionV3 with the nsfwjs
 * weights (offline, from the nsfwjs package) from activations cached at the cut, as the run trains it: the
 * top model above the cut (open layers trainable, BatchNormalization in inference mode, dropout off), SGD
 * momentum, on ONNX Runtime's training graph vs TensorFlow.js wasm (what stage 2 ran on before). An epoch is
 * `--ft-images` images in batches of `--batch`; its time comes from the measured steps.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { buildClassifier } from '../../electron/core/ml/models/index';
import { buildTopModel, chooseCut } from '../../electron/core/ml/models/submodel';
import { OnnxTrainer } from '../../electron/core/ml/onnx/training/trainer';
import { TfjsEngine } from '../../electron/core/ml/train/engine';
import { unfreezeTop } from '../../electron/core/ml/train/transfer';
import { loadWeightsInto } from '../../electron/core/ml/weights/registry';
import { findNsfwjs } from '../../electron/core/ml/weights';
import { Rng } from '../../electron/core/random';

export interface FineTuneArgs {
  size: number;
  batch: number;
  open: number;
  images: number;
  steps: number;
  wasmSteps: number;
  threads: number;
  spinning: boolean;
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

async function perStep(steps: number, step: () => Promise<void>): Promise<number> {
  await step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (performance.now() - t0) / steps;
}

export async function fineTuneBench(a: FineTuneArgs): Promise<void> {
  if (!findNsfwjs()) {
    console.log('stage-2 fine-tuning: skipped (the nsfwjs package is not installed)');
    return;
  }
  const classifier = buildClassifier('inception_v3', { inputSize: a.size });
  await loadWeightsInto('inception_v3', classifier, 'nsfwjs');
  const choice = chooseCut(classifier, new Set(unfreezeTop(classifier, a.open)));
  if (!choice) throw new Error('inception_v3: no cut below the open layers');
  const top = buildTopModel(classifier, choice.cut);
  classifier.dispose();
  const trainable = top.trainableWeights.reduce((s, w) => s + w.shape.reduce<number>((p, d) => p * (d ?? 1), 1), 0);
  const stepsPerEpoch = Math.ceil(a.images / a.batch);
  console.log(
    `stage-2 fine-tuning: InceptionV3 (nsfwjs) at ${a.size} px, top ${a.open} weighted layers open: cut '${choice.cut}' [${choice.shape.join('x')}], ` +
      `${top.layers.length} layers above it, ${trainable} trainable parameters; an epoch = ${a.images} images, batch ${a.batch} (${stepsPerEpoch} steps)`,
  );
  const rng = new Rng(5);
  const per = choice.shape.reduce((p, d) => p * d, 1);
  const x = Float32Array.from({ length: a.batch * per }, () => Math.max(0, rng.range(-1, 2)));
  const labels = Array.from({ length: a.batch }, (_, i) => i % 2);
  const weights = labels.map(() => 1);
  const opts = { optimizer: 'sgd', lr: 0.001, momentum: 0.9, training: false, seed: 3 } as const;

  const trainer = await OnnxTrainer.create(top, { ...opts, threads: a.threads, spinning: a.spinning });
  const xo = new ort.Tensor('float32', x, [a.batch, ...choice.shape]);
  const group = Array.from({ length: trainer.stepsPerRun }, () => ({ x: xo, labels, weights }));
  const ortMs = (await perStep(Math.max(1, Math.ceil(a.steps / trainer.stepsPerRun)), async () => void (await trainer.stepsValues(group)))) / trainer.stepsPerRun;
  await trainer.dispose();
  const ortRss = peakRss();
  console.log(`  ONNX Runtime (${trainer.stepsPerRun} steps/run)   ${ortMs.toFixed(0).padStart(6)} ms/step ${((a.batch * 1000) / ortMs).toFixed(1).padStart(7)} img/s   epoch ${((ortMs * stepsPerEpoch) / 1000).toFixed(1)} s | peak RSS ${mb(ortRss)}`);

  if (a.wasmSteps > 0) {
    const engine = new TfjsEngine(top, opts, false, 3);
    const xt = tf.tensor(x, [a.batch, ...choice.shape]);
    const wasmMs = await perStep(a.wasmSteps, async () => void (await engine.step(xt, labels, weights)));
    xt.dispose();
    await engine.dispose();
    console.log(`  TensorFlow.js ${tf.getBackend()}            ${wasmMs.toFixed(0).padStart(6)} ms/step ${((a.batch * 1000) / wasmMs).toFixed(1).padStart(7)} img/s   epoch ${((wasmMs * stepsPerEpoch) / 1000).toFixed(1)} s | peak RSS ${mb(peakRss())} (both engines)`);
    console.log(`  stage-2 epoch, ONNX Runtime / TensorFlow.js ${tf.getBackend()}: ${(wasmMs / ortMs).toFixed(1)}x faster (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  }
  top.dispose();
}
