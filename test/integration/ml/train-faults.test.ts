/**
 * A run that fails removes the cache folders it created (a half-written pixel cache of a configuration
 * that does not work is only disk used) and keeps those that were there before.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { pixelCacheDir } from '../../../electron/core/ml/pixels';
import { getRun } from '../../../electron/core/ml/runs/store';
import { startTraining } from '../../../electron/core/ml/train/start';
import { insertImages, makeFaces, splitByPosition, tempLibrary } from './train-helpers';

test('a failed run removes the pixel cache it was writing and keeps the caches that were there', async (t) => {
  const tl = tempLibrary('ms-train-faults-');
  t.after(() => tl.cleanup());
  const faces = await makeFaces(join(tl.dir, 'faces'), 40, 9);
  insertImages(tl.lib, join(tl.dir, 'faces'), faces.map((f, i) => ({ ...f, split: splitByPosition(i) })));
  // an older cache at another size, which the failure must not touch
  const older = join(pixelCacheDir(tl.lib.cacheDir, 16, 'fill'), 'ab');
  mkdirSync(older, { recursive: true });
  writeFileSync(join(older, 'x.rgb'), Buffer.alloc(16 * 16 * 3));
  // the last image the run decodes is gone: every other one is cached before the run fails on it
  const last = faces[faces.length - 1];
  assert.ok(last);
  rmSync(last.path);

  const runner = new JobRunner(tl.lib.db, () => {});
  const start = startTraining(tl.lib, runner, { model: 'scratch', inputSize: 24, epochs: 1, batchSize: 8, backend: 'wasm' });
  await runner.wait(start.jobId);
  const run = getRun(tl.lib.db, start.runId);
  assert.equal(run.status, 'failed');
  assert.match(run.error ?? '', /cannot decode .*face_0039/);
  assert.ok(!existsSync(pixelCacheDir(tl.lib.cacheDir, 24, 'fill')), 'the cache the failed run wrote is gone');
  assert.ok(existsSync(join(older, 'x.rgb')), 'the older cache is kept');
});
