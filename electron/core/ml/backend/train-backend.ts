/**
 * The backend a training run or a prediction uses, as the runs table records it. The choice itself is
 * backend.ts's (tensorflow → wasm → cpu, with our wasm gradient kernels); this adapts its answer.
 */
import { initBackend } from './backend';
import type { BackendPref } from '../../../../shared/names';

export interface ChosenBackend {
  backend: string;
  device: string;
}

export async function chooseBackend(pref: BackendPref): Promise<ChosenBackend> {
  const info = await initBackend(pref);
  return { backend: info.name, device: info.device };
}
