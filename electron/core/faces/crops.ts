/**
 * The faces an image is judged by, and their crops. Detections are cached per file content
 * (cache/faces/<detector>/<sha[0:2]>/<sha>.json: every box the detector kept), so a second computation
 * detects nothing; which of them count is decided on reading (FACE_SELECTION), so changing it detects
 * nothing either.
 *
 * Measured on the real Spot the Mask labels (1,302 images, nsfwjs InceptionV3 224 px features, logistic
 * heads out of fold, 5 folds; a helper's scratch measurement this session): at score ≥ 0.5 the detector
 * finds a face in 97.2 % of the mask photos and 99.5 % of the others (≥ 0.3: 99.8 % of both, but more
 * false faces, and the max over them scored 0.959 instead of 0.966); a crop of 1.75 × the box's long side
 * (the face with hair, chin and mask) beat 2.5 × (0.965 against 0.975 for the mean over faces). The back
 * model letterboxed to 256 found 97 % of the mask photos' faces where the front one at 128 found 84 %, and
 * 2 × 2 tiles added nothing.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { writeFileAtomic } from '../atomic-write';
import { fullRgb } from '../ml/pixels';
import type { BackendPref } from '../../../shared/names';
import { throwIfAborted } from '../jobs/progress';
import { DETECTOR, detectFaces, suppress, type FaceBox } from './blazeface';

export interface FaceSelection {
  /** A detection at least this confident is a face. */
  minScore: number;
  /** At most this many faces per image, the most confident first. */
  maxFaces: number;
  /** The crop's side as a multiple of the box's long side, centred on the box. */
  enlarge: number;
}

export const FACE_SELECTION: FaceSelection = { minScore: 0.5, maxFaces: 5, enlarge: 1.75 };

/** The name a crop's features are cached under, beside the image's own: detector, selection, face index. */
export function faceSuffix(k: number, sel: FaceSelection = FACE_SELECTION): string {
  return `.face-${DETECTOR}-s${sel.minScore}-e${sel.enlarge}-${k}`;
}

function detectionFile(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'faces', DETECTOR, sha256.slice(0, 2), `${sha256}.json`);
}

function isBox(v: unknown): v is FaceBox {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return ['x0', 'y0', 'x1', 'y1', 'score'].every((k) => typeof b[k] === 'number' && Number.isFinite(b[k]));
}

export async function cachedDetections(cacheDir: string, sha256: string): Promise<FaceBox[] | null> {
  try {
    const v: unknown = JSON.parse(await readFile(detectionFile(cacheDir, sha256), 'utf8'));
    return Array.isArray(v) && v.every(isBox) ? v : null;
  } catch {
    return null;
  }
}

/** A photo to find faces in: its path, its sha256 (the cache key), and its bytes when the caller read them already. */
export interface FaceFile {
  sha256: string;
  path: string;
  bytes?: Buffer | undefined;
}

/** The detector's boxes for one file: cached, else detected now (from its bytes when given: no second read) and cached. */
export async function detections(cacheDir: string, model: tf.GraphModel, src: FaceFile): Promise<FaceBox[]> {
  const hit = await cachedDetections(cacheDir, src.sha256);
  if (hit !== null) return hit;
  const boxes = await detectFaces(model, src.bytes ?? src.path);
  await writeFileAtomic(detectionFile(cacheDir, src.sha256), `${JSON.stringify(boxes)}\n`);
  return boxes;
}

/** Where detection runs when some image has no cached boxes yet. */
export interface DetectOptions {
  backend?: BackendPref | undefined;
  signal?: AbortSignal | undefined;
}

type FaceProgress = (phase: string, done: number, total: number) => void;

/**
 * Finds sources' faces that count, detecting (and caching) where nothing is cached yet. TensorFlow.js and
 * the detector load on the first source not searched before, once for every later call; `dispose` frees it.
 */
export class FaceFinder {
  #model: tf.GraphModel | null = null;
  constructor(private readonly cacheDir: string, private readonly opts: DetectOptions = {}) {}

  /** The faces of each source; `progress` counts the images searched now. */
  async faces(sources: readonly FaceFile[], progress: FaceProgress = () => {}): Promise<{ faces: FaceBox[][]; detected: number }> {
    const cached = await Promise.all(sources.map((s) => cachedDetections(this.cacheDir, s.sha256)));
    const missing = cached.flatMap((c, i) => (c === null ? [i] : []));
    for (const [done, i] of missing.entries()) {
      throwIfAborted(this.opts.signal);
      const src = sources[i];
      if (src !== undefined) cached[i] = await detections(this.cacheDir, await this.#detector(), src);
      progress('faces', done + 1, missing.length);
    }
    return { faces: cached.map((c) => selectFaces(c ?? [])), detected: missing.length };
  }

  async #detector(): Promise<tf.GraphModel> {
    if (this.#model === null) {
      const [{ chooseBackend }, { loadBlazeface }] = await Promise.all([import('../ml/backend/train-backend'), import('./blazeface')]);
      await chooseBackend(this.opts.backend ?? 'auto');
      this.#model = await loadBlazeface();
    }
    return this.#model;
  }

  dispose(): void {
    this.#model?.dispose();
    this.#model = null;
  }
}

/** Every source's faces that count, in one call (FaceFinder's, the detector freed after). */
export async function sourceFaces(
  cacheDir: string,
  sources: ReadonlyArray<{ sha256: string; path: string }>,
  opts: DetectOptions = {},
  progress: FaceProgress = () => {},
): Promise<{ faces: FaceBox[][]; detected: number }> {
  const finder = new FaceFinder(cacheDir, opts);
  try {
    return await finder.faces(sources, progress);
  } finally {
    finder.dispose();
  }
}

/** The faces that count: confident enough, not overlapping a better one, the best `maxFaces`. */
export function selectFaces(boxes: readonly FaceBox[], sel: FaceSelection = FACE_SELECTION): FaceBox[] {
  return suppress(boxes.filter((b) => b.score >= sel.minScore)).slice(0, sel.maxFaces);
}

/**
 * Square crops (`size`² RGB) around each face, `enlarge` × the box's long side, from the full-resolution
 * EXIF-rotated photo (its path, or its bytes when read already); what falls outside the photo is black.
 */
export async function faceCrops(input: string | Buffer, faces: readonly FaceBox[], size: number, sel: FaceSelection = FACE_SELECTION): Promise<Uint8Array[]> {
  if (faces.length === 0) return [];
  const { data, width: W, height: H } = await fullRgb(input);
  const out: Uint8Array[] = [];
  for (const f of faces) {
    const cx = ((f.x0 + f.x1) / 2) * W;
    const cy = ((f.y0 + f.y1) / 2) * H;
    const side = Math.max(8, Math.round(sel.enlarge * Math.max((f.x1 - f.x0) * W, (f.y1 - f.y0) * H)));
    const left = Math.round(cx - side / 2);
    const top = Math.round(cy - side / 2);
    const pad = { left: Math.max(0, -left), top: Math.max(0, -top), right: Math.max(0, left + side - W), bottom: Math.max(0, top + side - H) };
    // the part of the square inside the photo, then black where it runs over (never a copy of the whole photo)
    const square = await sharp(data, { raw: { width: W, height: H, channels: 3 } })
      .extract({ left: left + pad.left, top: top + pad.top, width: side - pad.left - pad.right, height: side - pad.top - pad.bottom })
      .extend({ ...pad, background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
    const px = await sharp(square, { raw: { width: side, height: side, channels: 3 } })
      .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    out.push(new Uint8Array(px.buffer, px.byteOffset, px.byteLength));
  }
  return out;
}
