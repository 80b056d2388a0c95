/**
 * DepthwiseConv2dNative gradients for the wasm backend (it ships neither). Filter [kh, kw, C, M]; output
 * channel c·M + m reads input channel c.
 *
 * - Input gradient: a stride-1 depthwise convolution of dy (zero-dilated by the stride) with the flipped
 *   filter seen as [kh, kw, C·M, 1], then a sum over the M outputs of each input channel.
 * - Filter gradient: dW[i,j,c,m] = Σ_{b,p,q} x[b, p·s+i·d−pt, …, c] · dy[b,p,q,c·M+m], a loop over the
 *   heap accumulating in float64. The forward formulation (batch folded into channels, dy as a [oH, oW]
 *   depthwise kernel) is exact too but runs 7–13x slower than the forward pass: XNNPACK has no fast path
 *   for such large depthwise kernels; this loop is ~3–5x faster than that on Xception's shapes.
 */
import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { axes, cropNegative, dilateZeros, filterGradPads, inputGradPads } from './geometry';
import { f32, heapBackend } from './heap';
import { input, type Shape4, withScope } from './wasm-ops';

export function depthwiseBackpropInput(params: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = params.backend as KernelBackend;
  const dy = input(params, 'dy');
  const filter = input(params, 'filter');
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    params.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const [ah, aw] = axes(info);
  const [kh, kw, c, m] = filter.shape as Shape4;
  return withScope(backend, (s) => {
    const flipped = s.reshape(s.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
    const dilated = dilateZeros(s, dy, ah.s, aw.s);
    const cropped = cropNegative(s, dilated, inputGradPads(ah), inputGradPads(aw));
    const perOutput = s.depthwise(cropped.x, flipped, cropped.pads, [ah.d, aw.d]);
    if (m === 1) return perOutput;
    const [b, h, w] = inputShape;
    return s.sum(s.reshape(perOutput, [b, h, w, c, m]), [4]);
  });
}

/**
 * Above this many output positions the forward formulation's [oH, oW] depthwise kernel gets too slow for
 * XNNPACK and the heap loop wins (measured on Xception's shapes at batch 8: the forward form is faster at
 * 19² and 37², the loop at 74² and 147²).
 */
const LOOP_ABOVE = 48 * 48;

export function depthwiseBackpropFilter(params: Parameters<KernelFunc>[0]): TensorInfo {
  const dy = input(params, 'dy');
  const [, oh, ow] = dy.shape as Shape4;
  return oh * ow > LOOP_ABOVE ? depthwiseFilterLoop(params) : depthwiseFilterConv(params);
}

/** Batch folded into channels: one depthwise convolution (stride d, dilation s), summed over the batch. */
export function depthwiseFilterConv(params: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = params.backend as KernelBackend;
  const x = input(params, 'x');
  const dy = input(params, 'dy');
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    params.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const [ah, aw] = axes(info);
  const [kh, kw, c, m] = filterShape;
  const [b, h, w] = x.shape as Shape4;
  const [, oh, ow] = dy.shape as Shape4;
  return withScope(backend, (s) => {
    const xt = s.reshape(s.transpose(x, [1, 2, 0, 3]), [1, h, w, b * c]);
    const dyt = s.reshape(s.transpose(dy, [1, 2, 0, 3]), [oh, ow, b * c, m]);
    const cropped = cropNegative(s, xt, filterGradPads(ah), filterGradPads(aw));
    const perImage = s.depthwise(cropped.x, dyt, cropped.pads, [ah.s, aw.s], [ah.d, aw.d]);
    return s.sum(s.reshape(perImage, [kh, kw, b, c, m]), [2]);
  });
}

/** The sum itself, over the heap, accumulating in float64. */
export function depthwiseFilterLoop(params: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = heapBackend(params.backend as KernelBackend);
  const x = input(params, 'x');
  const dy = input(params, 'dy');
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    params.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const [kh, kw, c, m] = filterShape;
  const [b, h, w] = x.shape as Shape4;
  const { outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const out = backend.makeOutput(filterShape, 'float32');
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  const acc = new Float64Array(kh * kw * c * m);
  const cm = c * m;
  for (let n = 0; n < b; n++) {
    for (let p = 0; p < outHeight; p++) {
      for (let q = 0; q < outWidth; q++) {
        const dyBase = ((n * outHeight + p) * outWidth + q) * cm;
        for (let i = 0; i < kh; i++) {
          const iy = p * strideHeight + i * dilationHeight - info.padInfo.top;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = q * strideWidth + j * dilationWidth - info.padInfo.left;
            if (ix < 0 || ix >= w) continue;
            const xBase = ((n * h + iy) * w + ix) * c;
            const tBase = (i * kw + j) * cm;
            if (m === 1) {
              for (let k = 0; k < c; k++) acc[tBase + k] += xs[xBase + k] * dys[dyBase + k];
            } else {
              for (let k = 0; k < c; k++) {
                const xv = xs[xBase + k];
                for (let r = 0; r < m; r++) acc[tBase + k * m + r] += xv * dys[dyBase + k * m + r];
              }
            }
          }
        }
      }
    }
  }
  f32(backend, out).set(acc);
  return out;
}

export function depthwiseGradKernels(): KernelConfig[] {
  return [
    { kernelName: DepthwiseConv2dNativeBackpropFilter, backendName: 'wasm', kernelFunc: depthwiseBackpropFilter },
    { kernelName: DepthwiseConv2dNativeBackpropInput, backendName: 'wasm', kernelFunc: depthwiseBackpropInput },
  ];
}
