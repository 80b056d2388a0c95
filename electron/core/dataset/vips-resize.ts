/**
 * libvips's `resize` (what sharp's `.resize(w, h, { fit: 'fill' })` runs) for one-band 8-bit images, in
 * plain TypeScript, bit for bit: a box shrink by the integer part of the factor (libvips's reduce "gap" of
 * 2), then the residual reduction with a fixed-point kernel table, vertical pass first.
 *
 * Why: the perceptual hashes resize a 256×256 grey grid three times per image. Each sharp call costs about
 * a millisecond of thread hand-off before any pixel is touched, which made hashing half as expensive as
 * the decode itself. Here the same arithmetic runs in a fraction of that, and the hashes stay identical to
 * the ones libraries already store (test/unit/dataset/vips-resize.test.ts compares with sharp).
 */

export type ResizeKernel = 'lanczos3' | 'cubic';

/** One grey image, row-major, one byte per pixel. */
export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const TRANSFORM_SCALE = 64; // VIPS_TRANSFORM_SCALE: sub-pixel positions per pixel in the tables
const INTERPOLATE_SHIFT = 12; // VIPS_INTERPOLATE_SHIFT: fixed-point coefficients
const INTERPOLATE_SCALE = 1 << INTERPOLATE_SHIFT;
const GAP = 2; // vips_resize's default reducing gap
const TWO_32 = 2 ** 32;

const roundHalfUp = (v: number) => Math.trunc(v + 0.5); // VIPS_ROUND_UINT
/** C's rint(): round half to even. */
function rint(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function filter(kernel: ResizeKernel, x: number): number {
  if (kernel === 'lanczos3') return x >= -3 && x <= 3 ? sinc(x) * sinc(x / 3) : 0;
  // Catmull-Rom: Mitchell–Netravali with B = 0, C = 0.5
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return ((12 - 3) * ax3 + (-18 + 3) * ax2 + 6) / 6;
  if (ax <= 2) return (-3 * ax3 + 15 * ax2 - 24 * ax + 12) / 6;
  return 0;
}

function points(kernel: ResizeKernel, shrink: number): number {
  return 2 * rint((kernel === 'lanczos3' ? 3 : 2) * shrink) + 1;
}

/** The fixed-point coefficient table: one row of n coefficients per sub-pixel position 0..64. */
function maskTable(kernel: ResizeKernel, n: number, shrink: number): Int16Array[] {
  const table: Int16Array[] = [];
  const scale = 1 / shrink;
  const c = new Float64Array(n);
  for (let t = 0; t <= TRANSFORM_SCALE; t++) {
    const half = t / TRANSFORM_SCALE + n / 2 - 1;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      c[i] = filter(kernel, (i - half) * scale);
      sum += c[i]!;
    }
    const row = new Int16Array(n);
    for (let i = 0; i < n; i++) row[i] = Math.trunc((c[i]! / sum) * INTERPOLATE_SCALE);
    table.push(row);
  }
  return table;
}

const averages = new Map<number, Uint8Array>();

/** (sum + factor/2) · ⌊2^32 / (256 · factor)⌋ >> 24 for every possible sum of `factor` bytes (libvips's fixed point). */
function averageTable(factor: number): Uint8Array {
  let table = averages.get(factor);
  if (!table) {
    const multiplier = Math.floor(TWO_32 / (256 * factor));
    const amend = Math.floor(factor / 2);
    table = new Uint8Array(255 * factor + 1);
    // the product reaches 2^32: exact in a double, not in an int32
    for (let sum = 0; sum < table.length; sum++) table[sum] = Math.floor(((sum + amend) * multiplier) / 16_777_216) & 0xff;
    averages.set(factor, table);
  }
  return table;
}

/**
 * libvips shrinkh/shrinkv with `ceil`: box average of `factor` samples, the far edge repeated. Rows are
 * summed two at a time (half the accumulator traffic: the hashes run this on every imported image).
 */
