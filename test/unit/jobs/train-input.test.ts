/** A training job's stored input comes back with it: a reloaded Train page shows the settings the job runs with. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { openLibrary } from '../../../electron/core/library';
import { tempDir } from '../../helpers';

test("jobs.get and jobs.list give a training job's settings as asked (its run id too); other jobs give none", async (t) => {
  const lib = openLibrary(join(tempDir('job-train-input', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const runner = new JobRunner(lib.db, () => {});
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const asked = { model: 'vgg19', weights: 'imagenet', epochs: 3, inputSize: 64, lr: 0.005, folds: 5, tta: 'flip', faces: true, augment: false } as const;
  const trainJob = runner.start('train', { runId: 'run-1', ...asked }, () => held);
  const importJob = runner.start('import', { dir: '/somewhere' }, () => held);
  assert.deepEqual(runner.get(trainJob).train, asked);
  assert.equal(runner.get(trainJob).runId, 'run-1');
  assert.equal(runner.list().find((j) => j.id === trainJob)?.train?.model, 'vgg19');
  assert.equal(runner.get(importJob).train, null);
  release();
  await held;
  // the jobs' ends are written before the library closes
  await new Promise((resolve) => setImmediate(resolve));
});
