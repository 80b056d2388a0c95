/**
 * Engine choice for inference (`--engine auto|onnx|tfjs`): ONNX Runtime when its native module loads, else
 * TensorFlow.js. ONNX Runtime is imported dynamically here so a machine where its binary cannot load still
 * runs everything on TensorFlow.js; import this module, not runtime.ts/extractor.ts, where that matters.
 */
import type * as tf from '@tensorflow/tfjs';
import type { FeatureExtractor } from '../feature-extractor';
import { TfjsFeatureExtractor } from './features';
import type { Preprocessing } from '../models/types';
import type { OnnxExtractorOptions } from '../onnx/extractor';
import type { OnnxRuntimeReport } from '../onnx/runtime';

import type { EnginePref as Engine } from '../../../../shared/names';
export { ENGINE_PREFS as ENGINES, type EnginePref as Engine } from '../../../../shared/names';

export interface EngineChoice {
  extractor: FeatureExtractor;
  /** Why 'auto' fell back to TensorFlow.js (null when it did not). */
  fallback: string | null;
}

/**
 * A FeatureExtractor over `base` (whose output is pooled, or a 4-D map that ONNX export pools) with the
 * preprocessing its weights expect. 'onnx' fails if ONNX Runtime cannot run the model; 'auto' falls back.
 */
export async function createFeatureExtractor(
  engine: Engine,
  base: tf.LayersModel,
  preprocessing: Preprocessing,
  opts: OnnxExtractorOptions = {},
): Promise<EngineChoice> {
  if (engine === 'tfjs') return { extractor: new TfjsFeatureExtractor(base, preprocessing), fallback: null };
  try {
    const { OnnxFeatureExtractor } = await import('../onnx/extractor');
    return { extractor: await OnnxFeatureExtractor.fromModel(base, preprocessing, opts), fallback: null };
  } catch (err) {
    if (engine === 'onnx') throw err;
    const why = err instanceof Error ? err.message : String(err);
    return { extractor: new TfjsFeatureExtractor(base, preprocessing), fallback: `ONNX Runtime unavailable: ${why}` };
  }
}

/** For `doctor`: ONNX Runtime's version and providers, or why it does not load. */
export async function onnxRuntimeStatus(): Promise<{ loads: true; report: OnnxRuntimeReport } | { loads: false; error: string }> {
  try {
    const { onnxruntimeProviders } = await import('../onnx/runtime');
    return { loads: true, report: onnxruntimeProviders() };
  } catch (err) {
    return { loads: false, error: err instanceof Error ? err.message : String(err) };
  }
}
