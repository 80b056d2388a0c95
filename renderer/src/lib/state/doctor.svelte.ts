/**
 * The Doctor view's state: core's machine report (`doctor.get`, the document `mask-studio doctor --json`
 * prints). The first call loads TensorFlow.js and ONNX Runtime in core, which takes seconds: the view shows that.
 */
import type { MethodOutput } from '../../../../shared/contract';
import { call, errorMessage } from '../api/client';

export type Report = MethodOutput<'doctor.get'>;

export class DoctorState {
  #report = $state.raw<Report | null>(null);
  #error = $state<string | null>(null);
  #loading = $state(false);

  get report(): Report | null {
    return this.#report;
  }
  get error(): string | null {
    return this.#error;
  }
  get loading(): boolean {
    return this.#loading;
  }

  async load(): Promise<void> {
    if (this.#loading) return;
    this.#loading = true;
    this.#error = null;
    try {
      this.#report = await call('doctor.get', {});
    } catch (err) {
      this.#error = errorMessage(err);
    } finally {
      this.#loading = false;
    }
  }
}

export const doctor = new DoctorState();
