/**
 * Runs the wasm backend's own registered kernels from inside our kernels, below the engine: no tape, no
 * engine bookkeeping, and every intermediate freed by the scope that made it (the engine only ever sees
 * the one output a kernel returns).
 */
import { getKernel, type KernelBackend, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

export type Shape4 = [number, number, number, number];
export type Pair = [number, number];

export class WasmScope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: KernelBackend) {}

  /** Runs the wasm kernel `name`; its output is freed by `dispose()` unless `keep()` takes it out. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, 'wasm');
    if (kernel === undefined) throw new Error(`wasm kernel ${name} is not registered`);
    return this.call(kernel.kernelFunc, inputs, attrs, name);
  }

  /** Runs a given kernel function (e.g. a shipped kernel we replaced); its output is owned like `run`'s. */
  call(kernelFunc: KernelFunc, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}, name = 'kernel'): TensorInfo {
    const out = kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`wasm ${name} returned ${out.length} outputs, expected one`);
    this.owned.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding; `paddings` holds [before, after] per axis, all non-negative. */
  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /** NHWC convolution with explicit non-negative pads [top, bottom, left, right]. */
  conv2d(x: TensorInfo, filter: TensorInfo, pads: Shape4, dilations: Pair = [1, 1], strides: Pair = [1, 1]): TensorInfo {
    return this.conv('Conv2D', x, filter, pads, dilations, strides);
  }

  /** NHWC depthwise convolution with explicit non-negative pads [top, bottom, left, right]. */
  depthwise(x: TensorInfo, filter: TensorInfo, pads: Shape4, dilations: Pair = [1, 1], strides: Pair = [1, 1]): TensorInfo {
    return this.conv('DepthwiseConv2dNative', x, filter, pads, dilations, strides);
  }

  private conv(name: string, x: TensorInfo, filter: TensorInfo, pads: Shape4, dilations: Pair, strides: Pair): TensorInfo {
    const [top, bottom, left, right] = pads;
    return this.run(
      name,
      { x, filter },
      {
        strides,
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations,
        dimRoundingMode: 'floor',
      },
    );
  }

  /**
   * Takes `info` out of the scope so it survives `dispose()`. A kernel input passed straight through gets
   * another reference, as the engine expects of a kernel that returns an existing buffer.
   */
  keep(info: TensorInfo): TensorInfo {
    const i = this.owned.lastIndexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    else this.backend.incRef(info.dataId);
    return info;
  }

  /** Takes ownership of a buffer made outside `run` (e.g. `makeOutput`). */
  adopt(info: TensorInfo): TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Frees an intermediate now rather than at `dispose()` (large per-chunk buffers). */
  free(info: TensorInfo): void {
    const i = this.owned.lastIndexOf(info);
    if (i < 0) return;
    this.owned.splice(i, 1);
    this.backend.disposeData(info.dataId);
  }

  dispose(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` in a scope whose intermediates are all freed, except the returned tensor. */
export function withScope(backend: KernelBackend, body: (s: WasmScope) => TensorInfo): TensorInfo {
  const scope = new WasmScope(backend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

/** A kernel's named input, or an error naming it (tfjs types every input as optional). */
export function input(params: Parameters<KernelFunc>[0], name: string): TensorInfo {
  const t = params.inputs[name];
  if (t === undefined) throw new Error(`missing input ${name}`);
  return t;
}
