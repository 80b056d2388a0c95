/** Contract handler for the machine report; TensorFlow.js and ONNX Runtime load on the first call, not at start. */
import type { HandlerTable } from './dataset-handlers';

export const doctorHandlers: HandlerTable<'doctor.get'> = {
  'doctor.get': async () => {
    const { doctorReport } = await import('../ml/backend/doctor');
    return doctorReport();
  },
};
