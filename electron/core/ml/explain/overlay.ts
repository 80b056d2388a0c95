/**
 * A CAM as a picture: the map on the model's input square is carried back onto the original photo
 * through the same resize the pipeline used (fill stretches, crop cuts the centre square, letterbox pads),
 * sampled bilinearly, coloured with jet and blended over the photo.
 */
import sharp, { type OutputInfo } from 'sharp';
import { AppError } from '../../../../shared/errors';
import type { ResizeMode } from '../pixels';
import type { CamGrid } from './gradcam';

/** The same pixel limit the scan and the training pipeline use. */
const PIXEL_LIMIT = 268_402_689;

export interface OverlayOptions {
  /** The model's input side and resize mode: where the input square sat on the photo. */
  inputSize: number;
  resize: ResizeMode;
  /** Heatmap opacity. Default 0.45. */
  alpha?: number;
  /** Longest side of the output; the photo is shrunk (never enlarged) to fit. Default: the photo's size. */
  maxSide?: number;
}

export interface Overlay {
  png: Buffer;
  width: number;
  height: number;
}

/** Jet: blue → cyan → yellow → red, t in [0, 1]. */
export function jet(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t));
  const ch = (offset: number): number => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - offset))));
  return [ch(3), ch(2), ch(1)];
}

function bilinear(grid: CamGrid, gx: number, gy: number): number {
  const x = Math.min(grid.width - 1, Math.max(0, gx));
  const y = Math.min(grid.height - 1, Math.max(0, gy));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(grid.width - 1, x0 + 1);
  const y1 = Math.min(grid.height - 1, y0 + 1);
  const fx = x - x0;
  const fy = y - y0;
  const at = (xx: number, yy: number): number => grid.cam[yy * grid.width + xx] ?? 0;
  return (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy;
}

/**
 * The CAM at every pixel of a width × height picture of the photo, normalised by its maximum to [0, 1];
 * NaN where the model never saw the photo (outside the centre square in 'crop' mode).
 */
export function camOnImage(grid: CamGrid, width: number, height: number, inputSize: number, resize: ResizeMode): Float32Array {
  let max = 0;
  for (const v of grid.cam) if (v > max) max = v;
  const out = new Float32Array(width * height);
  const s = inputSize;
  // where the photo's normalised coordinates land on the input square, per axis: u = a + b·f
  const side = Math.min(width, height);
  const long = Math.max(width, height);
  const axis = (len: number): { a: number; b: number } => {
    if (resize === 'fill') return { a: 0, b: s };
    if (resize === 'crop') return { a: (-(len - side) / 2 / side) * s, b: (len / side) * s };
    return { a: (s - (len * s) / long) / 2, b: (len * s) / long };
  };
  const ax = axis(width);
  const ay = axis(height);
  for (let y = 0; y < height; y++) {
    const v = ay.a + ay.b * ((y + 0.5) / height);
    for (let x = 0; x < width; x++) {
      const u = ax.a + ax.b * ((x + 0.5) / width);
      if (u < 0 || u >= s || v < 0 || v >= s) {
        out[y * width + x] = Number.NaN;
        continue;
      }
      const c = bilinear(grid, (u / s) * grid.width - 0.5, (v / s) * grid.height - 0.5);
      out[y * width + x] = max > 0 ? c / max : 0;
    }
  }
  return out;
}

/** The photo as the pipeline sees it (EXIF-rotated sRGB, alpha on white) with the CAM blended over it, as PNG. */
export async function overlayCam(imagePath: string, grid: CamGrid, opts: OverlayOptions): Promise<Overlay> {
  const alpha = opts.alpha ?? 0.45;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`overlay: alpha must be in [0, 1]; received ${String(alpha)}`);
  let img = sharp(imagePath, { failOn: 'none', limitInputPixels: PIXEL_LIMIT, pages: 1 })
    .rotate()
    .toColourspace('srgb')
    .flatten({ background: { r: 255, g: 255, b: 255 } });
  if (opts.maxSide !== undefined) img = img.resize(opts.maxSide, opts.maxSide, { fit: 'inside', withoutEnlargement: true });
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new AppError('IO', `cannot decode ${imagePath}: ${(err as Error).message}`);
  }
  const { width, height, channels } = raw.info;
  const heat = camOnImage(grid, width, height, opts.inputSize, opts.resize);
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = heat[i] ?? Number.NaN;
    const src = i * channels;
    if (Number.isNaN(t)) {
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = raw.data[src + c] ?? 0;
      continue;
    }
    const colour = jet(t);
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round((1 - alpha) * (raw.data[src + c] ?? 0) + alpha * colour[c]);
  }
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
  return { png, width, height };
}
