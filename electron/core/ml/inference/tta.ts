/**
 * Test-time augmentation: an image's probability is the mean of the model's probabilities over fixed views
 * of it (shared/names.ts, TTA_MODES). Views work on the size·size·3 RGB bytes the model already takes (the
 * cached, resized pixels), so every engine and every path (predict, a run's evaluation, the fold ensemble,
 * frozen-base features) applies the same views, and a view of the same bytes is the same in any process.
 */
import { TTA_MODES, type TtaMode } from '../../../../shared/names';
import type { RunInfo } from '../../../../shared/contract';

export { TTA_MODES, type TtaMode } from '../../../../shared/names';

/** A view of one image; `name` keys its cached frozen-base features ('' is the image itself). */
export interface TtaView {
  name: string;
  apply(img: Uint8Array, size: number): Uint8Array;
}

/** The crop's side as a fraction of the image's: tight enough to cut the border, loose enough to keep a face whole. */
export const CROP_FRACTION = 0.9;

/** The horizontal mirror of an RGB image (HWC, uint8): rows kept, columns reversed. */
export function mirror(img: Uint8Array, size: number): Uint8Array {
  checkImage(img, size);
  const out = new Uint8Array(img.length);
  const row = size * 3;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const s = y * row + x * 3;
      const d = y * row + (size - 1 - x) * 3;
      out[d] = img[s] ?? 0;
      out[d + 1] = img[s + 1] ?? 0;
      out[d + 2] = img[s + 2] ?? 0;
    }
  }
  return out;
}

/** One output column's (or row's) two source taps and their weights. */
interface Taps {
  i0: number;
  i1: number;
  w0: number;
  w1: number;
}

/**
 * Bilinear taps for scaling the centred `side` pixels of `size` back to `size` (pixel centres aligned, as
 * tf.image.resizeBilinear with halfPixelCenters). The right half is the left half's taps mirrored, weights in
 * the same order, so the crop of a mirrored image is exactly, bit for bit, the mirror of the crop.
 */
function cropTaps(size: number, side: number): Taps[] {
  const offset = (size - side) / 2;
  const scale = side / size;
  const taps: Taps[] = new Array<Taps>(size);
  const half = Math.ceil(size / 2);
  for (let o = 0; o < half; o++) {
    const s = Math.min(size - 1, Math.max(0, offset + (o + 0.5) * scale - 0.5));
    const lo = Math.floor(s);
    const t = s - lo;
    taps[o] = { i0: lo, i1: Math.min(size - 1, lo + 1), w0: 1 - t, w1: t };
  }
  for (let o = half; o < size; o++) {
    const m = taps[size - 1 - o] as Taps;
    taps[o] = { i0: size - 1 - m.i0, i1: size - 1 - m.i1, w0: m.w0, w1: m.w1 };
  }
  return taps;
}

/** The centred square of side round(fraction·size), scaled back up to size·size bilinearly. */
export function centreCrop(img: Uint8Array, size: number, fraction = CROP_FRACTION): Uint8Array {
  checkImage(img, size);
  const taps = cropTaps(size, Math.max(1, Math.round(fraction * size)));
  const out = new Uint8Array(img.length);
  for (let oy = 0; oy < size; oy++) {
    const ty = taps[oy] as Taps;
    for (let ox = 0; ox < size; ox++) {
      const tx = taps[ox] as Taps;
      for (let c = 0; c < 3; c++) {
        const at = (y: number, x: number): number => img[(y * size + x) * 3 + c] as number;
        const top = at(ty.i0, tx.i0) * tx.w0 + at(ty.i0, tx.i1) * tx.w1;
        const bottom = at(ty.i1, tx.i0) * tx.w0 + at(ty.i1, tx.i1) * tx.w1;
        out[(oy * size + ox) * 3 + c] = Math.round(top * ty.w0 + bottom * ty.w1);
      }
    }
  }
  return out;
}

function checkImage(img: Uint8Array, size: number): void {
  if (img.length !== size * size * 3) throw new RangeError(`TTA: ${img.length} bytes, expected ${size}×${size}×3 = ${size * size * 3}`);
}

const IDENTITY: TtaView = { name: '', apply: (img) => img };
const FLIP: TtaView = { name: 'flip', apply: mirror };
const CROP: TtaView = { name: `crop${Math.round(CROP_FRACTION * 100)}`, apply: (img, size) => centreCrop(img, size) };
const CROP_FLIP: TtaView = { name: `${CROP.name}-flip`, apply: (img, size) => mirror(centreCrop(img, size), size) };

const VIEWS: Record<TtaMode, readonly TtaView[]> = {
  none: [IDENTITY],
  flip: [IDENTITY, FLIP],
  'flip-crops': [IDENTITY, FLIP, CROP, CROP_FLIP],
};

/** The views a mode averages over; the first is always the image itself. */
export function ttaViews(mode: TtaMode): readonly TtaView[] {
  return VIEWS[mode];
}

/**
 * The mean over the mode's views of `score(view)`, a probability per image (all of one length). The views
 * are scored one after another, so memory holds one view's probabilities besides the sum.
 */
export async function ttaMean(mode: TtaMode, score: (view: TtaView) => Promise<Float32Array>): Promise<Float32Array> {
  const views = ttaViews(mode);
  let sum: Float64Array | null = null;
  for (const view of views) {
    const p = await score(view);
    if (sum === null) sum = new Float64Array(p.length);
    if (p.length !== sum.length) throw new Error(`TTA: the ${view.name || 'image'} view gave ${p.length} probabilities, expected ${sum.length}`);
    for (let i = 0; i < p.length; i++) sum[i] = (sum[i] ?? 0) + (p[i] ?? Number.NaN);
  }
  return Float32Array.from(sum ?? [], (v) => v / views.length);
}

/** Images → probabilities, wrapped so each image's probability is the mean over the mode's views. */
export function withTta(
  mode: TtaMode,
  size: number,
  run: (images: readonly Uint8Array[]) => Promise<Float32Array>,
): (images: readonly Uint8Array[]) => Promise<Float32Array> {
  if (mode === 'none') return run;
  return (images) => ttaMean(mode, (view) => run(images.map((img) => view.apply(img, size))));
}

/**
 * The TTA a run's stored validation scores were made with. A single-split run is scored with its TTA when it
 * finishes; one cancelled, failed or killed before that keeps its best checkpoint's plain scores, and Compare
 * said "TTA flip-crops" beside them, ranking them against TTA-scored runs. A K-fold run's finished folds
 * each scored with it (an unfinished fold stores no rows).
 */
export function scoredTta(run: Pick<RunInfo, 'status' | 'config' | 'folds'>): TtaMode {
  return run.status === 'done' || run.folds !== null ? recordedTta(run.config) : 'none';
}

/** A run's recorded TTA mode (runs from before TTA have none: 'none'). */
export function recordedTta(config: Record<string, unknown>): TtaMode {
  const v = config['tta'];
  return TTA_MODES.find((m) => m === v) ?? 'none';
}
