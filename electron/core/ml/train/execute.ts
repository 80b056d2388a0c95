/**
 * Executes one training run (in the worker thread, or in-process in tests): initialises the backend, then
 * the scratch or the transfer path. The two paths are loaded lazily so a scratch run never parses the five
 * big architectures' loaders.
 */
import { toErrorPayload } from '../../../../shared/errors';
import type { RunIo, RunJob } from './run';

/** Runs the job to its end: posts `finished` or `failed` exactly once. */
export async function executeRun(job: RunJob, io: RunIo): Promise<void> {
  try {
    const { backend, device } = await io.initBackend(job.config.backend);
    if (job.config.model === 'scratch') {
      const { runScratch } = await import('./scratch');
      await runScratch(job, io, { backend, device });
    } else {
      const { runTransfer } = await import('./transfer');
      await runTransfer(job, io, { backend, device });
    }
  } catch (err) {
    io.post({ type: 'failed', error: toErrorPayload(err) });
  }
}
