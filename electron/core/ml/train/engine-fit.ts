/**
 * `fit` on the engine a run asked for: ONNX Runtime's training graph when it can train the model ('auto'
 * falls back to TensorFlow.js and says why), else TensorFlow.js on the model's own variables. The engine's
 * dropout stream is seeded from the run's stream exactly where `fit` would draw it for TensorFlow.js, so a
 * run on either engine consumes the run's stream (shuffles, augmentation) identically.
 */
import type * as tf from '@tensorflow/tfjs';
import type { EnginePref } from '../../../../shared/names';
import { createTrainEngine, type EngineInfo } from './engine';
import { fit, type FitData, type FitHooks, type FitOptions, type FitResult } from './loop';

export interface EngineFitResult extends FitResult {
  engine: EngineInfo;
  /** Why 'auto' trained on TensorFlow.js (null when it did not fall back). */
  fallback: string | null;
}

export async function fitOnEngine(
  pref: EnginePref,
  model: tf.LayersModel,
  data: FitData,
  opts: Omit<FitOptions, 'engine'>,
  hooks: FitHooks,
  onEngine?: (info: EngineInfo, fallback: string | null) => void,
): Promise<EngineFitResult> {
  const choice = await createTrainEngine(pref, model, { optimizer: opts.optimizer, lr: opts.lr, momentum: opts.momentum, training: opts.training, seed: opts.rng.seed() });
  try {
    onEngine?.(choice.engine.info, choice.fallback);
    const r = await fit(model, data, { ...opts, engine: choice.engine }, hooks);
    return { ...r, engine: choice.engine.info, fallback: choice.fallback };
  } finally {
    await choice.engine.dispose();
  }
}

/** What a run records of the engine that trained a stage: `onnx (cpu)`, `tfjs (wasm)`. */
export function engineLabel(info: EngineInfo): string {
  return `${info.engine} (${info.provider})`;
}
