/**
 * A model scored with its images' faces (`--faces`, any model): each image's faces are found (faces/crops.ts,
 * the detections cached by file content), cropped square at the model's input size from the full-resolution
 * photo, and scored by the same function as the whole image (its TTA views; a K-fold run's folds averaged).
 * The image's probability is then faces/combine.ts's rule, the one the label doubts use. Nothing trains on
 * faces: the model that learnt whole photos judges the crops, so any checkpoint can be scored this way.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FaceFinder, faceCrops, type DetectOptions, type FaceFile } from '../../faces/crops';
import { withFaceScore } from '../../faces/combine';
import { throwIfAborted } from '../../jobs/progress';

/** A photo whose faces are scored; with its bytes (predict read them to decode it), it is not read again. */
export type FaceSource = FaceFile;

export interface FaceScoreOptions extends DetectOptions {
  /** Crops scored at once (default 32). */
  batchSize?: number;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface FaceScores {
  /** Per source, its faces' probabilities (empty where none counts, or its photo could not be cropped). */
  faces: Float32Array[];
  /** Images searched for faces now (the others' detections were cached). */
  detected: number;
}

/** The sha256 of a photo's bytes: the key its detections are cached under (bytes already read: no second read). */
export function bytesSha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The sha256 of a file's bytes, read from its path. */
export async function fileSha256(path: string): Promise<string> {
  return bytesSha256(await readFile(path));
}

/**
 * Every source's faces scored by `score` (p of class 1 for size·size·3 RGB images). `finder` may be shared
 * across calls (predict's batches), so the detector loads once.
 */
export async function faceScores(
  finder: FaceFinder,
  sources: readonly FaceSource[],
  size: number,
  score: (images: Uint8Array[]) => Promise<Float32Array>,
  opts: FaceScoreOptions = {},
): Promise<FaceScores> {
  const progress = opts.onProgress ?? (() => {});
  const { faces, detected } = await finder.faces(sources, progress);
  const out = sources.map(() => new Float32Array(0));
  const total = faces.reduce((s, f) => s + f.length, 0);
  const batchSize = opts.batchSize ?? 32;
  let pending: Array<{ owner: number; crops: Uint8Array[] }> = [];
  let count = 0;
  let done = 0;
  const flush = async (): Promise<void> => {
    if (count === 0) return;
    const p = await score(pending.flatMap((x) => x.crops));
    let k = 0;
    for (const x of pending) {
      out[x.owner] = p.slice(k, k + x.crops.length);
      k += x.crops.length;
    }
    done += count;
    progress('face crops', done, total);
    pending = [];
    count = 0;
  };
  for (const [i, src] of sources.entries()) {
    throwIfAborted(opts.signal);
    const boxes = faces[i] ?? [];
    if (boxes.length === 0) continue;
    let crops: Uint8Array[];
    try {
      crops = await faceCrops(src.bytes ?? src.path, boxes, size);
    } catch {
      // the whole image was scored from the cache; a photo gone or unreadable now keeps that score
      continue;
    }
    pending.push({ owner: i, crops });
    count += crops.length;
    if (count >= batchSize) await flush();
  }
  await flush();
  return { faces: out, detected };
}

/** Each image's probability with its faces: `whole[i]` combined with `faces[i]` (faces/combine.ts). */
export function combineFaces(whole: ArrayLike<number>, faces: readonly Float32Array[]): Float32Array {
  return Float32Array.from({ length: whole.length }, (_, i) => withFaceScore(whole[i] ?? Number.NaN, faces[i] ?? []));
}
