/**
 * Checks an exported ONNX model against the tfjs model it came from, on the same inputs: the parity the
 * tests require and what `export-model` can run before it says "done".
 */
import * as tf from '@tensorflow/tfjs';
import { getSession, releaseSession, runBatch, type OnnxSessionOptions } from './runtime';

export interface ParityReport {
  /** Values compared. */
  count: number;
  maxAbsDiff: number;
  /** max over values of |onnx − tfjs| / max(1, |tfjs|). */
  maxRelDiff: number;
  /** Largest |tfjs| value, so a report shows whether the outputs were far from zero. */
  maxAbsRef: number;
  /** maxRelDiff ≤ tolerance. */
  ok: boolean;
  tolerance: number;
}

/** Compares element by element; `tolerance` bounds |a − b| / max(1, |b|) (default 1e-4). */
export function compareArrays(onnx: Float32Array, ref: Float32Array | Int32Array | Uint8Array, tolerance = 1e-4): ParityReport {
  if (onnx.length !== ref.length) throw new Error(`output sizes differ: ONNX ${onnx.length}, tfjs ${ref.length}`);
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  let maxAbsRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const b = ref[i] ?? 0;
    const d = Math.abs((onnx[i] ?? 0) - b);
    // NaN anywhere must fail, and NaN compares false with everything
    const rel = Number.isNaN(d) ? Infinity : d / Math.max(1, Math.abs(b));
    if (d > maxAbsDiff || Number.isNaN(d)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
    if (rel > maxRelDiff) maxRelDiff = rel;
    if (Math.abs(b) > maxAbsRef) maxAbsRef = Math.abs(b);
  }
  return { count: ref.length, maxAbsDiff, maxRelDiff, maxAbsRef, ok: maxRelDiff <= tolerance, tolerance };
}

/**
 * Runs `images` (NHWC, what the ONNX graph's input takes) through ONNX Runtime and `images` or
 * `tfjsImages` (when the ONNX graph has preprocessing built in and the tfjs model does not) through the tfjs
 * model, and compares the first outputs.
 */
export async function checkParity(
  model: tf.LayersModel,
  onnxBytes: Uint8Array,
  images: tf.Tensor,
  opts: { tfjsImages?: tf.Tensor; tolerance?: number; session?: OnnxSessionOptions } = {},
): Promise<ParityReport> {
  const ref = tf.tidy(() => {
    const out = model.predict(opts.tfjsImages ?? images);
    const first = Array.isArray(out) ? out[0] : out;
    if (!first) throw new Error('tfjs model returned no output');
    return first.dataSync().slice();
  });
  const session = await getSession(onnxBytes, opts.session);
  const input = images.dataSync();
  const data = input instanceof Float32Array ? input : Float32Array.from(input);
  try {
    const got = await runBatch(session, data, images.shape);
    return compareArrays(got.data, ref, opts.tolerance);
  } finally {
    await releaseSession(session);
  }
}
