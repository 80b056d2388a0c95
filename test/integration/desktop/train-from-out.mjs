// Plain Node, no TypeScript: drives the BUILT core in out/main as the desktop app's main process does (a
// library, a CoreSession, contract calls, job events), through import, split and one tiny scratch run in the
// built training worker, then asks the doctor (which loads ONNX Runtime). Prints one JSON line: what it saw. Used by built-training.test.ts.
//   node --import ./no-typescript.mjs train-from-out.mjs '{"outMain":…,"library":…,"dataset":{…},"train":{…}}'
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const args = JSON.parse(process.argv[2] ?? '{}');
const { openLibrary } = await import(pathToFileURL(join(args.outMain, 'library.js')).href);
const { CoreSession, DataRoots } = await import(pathToFileURL(join(args.outMain, 'session.js')).href);

const lib = openLibrary(args.library, { create: true });
// as main does after the person chose the folder in the open dialog: the dataset's folder is allowed
const readRoots = new DataRoots([dirname(args.dataset.dir)], { howToAllow: "choose it in the desktop app's open dialog" });
const session = new CoreSession(lib, { log: (line) => process.stderr.write(`${line}\n`), readRoots });

// Every job ends with exactly one job.finished; listen before starting any, so none is missed.
const finished = new Map();
const waiting = new Map();
session.onEvent((event) => {
  if (event.name !== 'job.finished') return;
  const resolve = waiting.get(event.payload.jobId);
  if (resolve) resolve(event.payload);
  else finished.set(event.payload.jobId, event.payload);
});
function ended(jobId) {
  const done = finished.get(jobId);
  return done ? Promise.resolve(done) : new Promise((resolve) => waiting.set(jobId, resolve));
}

async function call(method, input) {
  const reply = await session.call(method, input);
  if (!reply.ok) throw new Error(`${method}: ${reply.error.code}: ${reply.error.message}`);
  return reply.value;
}

async function job(method, input) {
  const { jobId } = await call(method, input);
  const end = await ended(jobId);
  if (end.status !== 'done') throw new Error(`${method}: job ${end.status}: ${end.error?.message ?? ''}`);
  return end;
}

try {
  await job('import.start', args.dataset);
  await call('split.run', { seed: 1, val: 0.25, test: 0.15 });
  const train = await call('train.start', args.train);
  await ended(train.jobId);
  const run = await call('runs.get', { id: train.runId });
  const { predictions } = await call('runs.predictions', { id: train.runId });
  // The doctor loads ONNX Runtime's native binding, which a scratch run does not need (~0.5 s).
  const { onnxRuntime } = await call('doctor.get', {});
  process.stdout.write(
    `${JSON.stringify({
      status: run.status,
      error: run.error ?? null,
      backend: run.backend,
      device: run.device,
      epochs: run.epochs.length,
      predictions: predictions.length,
      probabilities: predictions.map((p) => p.probability),
      onnxRuntime: onnxRuntime.loads ? { version: onnxRuntime.report.version, providers: onnxRuntime.report.providers } : { error: onnxRuntime.error },
    })}\n`,
  );
} finally {
  session.close();
  lib.close();
}
