/** The training worker thread: executes one run and reports through messages (see run.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { chooseBackend } from '../backend/train-backend';
import { executeRun } from './execute';
import type { RunJob, RunMessage } from './run';

interface WorkerInput {
  job: RunJob;
  cancel: SharedArrayBuffer;
}

function isWorkerInput(v: unknown): v is WorkerInput {
  return typeof v === 'object' && v !== null && 'job' in v && 'cancel' in v && v.cancel instanceof SharedArrayBuffer;
}

const port = parentPort;
if (!port || !isWorkerInput(workerData)) throw new Error('train-worker: start me with new Worker(…, { workerData: { job, cancel } })');
const flag = new Int32Array(workerData.cancel);
await executeRun(workerData.job, {
  post: (m: RunMessage) => port.postMessage(m),
  cancelled: () => Atomics.load(flag, 0) === 1,
  initBackend: chooseBackend,
});
