/**
 * DepthwiseConv2dNative gradients for the wasm backend (it ships neither), written as forward depthwise
 * convolutions. Filter [kh, kw, C, M]; output channel c·M + m reads input channel c.
 *
 * - Input gradient: a stride-1 depthwise convolution of dy (zero-dilated by the stride) with the flipped
 *   filter seen as [kh, kw, C·M, 1], then a sum over the M outputs of each input channel.
 * - Filter gradient: dW[i,j,c,m] = Σ_{b,p,q} x[b, p·s+i·d−pt, …, c] · dy[b,p,q,c·M+m]. With the batch
 *   folded into channels (x → [1, H, W, B·C], dy → [oH, oW, B·C, M] as the filter) this is one depthwise
 *   convolution (stride d, dilation s) whose [1, kh, kw, B·C·M] output is summed over the batch.
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
import { type Shape4, withScope } from './wasm-ops';

function input(params: Parameters<KernelFunc>[0], name: string): TensorInfo {
  const t = params.inputs[name];
  if (t === undefined) throw new Error(`missing input ${name}`);
  return t;
}

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

export function depthwiseBackpropFilter(params: Parameters<KernelFunc>[0]): TensorInfo {
  const backend = params.backend as KernelBackend;
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

export function depthwiseGradKernels(): KernelConfig[] {
  return [
    { kernelName: DepthwiseConv2dNativeBackpropFilter, backendName: 'wasm', kernelFunc: depthwiseBackpropFilter },
    { kernelName: DepthwiseConv2dNativeBackpropInput, backendName: 'wasm', kernelFunc: depthwiseBackpropInput },
  ];
}
