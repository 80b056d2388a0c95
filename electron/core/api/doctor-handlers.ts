/**
 * The machine report behind `mask-studio doctor` and the studio's Doctor view (`doctor.get`): one builder for
 * both. TensorFlow.js, ONNX Runtime and the weights registry load inside the call, so the CLI and the server
 * start without them.
 */
import type { DoctorReport } from '../../../shared/doctor';
import type { HandlerTable } from './dataset-handlers';

export const doctorHandlers: HandlerTable<'doctor.get'> = {
  'doctor.get': () => doctorReport(),
};

let inFlight: Promise<DoctorReport> | null = null;

/** Calls that overlap share one probe: two probes at once would race for the same wasm module. */
export function doctorReport(): Promise<DoctorReport> {
  inFlight ??= buildReport().finally(() => {
    inFlight = null;
  });
  return inFlight;
}

async function buildReport(): Promise<DoctorReport> {
  const [{ probeBackends, initBackend }, { onnxRuntimeStatus }, { listWeights, weightsDir }] = await Promise.all([
    import('../ml/backend/backend'),
    import('../ml/inference/engine'),
    import('../ml/weights'),
  ]);
  // One after the other: probing while a backend initialises races for the same wasm module.
  const chosen = await initBackend('auto');
  const probe = await probeBackends();
  const onnxRuntime = await onnxRuntimeStatus();
  return {
    chosen,
    backends: probe.backends,
    wasm: probe.wasm,
    cuda: probe.cuda,
    onnxRuntime,
    weights: { dir: weightsDir(), models: listWeights() },
  };
}