function boxShrink(img: GreyImage, factor: number, vertical: boolean): GreyImage {
  const { width, height, data } = img;
  const average = averageTable(factor);
  if (vertical) {
    const outH = Math.ceil(height / factor);
    const out = new Uint8Array(width * outH);
    const acc = new Int32Array(width);
    const row = (o: number, k: number): number => Math.min(o * factor + k, height - 1) * width;
    for (let o = 0; o < outH; o++) {
      const ob = o * width;
      if (factor === 2) {
        const r0 = row(o, 0);
        const r1 = row(o, 1);
        for (let x = 0; x < width; x++) out[ob + x] = average[data[r0 + x]! + data[r1 + x]!]!;
        continue;
      }
      let k = 0;
      if (factor % 2 === 1) {
        const r0 = row(o, 0);
        for (let x = 0; x < width; x++) acc[x] = data[r0 + x]!;
        k = 1;
      } else acc.fill(0);
      for (; k < factor; k += 2) {
        const r0 = row(o, k);
        const r1 = row(o, k + 1);
        for (let x = 0; x < width; x++) acc[x]! += data[r0 + x]! + data[r1 + x]!;
      }
      for (let x = 0; x < width; x++) out[ob + x] = average[acc[x]!]!;
    }
    return { data: out, width, height: outH };
  }
  const outW = Math.ceil(width / factor);
  const out = new Uint8Array(outW * height);
  // every box but the last lies inside the row; the last may repeat the far edge
  const inside = Math.floor(width / factor);
  for (let y = 0; y < height; y++) {
    const rb = y * width;
    const ob = y * outW;
    for (let o = 0; o < inside; o++) {
      let sum = 0;
      const b0 = rb + o * factor;
      for (let k = 0; k < factor; k++) sum += data[b0 + k]!;
      out[ob + o] = average[sum]!;
    }
    for (let o = inside; o < outW; o++) {
      let sum = 0;
      for (let k = 0; k < factor; k++) sum += data[rb + Math.min(o * factor + k, width - 1)]!;
      out[ob + o] = average[sum]!;
    }
  }
  return { data: out, width: outW, height };
}

const tables = new Map<string, Int16Array[]>();

/** For each output position: its coefficient row and the (clamped) input samples it reads. */
function plan(inLength: number, outLength: number, residual: number, offset: number, kernel: ResizeKernel) {
  const n = points(kernel, residual);
  const key = `${kernel}:${n}:${residual}`;
  let table = tables.get(key);
  if (!table) {
    table = maskTable(kernel, n, residual);
    tables.set(key, table);
  }
  const pad = Math.ceil(n / 2) - 1;
  const last = inLength - 1;
  const taps = new Int32Array(outLength * n);
  const coeffs: Int16Array[] = [];
  let pos = 0.5 * residual - 0.5 - offset;
  for (let o = 0; o < outLength; o++) {
    const ip = Math.trunc(pos);
    const sub = Math.trunc(pos * TRANSFORM_SCALE * 2) & (TRANSFORM_SCALE * 2 - 1);
    coeffs.push(table[(sub + 1) >> 1]!);
    // embedded coordinates: `pad` copies of the first sample before it, copies of the last after it
    for (let i = 0; i < n; i++) taps[o * n + i] = Math.min(Math.max(ip + i - pad, 0), last);
    pos += residual;
  }
  return { n, taps, coeffs };
}

