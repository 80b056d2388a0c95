/**
 * The kernels the wasm backend lacks for training, or runs slowly: Conv2DBackpropFilter, the two depthwise
 * gradients, a faster Conv2DBackpropInput, MaxPoolGrad, Sum over leading axes and BatchMatMul with
 * transposes. Call before or after `setBackend('wasm')` (initBackend does); idempotent.
 */
// The wasm package registers its own kernels when loaded; it must be loaded before we capture and
// replace them, or it would later overwrite ours.
import '@tensorflow/tfjs-backend-wasm';
import { getKernel, type KernelConfig, type KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import { conv2dGradKernels } from './conv2d-grads';
import { depthwiseGradKernels } from './depthwise-grads';
import { heapKernels } from './heap-kernels';
import { matMulKernels } from './matmul-kernels';

/** The wasm backend's own kernels we replace, by name, captured before the first replacement. */
const shipped = new Map<string, KernelConfig>();
let ours: KernelConfig[] | null = null;

/** Registers our kernels (idempotent); returns the names of the kernels now ours. */
export function registerWasmTrainingKernels(): string[] {
  if (ours === null) {
    for (const name of ['Conv2DBackpropInput', 'MaxPoolGrad', 'Sum', 'BatchMatMul']) {
      const k = getKernel(name, 'wasm');
      if (k !== undefined) shipped.set(name, k);
    }
    const func = (name: string): KernelFunc | undefined => shipped.get(name)?.kernelFunc;
    ours = [
      ...conv2dGradKernels(func('Conv2DBackpropInput')),
      ...depthwiseGradKernels(),
      ...heapKernels(func('Sum')),
      ...matMulKernels(func('BatchMatMul')),
    ];
  }
  for (const config of ours) replace(config);
  return ours.map((k) => k.kernelName);
}

/**
 * Puts the wasm backend's own kernel `name` back (benchmarks compare against it); false when the wasm
 * backend has none (then ours stays). `registerWasmTrainingKernels()` restores ours.
 */
export function restoreShippedKernel(name: string): boolean {
  const k = shipped.get(name);
  if (k === undefined) return false;
  replace(k);
  return true;
}

/**
 * Ours keep the shipped kernel's setup function: the backend runs it when it initialises, and our kernel
 * may fall back to the shipped one, which needs it.
 */
function replace(config: KernelConfig): void {
  const { kernelName } = config;
  const setupFunc = shipped.get(kernelName)?.setupFunc;
  if (getKernel(kernelName, 'wasm') !== undefined) unregisterKernel(kernelName, 'wasm');
  registerKernel(setupFunc === undefined ? config : { ...config, setupFunc });
}
