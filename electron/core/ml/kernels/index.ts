/**
 * The gradient kernels the wasm backend lacks (or runs slowly), registered once per process. Call before
 * or after `setBackend('wasm')`: kernels without a setup function take effect immediately.
 */
import { getKernel, type KernelConfig, type KernelFunc, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import { conv2dGradKernels } from './conv2d-grads';
import { depthwiseGradKernels } from './depthwise-grads';
import { heapKernels } from './heap-kernels';
import { matMulKernels } from './matmul-kernels';

/** The wasm backend's own kernels we replace, by name, captured before the first replacement. */
const shipped = new Map<string, KernelFunc>();
let ours: KernelConfig[] | null = null;

/** Registers our kernels (idempotent); returns the names of the kernels now ours. */
export function registerWasmTrainingKernels(): string[] {
  if (ours === null) {
    for (const name of ['Conv2DBackpropInput', 'MaxPoolGrad', 'Sum', 'BatchMatMul']) {
      const k = getKernel(name, 'wasm');
      if (k !== undefined) shipped.set(name, k.kernelFunc);
    }
    ours = [
      ...conv2dGradKernels(shipped.get('Conv2DBackpropInput')),
      ...depthwiseGradKernels(),
      ...heapKernels(shipped.get('Sum')),
      ...matMulKernels(shipped.get('BatchMatMul')),
    ];
  }
  for (const config of ours) replace(config.kernelName, config.kernelFunc);
  return ours.map((k) => k.kernelName);
}

/**
 * Puts the wasm backend's own kernel `name` back (benchmarks compare against it); false when the wasm
 * backend has none (then ours stays). `registerWasmTrainingKernels()` restores ours.
 */
export function restoreShippedKernel(name: string): boolean {
  const k = shipped.get(name);
  if (k === undefined) return false;
  replace(name, k);
  return true;
}

function replace(kernelName: string, kernelFunc: KernelFunc): void {
  if (getKernel(kernelName, 'wasm') !== undefined) unregisterKernel(kernelName, 'wasm');
  registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}
