/**
 * Conv2D filter gradient for stride 1 as chunked GEMMs: dW [kh·kw·C, O] = Σ_chunks Pᵀ [kh·kw·C, n] ×
 * dy [n, O], where n runs over (image, output row, output column) and Pᵀ is the transposed im2col of x.
 *
 * Why not one convolution (see conv2d-grads.ts): XNNPACK streams the whole packed right-hand side once
 * per tile of output rows, and with n in the hundreds of thousands that is memory-bound (~2x the forward
 * pass). Chunks of a few thousand n stay in cache; dy needs no transpose (a chunk is a contiguous slice);
 * Pᵀ is built per chunk from x transposed once to [C, B, H, W] and padded, one contiguous run per output row.
 */
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { f32, heapBackend } from './heap';
import type { Shape4, WasmScope } from './wasm-ops';

/** Columns per GEMM chunk: keeps a panel of the packed dy chunk and a tile of Pᵀ in L2 (measured best). */
const CHUNK = 8192;

export interface StrideOneGeometry {
  kh: number;
  kw: number;
  padTop: number;
  padLeft: number;
}

export function filterGradGemm(s: WasmScope, x: TensorInfo, dy: TensorInfo, g: StrideOneGeometry): TensorInfo {
  const backend = heapBackend(s.backend as KernelBackend);
  const [b, h, w, c] = x.shape as Shape4;
  const [, oh, ow, o] = dy.shape as Shape4;
  const { kh, kw } = g;
  // Padded transposed input: xp[c, b, p + i, q + j] = x[b, p + i − padTop, q + j − padLeft, c].
  const hp = oh + kh - 1;
  const wp = ow + kw - 1;
  const xt = s.transpose(x, [3, 0, 1, 2]);
  const bottom = hp - h - g.padTop;
  const right = wp - w - g.padLeft;
  const cropped = s.slice(xt, [0, 0, 0, 0], [c, b, h + Math.min(bottom, 0), w + Math.min(right, 0)]);
  const xp = s.pad(cropped, [
    [0, 0],
    [0, 0],
    [g.padTop, Math.max(bottom, 0)],
    [g.padLeft, Math.max(right, 0)],
  ]);
  if (xp.shape[2] !== hp || xp.shape[3] !== wp) throw new Error(`filter gradient: padded input ${xp.shape}, expected ${hp}x${wp}`);

  const rows = kh * kw * c;
  const perImage = oh * ow;
  const imagesPerChunk = Math.max(1, Math.floor(CHUNK / perImage));
  const acc = new Float64Array(rows * o);
  for (let b0 = 0; b0 < b; b0 += imagesPerChunk) {
    const bc = Math.min(imagesPerChunk, b - b0);
    const nc = bc * perImage;
    const pt = s.adopt(backend.makeOutput([1, rows, nc], 'float32'));
    const dyc = s.adopt(backend.makeOutput([1, nc, o], 'float32'));
    // Views after both allocations: an allocation may grow (and detach) the wasm memory.
    const xv = f32(backend, xp);
    const heap = new Float32Array(xv.buffer);
    const xBase = xv.byteOffset / 4;
    const ptBase = f32(backend, pt).byteOffset / 4;
    const dyv = f32(backend, dy);
    f32(backend, dyc).set(dyv.subarray(b0 * perImage * o, (b0 + bc) * perImage * o));
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let k = 0; k < c; k++) {
          let dst = ptBase + ((i * kw + j) * c + k) * nc;
          for (let n = b0; n < b0 + bc; n++) {
            let src = xBase + ((k * b + n) * hp + i) * wp + j;
            for (let p = 0; p < oh; p++) {
              heap.copyWithin(dst, src, src + ow);
              dst += ow;
              src += wp;
            }
          }
        }
      }
    }
    const part = s.run('BatchMatMul', { a: pt, b: dyc }, { transposeA: false, transposeB: false });
    s.free(pt);
    s.free(dyc);
    const pv = f32(backend, part);
    for (let r = 0; r < acc.length; r++) acc[r] += pv[r] ?? 0;
    s.free(part);
  }
  const out = s.adopt(backend.makeOutput([kh, kw, c, o], 'float32'));
  f32(backend, out).set(acc);
  return out;
}
