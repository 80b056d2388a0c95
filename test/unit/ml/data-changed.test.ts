/** runs.dataChanged: a run trained before an exclusion, a relabel or a new split is marked; one on the current data is not. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { CoreContext } from '../../../electron/core/api/context';
import { dispatch } from '../../../electron/core/api/dispatch';
import { excludeImages, restoreImages, setLabels } from '../../../electron/core/dataset/edits';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { openLibrary } from '../../../electron/core/library';
import { createRun, trainingSet } from '../../../electron/core/ml/runs/store';
import { tempDir } from '../../helpers';

test('runs.dataChanged names the runs whose training data is not the current training set (an exclusion, a restore, a relabel, an unsplit library)', async (t) => {
  const dir = tempDir('data-changed', t);
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rows = ['image,target'];
  for (let i = 0; i < 40; i++) {
    // noise from a fixed generator: plain colours would all be near duplicates, which a split keeps together
    const pixels = Buffer.alloc(32 * 32 * 3);
    let x = 1 + i * 7919;
    for (let k = 0; k < pixels.length; k++) pixels[k] = (x = (x * 1103515245 + 12345) % 2147483648) >> 23;
    await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(dir, 'images', `img${i}.png`));
    rows.push(`img${i}.png,${i % 2}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv') });
  splitLibrary(lib.db, { seed: 1, val: 0.25, test: 0 });
  const ctx: CoreContext = { lib, jobs: new JobRunner(lib.db, () => {}), emit: () => {} };
  const changed = async (): Promise<{ dataHash: string | null; runs: string[] }> => (await dispatch(ctx, 'runs.dataChanged', {})) as { dataHash: string | null; runs: string[] };
  const run = (id: string): void => createRun(lib.db, { id, model: 'scratch', config: {}, backend: 'cpu', jobId: null, set: trainingSet(lib.db), weightsSource: 'none', inputSize: 32 });

  run('r1');
  assert.deepEqual(await changed(), { dataHash: trainingSet(lib.db).dataHash, runs: [] }, 'trained on the data the library has');

  const train = trainingSet(lib.db).train[0];
  assert.ok(train);
  const name = (lib.db.prepare('SELECT file_name FROM images WHERE id = ?').get(train.id) as { file_name: string }).file_name;
  excludeImages(lib.db, [name], 'blurry');
  assert.deepEqual((await changed()).runs, ['r1'], 'an exclusion after the run');
  run('r2');
  assert.deepEqual((await changed()).runs, ['r1'], 'a run after the exclusion is current');
  restoreImages(lib.db, [name]);
  assert.deepEqual((await changed()).runs, ['r2'], 'restored: the first run is current again, the second is not');
  setLabels(lib.db, [name], train.label === 1 ? '0' : '1');
  assert.deepEqual((await changed()).runs, ['r1', 'r2'], 'a relabel');
  // a library that cannot train now: every run trained on other data
  lib.db.prepare("UPDATE images SET split = 'unassigned'").run();
  assert.deepEqual(await changed(), { dataHash: null, runs: ['r1', 'r2'] });
});
