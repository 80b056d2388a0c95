/**
 * Kernels written as loops over the wasm heap, where the shipped ones dominate a CNN's training step.
 *
 * MaxPoolGrad: the shipped kernel took ~0.4 s of CPU per batch of 32 at 128 px on the scratch CNN; one
 * pass over the windows, routing each gradient to the window's first strict maximum (the cpu backend's
 * rule, so ties agree), is ~3x faster.
 */
import {
  backend_util,
  MaxPoolGrad,
  Sum,
  util,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type SumAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { f32, heapBackend } from './heap';
import { input, type Shape4 } from './wasm-ops';

interface Geometry {
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
}

/** One 2x2 window inside the input: each channel's gradient goes to its first strict maximum. */
function window2x2(
  xs: Float32Array,
  dys: Float32Array,
  dx: Float32Array,
  g: Geometry,
  b: number,
  y0: number,
  x0: number,
  dyBase: number,
): void {
  const i00 = ((b * g.h + y0) * g.w + x0) * g.c;
  const i01 = i00 + g.c;
  const i10 = i00 + g.w * g.c;
  const i11 = i10 + g.c;
  for (let k = 0; k < g.c; k++) {
    let m = -Infinity;
    let at = -1;
    const v00 = xs[i00 + k];
    if (v00 > m) {
      m = v00;
      at = i00 + k;
    }
    const v01 = xs[i01 + k];
    if (v01 > m) {
      m = v01;
      at = i01 + k;
    }
    const v10 = xs[i10 + k];
    if (v10 > m) {
      m = v10;
      at = i10 + k;
    }
    if (xs[i11 + k] > m) at = i11 + k;
    if (at >= 0) dx[at] += dys[dyBase + k];
  }
}

/** Any window (clipped to the input): scans taps in row-major order, keeps each channel's first maximum. */
function windowGeneral(
  xs: Float32Array,
  dys: Float32Array,
  dx: Float32Array,
  g: Geometry,
  b: number,
  y0: number,
  x0: number,
  dyBase: number,
  fh: number,
  fw: number,
  dh: number,
  dw: number,
  best: Float32Array,
  where: Int32Array,
): void {
  best.fill(-Infinity);
  where.fill(-1);
  for (let wy = 0; wy < fh; wy += dh) {
    const iy = y0 + wy;
    if (iy < 0 || iy >= g.h) continue;
    for (let wx = 0; wx < fw; wx += dw) {
      const ix = x0 + wx;
      if (ix < 0 || ix >= g.w) continue;
      const base = ((b * g.h + iy) * g.w + ix) * g.c;
      for (let k = 0; k < g.c; k++) {
        const v = xs[base + k];
        if (v > best[k]) {
          best[k] = v;
          where[k] = base + k;
        }
      }
    }
  }
  for (let k = 0; k < g.c; k++) {
    const at = where[k];
    if (at >= 0) dx[at] += dys[dyBase + k];
  }
}

export function maxPoolGrad(params: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = heapBackend(params.backend as KernelBackend);
  const dy = input(params, 'dy');
  const x = input(params, 'input');
  const { filterSize, strides, pad, dimRoundingMode } = params.attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(x.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const out = backend.makeOutput(x.shape, 'float32');
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  const dx = f32(backend, out);
  dx.fill(0);
  const nonOverlapping =
    dilationHeight === 1 && dilationWidth === 1 && strideHeight === effectiveFilterHeight && strideWidth === effectiveFilterWidth;
  // Windows entirely inside the input take the fast path when they do not overlap; the rest (padding,
  // overlap) the general one.
  const inside = (o: number, stride: number, pad: number, k: number, size: number): boolean =>
    o * stride - pad >= 0 && o * stride - pad + k <= size;
  const geom: Geometry = { h: inHeight, w: inWidth, c, oh: outHeight, ow: outWidth };
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - info.padInfo.top;
      const rowInside = inside(oy, strideHeight, info.padInfo.top, effectiveFilterHeight, inHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - info.padInfo.left;
        const dyBase = ((b * outHeight + oy) * outWidth + ox) * c;
        if (nonOverlapping && rowInside && inside(ox, strideWidth, info.padInfo.left, effectiveFilterWidth, inWidth)) {
          if (effectiveFilterHeight === 2 && effectiveFilterWidth === 2) window2x2(xs, dys, dx, geom, b, y0, x0, dyBase);
          else windowGeneral(xs, dys, dx, geom, b, y0, x0, dyBase, effectiveFilterHeight, effectiveFilterWidth, 1, 1, best, where);
        } else {
          windowGeneral(xs, dys, dx, geom, b, y0, x0, dyBase, effectiveFilterHeight, effectiveFilterWidth, dilationHeight, dilationWidth, best, where);
        }
      }
    }
  }
  return out;
}

/**
 * Sum over leading axes (every bias gradient): the shipped kernel transposes the reduced axes innermost
 * first. A column sum reads the tensor once (memory bandwidth is what a 2-core machine runs out of);
 * it accumulates in float64 like the cpu backend. Other sums go to the shipped kernel.
 */
export function makeSum(shipped: KernelFunc): KernelFunc {
  return (params) => {
    const x = input(params, 'x');
    const { axis, keepDims } = params.attrs as unknown as SumAttrs;
    const axes = util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const leading = axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || axes.length === 0 || !leading) return shipped(params);
    const backend = heapBackend(params.backend as KernelBackend);
    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    const kept = x.shape.slice(axes.length);
    const cols = util.sizeFromShape(kept);
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
    const xs = f32(backend, x);
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      for (let k = 0; k < cols; k++) acc[k] += xs[base + k];
    }
    f32(backend, out).set(acc);
    return out;
  };
}

export function heapKernels(shippedSum: KernelFunc | undefined): KernelConfig[] {
  const kernels: KernelConfig[] = [{ kernelName: MaxPoolGrad, backendName: 'wasm', kernelFunc: maxPoolGrad }];
  if (shippedSum !== undefined) kernels.push({ kernelName: Sum, backendName: 'wasm', kernelFunc: makeSum(shippedSum) });
  return kernels;
}
