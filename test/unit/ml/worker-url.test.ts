/** trainWorkerUrl: from the sources it is the tsx shim beside train/start.ts; from a build, out/main/train-worker.js. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { trainWorkerUrl } from '../../../electron/core/ml/train/worker-url';
import { REPO_ROOT } from '../../helpers';

test('from the sources (tsx): the .mjs shim beside train/start.ts, which exists', () => {
  const caller = pathToFileURL(join(REPO_ROOT, 'electron', 'core', 'ml', 'train', 'start.ts')).href;
  const url = trainWorkerUrl(caller);
  assert.equal(fileURLToPath(url), join(REPO_ROOT, 'electron', 'core', 'ml', 'train', 'worker.mjs'));
  assert.ok(existsSync(url));
});

test('from the build: out/main/train-worker.js, whether the caller landed in an entry or in a shared chunk', () => {
  assert.equal(trainWorkerUrl('file:///app/out/main/index.js').href, 'file:///app/out/main/train-worker.js');
  assert.equal(trainWorkerUrl('file:///app/out/main/chunks/train-D44flyo4.js').href, 'file:///app/out/main/train-worker.js');
  // inside a packaged app, and on Windows
  assert.equal(
    trainWorkerUrl('file:///C:/Program%20Files/Mask%20Studio/resources/app.asar/out/main/chunks/train-x.js').href,
    'file:///C:/Program%20Files/Mask%20Studio/resources/app.asar/out/main/train-worker.js',
  );
});
