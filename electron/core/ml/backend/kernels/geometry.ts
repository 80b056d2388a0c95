/**
 * Index arithmetic shared by the gradient kernels: how a strided, padded forward convolution's gradients
 * become stride-1 forward convolutions (which the wasm backend runs through XNNPACK).
 */
import { backend_util, type TensorInfo } from '@tensorflow/tfjs';
import type { Shape4, WasmScope } from './wasm-ops';

export type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
export type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** One spatial axis of a forward convolution: in → out with kernel k, stride s, dilation d, pad before. */
export interface Axis {
  inSize: number;
  outSize: number;
  k: number;
  s: number;
  d: number;
  padBefore: number;
}

export function axes(info: backend_util.Conv2DInfo): [Axis, Axis] {
  return [
    {
      inSize: info.inHeight,
      outSize: info.outHeight,
      k: info.filterHeight,
      s: info.strideHeight,
      d: info.dilationHeight,
      padBefore: info.padInfo.top,
    },
    {
      inSize: info.inWidth,
      outSize: info.outWidth,
      k: info.filterWidth,
      s: info.strideWidth,
      d: info.dilationWidth,
      padBefore: info.padInfo.left,
    },
  ];
}

/**
 * Input gradient along one axis as a stride-1 correlation of the zero-dilated output gradient (one value
 * every `s`, `zeroRows` = s − 1 trailing zeros after the last) with the flipped kernel: the pads to put
 * before and after, so the result has exactly `inSize` positions. `after` may be negative (crop).
 */
export function inputGradPads(a: Axis): { before: number; after: number } {
  const span = (a.k - 1) * a.d;
  const before = span - a.padBefore;
  const dilatedLen = a.outSize * a.s; // includes the s − 1 trailing zeros of the last phase
  const after = a.inSize + span - before - dilatedLen;
  return { before, after };
}

/**
 * Filter gradient along one axis as a correlation of the input (stride d, dilation s) whose output has
 * exactly k positions: the pads before and after the input. `after` may be negative (crop the input).
 */
export function filterGradPads(a: Axis): { before: number; after: number } {
  const before = a.padBefore;
  const after = (a.k - 1) * a.d + (a.outSize - 1) * a.s + 1 - a.inSize - before;
  return { before, after };
}

/**
 * dy [B, oH, oW, C] → [B, oH·sH, oW·sW, C] with sH − 1 (sW − 1) zeros after every row (column), so a
 * stride-1 correlation over it is the transposed strided convolution.
 */
export function dilateZeros(s: WasmScope, dy: TensorInfo, sH: number, sW: number): TensorInfo {
  if (sH === 1 && sW === 1) return dy;
  const [b, h, w, c] = dy.shape as Shape4;
  const six = s.reshape(dy, [b, h, 1, w, 1, c]);
  const padded = s.pad(six, [
    [0, 0],
    [0, 0],
    [0, sH - 1],
    [0, 0],
    [0, sW - 1],
    [0, 0],
  ]);
  return s.reshape(padded, [b, h * sH, w * sW, c]);
}

/**
 * Applies signed pads to the two spatial axes of an NHWC tensor: negative amounts crop it, and the
 * non-negative remainder is returned for the convolution to apply (cheaper than materialising it).
 */
export function cropNegative(
  s: WasmScope,
  x: TensorInfo,
  h: { before: number; after: number },
  w: { before: number; after: number },
  spatialAxes: [number, number] = [1, 2],
): { x: TensorInfo; pads: Shape4 } {
  const begin = x.shape.map(() => 0);
  const size = [...x.shape];
  const [ah, aw] = spatialAxes;
  const cut = (axis: number, p: { before: number; after: number }): void => {
    if (p.before < 0) {
      begin[axis] = -p.before;
      size[axis] -= -p.before;
    }
    if (p.after < 0) size[axis] -= -p.after;
  };
  cut(ah, h);
  cut(aw, w);
  if (size[ah] <= 0 || size[aw] <= 0) throw new Error(`convolution gradient: nothing left after cropping ${x.shape}`);
  return {
    x: s.slice(x, begin, size),
    pads: [Math.max(h.before, 0), Math.max(h.after, 0), Math.max(w.before, 0), Math.max(w.after, 0)],
  };
}
