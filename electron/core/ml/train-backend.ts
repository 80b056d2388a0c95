/**
 * The backend a training run or a prediction uses, as the runs table records it. The choice itself is
 * backend.ts's (tensorflow → wasm → cpu); this adapts its answer to what a run stores.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './kernels';
import type { BackendPref } from './train-config';

export interface ChosenBackend {
  backend: string;
  device: string;
}

// TODO(backend.ts): replace with initBackend(pref) once it lands; until then wasm (with our gradient kernels) or cpu.
export async function chooseBackend(pref: BackendPref): Promise<ChosenBackend> {
  if (pref === 'tensorflow') throw new Error('the tensorflow backend is not wired yet');
  const name = pref === 'cpu' ? 'cpu' : 'wasm';
  if (name === 'wasm') registerWasmTrainingKernels();
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
  return { backend: name, device: name === 'wasm' ? 'CPU (wasm)' : 'CPU (JavaScript)' };
}
