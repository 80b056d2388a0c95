/**
 * BatchMatMul with transposeA/transposeB (every Dense layer's gradients) runs a naive loop in the shipped
 * wasm kernel; the XNNPACK path without flags, after moving the transposes, is several times faster.
 */
import {
  BatchMatMul,
  util,
  type BatchMatMulAttrs,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs';
import { input, withScope } from './wasm-ops';

/** Swaps the last two axes. */
function swapPerm(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * op(A)·op(B) without transpose flags, by whichever of two identities moves less data:
 * transpose the flagged operands, or compute (op(B)ᵀ·op(A)ᵀ)ᵀ, which flips each flag and transposes the
 * (often much smaller) result instead. A Dense layer's input gradient dy·Wᵀ becomes (W·dyᵀ)ᵀ: W is
 * streamed as it is rather than transposed and packed.
 */
export function makeBatchMatMul(shipped: KernelFunc): KernelFunc {
  return (params) => {
    const { transposeA, transposeB } = params.attrs as unknown as BatchMatMulAttrs;
    const a = input(params, 'a');
    const b = input(params, 'b');
    if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') return shipped(params);
    const size = (t: TensorInfo): number => util.sizeFromShape(t.shape);
    const outRows = transposeA ? (a.shape.at(-1) ?? 1) : (a.shape.at(-2) ?? 1);
    const outCols = transposeB ? (b.shape.at(-2) ?? 1) : (b.shape.at(-1) ?? 1);
    const batch = Math.max(size(a) / ((a.shape.at(-1) ?? 1) * (a.shape.at(-2) ?? 1)), size(b) / ((b.shape.at(-1) ?? 1) * (b.shape.at(-2) ?? 1)));
    const outSize = batch * outRows * outCols;
    const direct = (transposeA ? size(a) : 0) + (transposeB ? size(b) : 0);
    const swapped = (transposeA ? 0 : size(a)) + (transposeB ? 0 : size(b)) + outSize;
    return withScope(params.backend as KernelBackend, (s) => {
      const t = (x: TensorInfo): TensorInfo => s.transpose(x, swapPerm(x.shape.length));
      const flat = { transposeA: false, transposeB: false };
      if (direct <= swapped) {
        return s.call(shipped, { a: transposeA ? t(a) : a, b: transposeB ? t(b) : b }, flat, BatchMatMul);
      }
      // op(A)·op(B) = (op(B)ᵀ·op(A)ᵀ)ᵀ, and op(B)ᵀ is B itself when B was flagged.
      const left = transposeB ? b : t(b);
      const right = transposeA ? a : t(a);
      return t(s.call(shipped, { a: left, b: right }, flat, BatchMatMul));
    });
  };
}

export function matMulKernels(shipped: KernelFunc | undefined): KernelConfig[] {
  if (shipped === undefined) return [];
  return [{ kernelName: BatchMatMul, backendName: 'wasm', kernelFunc: makeBatchMatMul(shipped) }];
}
