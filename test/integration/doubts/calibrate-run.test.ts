/**
 * Calibrated doubts of a K-fold transfer run: the run's models cannot be retrained per trial, so its
 * backbone's logistic heads stand in (method 'backbone'), and the doubts, their ranks and p(given) are still
 * the run's own. Tiny: 60 synthetic faces, nsfwjs InceptionV3 at 75 px, 3 folds of 2 epochs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { computeDoubts } from '../../../electron/core/doubts/compute';
import { doubtsInfo } from '../../../electron/core/doubts/store';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { getRun } from '../../../electron/core/ml/runs/store';
import { startTraining } from '../../../electron/core/ml/train/start';
import { findNsfwjs } from '../../../electron/core/ml/weights';
import { generateDataset } from '../../fixtures/synthetic';
import { tempLibrary, type TempLibrary } from '../ml/train-helpers';

const skip = findNsfwjs() ? false : 'the nsfwjs package is not installed';
let t: TempLibrary;
let runId: string;

before(async () => {
  if (skip) return;
  t = tempLibrary('ms-doubts-run-');
  const data = await generateDataset(join(t.dir, 'data'), { seed: 5, n: 60, testN: 0, minSize: 48, maxSize: 64 });
  await importDataset(t.lib.db, { dir: data.imagesDir, labels: data.labelsCsv });
  splitLibrary(t.lib.db, { seed: 1, val: 0.2, test: 0.1 });
  const runner = new JobRunner(t.lib.db, () => {});
  const start = startTraining(t.lib, runner, { model: 'inception_v3', weights: 'nsfwjs', inputSize: 75, epochs: 2, folds: 3, tta: 'none', backend: 'wasm', seed: 2 });
  await runner.wait(start.jobId);
  const run = getRun(t.lib.db, start.runId);
  assert.equal(run.status, 'done', run.error ?? '');
  runId = run.id;
});
after(() => t?.cleanup());

test("a K-fold transfer run's doubts are calibrated with its backbone's heads standing in", { skip }, async () => {
  const plain = await computeDoubts(t.lib, { run: runId, folds: 5, seed: 1 });
  const r = await computeDoubts(t.lib, { run: runId, folds: 5, seed: 1, calibrate: true, trials: 2, tta: 'none' });
  assert.equal(r.fromRun, runId);
  // the doubts are the run's own, calibrated or not
  const strip = (rows: typeof r.doubts): unknown[] => rows.map((d) => [d.imageId, d.rank, d.probability]);
  assert.deepEqual(strip(r.doubts), strip(plain.doubts));
  assert.ok(plain.doubts.every((d) => d.expectedPrecision === null));
  const c = r.calibration;
  assert.ok(c);
  assert.deepEqual([c.method, c.trials, c.backbone], ['backbone', 2, 'inception_v3 (nsfwjs weights, 75 px)']);
  for (const d of r.doubts) assert.ok(d.expectedPrecision !== null && d.expectedPrecision >= 0 && d.expectedPrecision <= 1, `rank ${d.rank}: ${d.expectedPrecision}`);
  const info = doubtsInfo(t.lib.db);
  assert.deepEqual([info?.runId, info?.calibration?.method, info?.tta], [runId, 'backbone', null]);
});
