/**
 * A run's saved classifier on ONNX Runtime: exported once, with its preprocessing in the graph (raw RGB in
 * [0, 255], NHWC, float32 in; the probability of the second class out), and cached as models/<run-id>/
 * model.onnx. A sidecar records the sha256 of the tfjs weights it came from, so a re-saved checkpoint is
 * exported again instead of being served stale. Imports ONNX Runtime statically: load it with import().
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, WEIGHTS_BIN } from '../model-io';
import type { Preprocessing } from '../models/types';
import { OPSET, writeOnnx } from './export';
import { getSession, releaseSession, runBatch, type OnnxSessionOptions } from './runtime';

export const MODEL_ONNX = 'model.onnx';
const SIDECAR = 'model.onnx.json';

interface Sidecar {
  weightsSha256: string;
  onnxSha256: string;
  opset: number;
  preprocessing: Preprocessing;
}

async function weightsSha(dir: string): Promise<string> {
  return createHash('sha256').update(await readFile(join(dir, WEIGHTS_BIN))).digest('hex');
}

/**
 * The ONNX file of the checkpoint in `dir` (model.json + weights.bin), exported now if it is missing or
 * was exported from other weights. Returns its path and opset.
 */
export async function ensureClassifierOnnx(
  dir: string,
  preprocessing: Preprocessing,
  metadata: Record<string, string> = {},
): Promise<{ file: string; opset: number; exported: boolean }> {
  const file = join(dir, MODEL_ONNX);
  const sidecarFile = join(dir, SIDECAR);
  const sha = await weightsSha(dir);
  if (existsSync(file) && existsSync(sidecarFile)) {
    try {
      const side = JSON.parse(await readFile(sidecarFile, 'utf8')) as Sidecar;
      const onnxSha = createHash('sha256').update(await readFile(file)).digest('hex');
      if (side.weightsSha256 === sha && side.onnxSha256 === onnxSha && side.opset === OPSET && side.preprocessing === preprocessing) {
        return { file, opset: side.opset, exported: false };
      }
    } catch {
      // an unreadable sidecar: export again
    }
  }
  const model = await loadModel(dir);
  try {
    const written = await writeOnnx(model, file, { preprocessing, metadata: { threshold: '0.5', ...metadata } });
    const side: Sidecar = { weightsSha256: sha, onnxSha256: written.sha256, opset: written.opset, preprocessing };
    await writeFile(sidecarFile, `${JSON.stringify(side, null, 2)}\n`);
    return { file, opset: written.opset, exported: true };
  } finally {
    model.dispose();
  }
}

/**
 * Probabilities for raw RGB images (each size·size·3 bytes) with an exported classifier; the session is
 * ONNX Runtime's cached one for this file.
 */
export async function predictOnnx(
  file: string,
  images: readonly Uint8Array[],
  size: number,
  opts: OnnxSessionOptions & { batchSize?: number } = {},
): Promise<{ probabilities: Float32Array; provider: string; threads: number }> {
  const session = await getSession(file, opts);
  try {
    const batchSize = opts.batchSize ?? 16;
    const per = size * size * 3;
    const out = new Float32Array(images.length);
    for (let start = 0; start < images.length; start += batchSize) {
      const part = images.slice(start, start + batchSize);
      const data = new Float32Array(part.length * per);
      part.forEach((img, k) => {
        if (img.length !== per) throw new RangeError(`image ${start + k}: ${img.length} values, expected ${size}×${size}×3`);
        data.set(img, k * per);
      });
      const r = await runBatch(session, data, [part.length, size, size, 3]);
      if (r.data.length !== part.length) throw new Error(`the ONNX classifier returned ${r.data.length} values for ${part.length} images`);
      out.set(r.data, start);
    }
    return { probabilities: out, provider: session.provider, threads: session.threads };
  } finally {
    await releaseSession(session);
  }
}
