/**
 * ONNX Runtime's own float32 matmul (2048², the threads the trainer uses, best of 5): the most its GEMM does on
 * this CPU, beside numpy's. On the AVX-512 Xeon of December 2026 it reached 83 % of numpy's OpenBLAS (239 vs 286
 * GFLOP/s, idle), while on the AVX2 CPU before it inference ran level with numpy: a training step's share of
 * numpy's ceiling moves with that ratio, which is not the graph's doing, so the bench prints both.
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder, encodeModel } from '../../electron/core/ml/onnx/graph-builder';
import { newOrtSession, sessionOptions } from '../../electron/core/ml/onnx/runtime';
import { Rng } from '../../electron/core/random';

const N = 2048;

/** GFLOP/s of ONNX Runtime's MatMul on 2048² float32 matrices (wall clock, best of 5 after a warm-up). */
export async function ortMatmulCeiling(threads: number, spinning: boolean): Promise<number> {
  const rng = new Rng(11);
  const values = (): Float32Array => Float32Array.from({ length: N * N }, () => rng.next() - 0.5);
  const b = new GraphBuilder();
  b.addInput('a', [N, N]);
  b.addOutput(b.node('MatMul', ['a', b.floats('w', [N, N], values())], 'y'), [N, N]);
  const session = await newOrtSession(encodeModel(b.model('ceiling', '', {})), sessionOptions('cpu', threads, spinning));
  try {
    const feeds = { a: new ort.Tensor('float32', values(), [N, N]) };
    await session.run(feeds);
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      best = Math.min(best, performance.now() - t0);
    }
    return (2 * N ** 3) / (best / 1000) / 1e9;
  } finally {
    await session.release();
  }
}
