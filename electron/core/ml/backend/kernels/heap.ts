/**
 * Direct access to the wasm backend's heap for the few kernels that are pure data movement or a simple
 * reduction, where a plain loop over the tensor's memory beats the backend's generic C++ path.
 */
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function isHeapBackend(b: unknown): b is HeapBackend {
  if (typeof b !== 'object' || b === null) return false;
  const r = b as Record<string, unknown>;
  return typeof r.makeOutput === 'function' && typeof r.typedArrayFromHeap === 'function';
}

export function heapBackend(backend: KernelBackend): HeapBackend {
  if (!isHeapBackend(backend)) throw new Error('expected the wasm backend (makeOutput, typedArrayFromHeap)');
  return backend;
}

/**
 * A float32 view of a tensor's memory. Take views only after every output is allocated: an allocation
 * may grow the wasm memory, which detaches earlier views.
 */
export function f32(b: HeapBackend, t: TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`expected float32, got ${t.dtype}`);
  const view = b.typedArrayFromHeap(t);
  if (!(view instanceof Float32Array)) throw new Error('wasm heap view is not float32');
  return view;
}
