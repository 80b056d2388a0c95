/**
 * Conv2D gradients for the wasm backend, written as forward convolutions (XNNPACK's fast path).
 *
 * - Filter gradient: dW[i,j,c,o] = Σ_{b,p,q} x[b, p·s+i−pt, q·s+j−pl, c] · dy[b,p,q,o], which is a
 *   convolution of xᵀ [C, H, W, B] (channels = batch) with the filter dyᵀ [oH, oW, B, O], dilated by
 *   the forward stride; its output [C, kh, kw, O] is transposed back to [kh, kw, C, O]. For stride 1,
 *   chunked GEMMs do the same sum faster (conv2d-filter-gemm.ts).
 * - Input gradient: a stride-1 convolution of dy (zero-dilated by the forward stride) with the flipped
 *   filter whose in/out channels are swapped.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { filterGradGemm } from './conv2d-filter-gemm';
import { axes, cropNegative, dilateZeros, filterGradPads, inputGradPads } from './geometry';
import { type Shape4, withScope } from './wasm-ops';

interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}

function input(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`missing input ${name}`);
  return t;
}

function asArgs(params: Parameters<KernelFunc>[0]): KernelArgs {
  return { inputs: params.inputs, backend: params.backend as KernelBackend, attrs: params.attrs ?? {} };
}

export function conv2dBackpropFilter(params: Parameters<KernelFunc>[0]): TensorInfo {
  const { inputs, backend, attrs } = asArgs(params);
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') throw new Error('wasm Conv2DBackpropFilter supports NHWC only');
  const [ah, aw] = axes(info);
  if (ah.s === 1 && aw.s === 1) {
    const g = { kh: ah.k, kw: aw.k, padTop: ah.padBefore, padLeft: aw.padBefore };
    return withScope(backend, (s) => filterGradGemm(s, x, dy, g));
  }
  return withScope(backend, (s) => {
    const xt = s.transpose(x, [3, 1, 2, 0]);
    const dyt = s.transpose(dy, [1, 2, 0, 3]);
    const cropped = cropNegative(s, xt, filterGradPads(ah), filterGradPads(aw));
    const out = s.conv2d(cropped.x, dyt, cropped.pads, [ah.s, aw.s]);
    return s.transpose(out, [1, 2, 0, 3]);
  });
}

/** `shipped` is the wasm backend's own kernel, kept for the NCHW layout it also handles. */
export function makeConv2dBackpropInput(shipped: KernelFunc | undefined): KernelFunc {
  return (params) => {
    const { inputs, backend, attrs } = asArgs(params);
    const dy = input(inputs, 'dy');
    const filter = input(inputs, 'filter');
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as Shape4,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    if (info.dataFormat !== 'channelsLast') {
      if (shipped === undefined) throw new Error('wasm Conv2DBackpropInput supports NHWC only');
      return shipped(params);
    }
    const [ah, aw] = axes(info);
    return withScope(backend, (s) => {
      const flipped = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]);
      const dilated = dilateZeros(s, dy, ah.s, aw.s);
      const cropped = cropNegative(s, dilated, inputGradPads(ah), inputGradPads(aw));
      return s.conv2d(cropped.x, flipped, cropped.pads);
    });
  };
}

export function conv2dGradKernels(shippedInput: KernelFunc | undefined): KernelConfig[] {
  return [
    { kernelName: Conv2DBackpropFilter, backendName: 'wasm', kernelFunc: conv2dBackpropFilter },
    { kernelName: Conv2DBackpropInput, backendName: 'wasm', kernelFunc: makeConv2dBackpropInput(shippedInput) },
  ];
}
