// `node [--import …] start-worker.mjs FILE`: starts FILE as a worker thread with the options inherited, as the
// built app starts its training worker; exits 3 with the error's message when the worker throws.
import { Worker } from 'node:worker_threads';

new Worker(process.argv[2] ?? '').on('error', (err) => {
  console.error(err.message);
  process.exitCode = 3;
});