function clampByte(sum: number): number {
  const v = (sum + (INTERPOLATE_SCALE >> 1)) >> INTERPOLATE_SHIFT;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** libvips reduceh/reducev on one axis, with its gap, by `shrink` (≥ 1). */
function reduceAxis(img: GreyImage, shrink: number, kernel: ResizeKernel, vertical: boolean): GreyImage {
  const inLength = vertical ? img.height : img.width;
  const outLength = roundHalfUp(inLength / shrink);
  let extra = outLength * shrink - inLength;
  let residual = shrink;
  let cur = img;
  const integer = Math.max(1, Math.floor(inLength / outLength / GAP));
  if (integer > 1) {
    cur = boxShrink(cur, integer, vertical);
    residual /= integer;
    extra /= integer;
  }
  if (residual === 1) return cur;
  const { n, taps, coeffs } = plan(vertical ? cur.height : cur.width, outLength, residual, (1 + extra) / 2 - 1, kernel);
  const { width, data } = cur;
  if (vertical) {
    // row by row: each output row is a weighted sum of n whole input rows (contiguous, cache-friendly)
    // a clamped array clamps each (integer) write to 0..255, as libvips's VIPS_CLIP does
    const out = new Uint8ClampedArray(width * outLength);
    const acc = new Int32Array(width);
    for (let o = 0; o < outLength; o++) {
      acc.fill(INTERPOLATE_SCALE >> 1);
      const c = coeffs[o]!;
      // the rows with a non-zero coefficient, four per pass over the accumulator
      const ks: number[] = [];
      const bs: number[] = [];
      for (let i = 0; i < n; i++) {
        if (c[i] === 0) continue;
        ks.push(c[i]!);
        bs.push(taps[o * n + i]! * width);
      }
      let j = 0;
      for (; j + 4 <= ks.length; j += 4) {
        const [k0, k1, k2, k3] = [ks[j]!, ks[j + 1]!, ks[j + 2]!, ks[j + 3]!];
        const [b0, b1, b2, b3] = [bs[j]!, bs[j + 1]!, bs[j + 2]!, bs[j + 3]!];
        for (let x = 0; x < width; x++) acc[x]! += k0 * data[b0 + x]! + k1 * data[b1 + x]! + k2 * data[b2 + x]! + k3 * data[b3 + x]!;
      }
      for (; j < ks.length; j++) {
        const k = ks[j]!;
        const base = bs[j]!;
        for (let x = 0; x < width; x++) acc[x]! += k * data[base + x]!;
      }
      const ob = o * width;
      for (let x = 0; x < width; x++) out[ob + x] = acc[x]! >> INTERPOLATE_SHIFT;
    }
    return { data: new Uint8Array(out.buffer), width, height: outLength };
  }
  const height = cur.height;
  const out = new Uint8Array(outLength * height);
  // where an output's taps are n consecutive samples (all but the edges), they are read without the table
  const first = new Int32Array(outLength);
  for (let o = 0; o < outLength; o++) first[o] = taps[o * n + n - 1]! - taps[o * n]! === n - 1 ? taps[o * n]! : -1;
  for (let y = 0; y < height; y++) {
    const rb = y * width;
    const ob = y * outLength;
    for (let o = 0; o < outLength; o++) {
      const c = coeffs[o]!;
      const f = first[o]!;
      let sum = 0;
      if (f >= 0) {
        const b = rb + f;
        for (let i = 0; i < n; i++) sum += c[i]! * data[b + i]!;
      } else {
        const t0 = o * n;
        for (let i = 0; i < n; i++) sum += c[i]! * data[rb + taps[t0 + i]!]!;
      }
      out[ob + o] = clampByte(sum);
    }
  }
  return { data: out, width: outLength, height };
}

/** `sharp(raw grey).resize(width, height, { fit: 'fill', kernel })` for downsizing, without sharp. */
export function resizeGrey(img: GreyImage, width: number, height: number, kernel: ResizeKernel = 'lanczos3'): GreyImage {
  if (width > img.width || height > img.height) throw new Error(`resizeGrey only reduces: ${img.width}×${img.height} to ${width}×${height}`);
  // sharp passes 1/factor to vips_resize, which reduces by 1/(1/factor): keep the same rounding
  const hshrink = 1 / (1 / (img.width / width));
  const vshrink = 1 / (1 / (img.height / height));
  let out = img;
  if (vshrink > 1) out = reduceAxis(out, vshrink, kernel, true);
  if (hshrink > 1) out = reduceAxis(out, hshrink, kernel, false);
  return out;
}
