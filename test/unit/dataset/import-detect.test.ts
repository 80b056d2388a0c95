/** The import dialog's "found beside the folder": the labels CSV, the sample submission and the test folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectImport } from '../../../electron/core/dataset/import-detect';
import { openLibrary } from '../../../electron/core/library';
import { DataRoots } from '../../../electron/core/paths/data-roots';
import { CoreSession } from '../../../electron/server/session';
import { tempDir } from '../../helpers';

test('a Zindi layout: labels.csv, the sample submission and test_images beside images/', (t) => {
  const root = tempDir('detect', t);
  mkdirSync(join(root, 'images'));
  mkdirSync(join(root, 'test_images'));
  writeFileSync(join(root, 'labels.csv'), 'image,target\na.jpg,1\n');
  writeFileSync(join(root, 'SampleSubmission.csv'), 'image,target\nb.jpg,0\n');
  writeFileSync(join(root, 'notes.csv'), 'name,comment\nx,y\n');
  const found = detectImport(join(root, 'images'));
  assert.equal(found.exists, true);
  assert.equal(found.labels, join(root, 'labels.csv'));
  assert.equal(found.sampleSubmission, join(root, 'SampleSubmission.csv'));
  assert.equal(found.testDir, join(root, 'test_images'));
});

test('Train.csv with a BOM and capitalised columns is found; a CSV without image,target is not', (t) => {
  const root = tempDir('detect', t);
  mkdirSync(join(root, 'photos'));
  writeFileSync(join(root, 'other.csv'), 'image,score\na.jpg,3\n');
  writeFileSync(join(root, 'Train.csv'), '\uFEFFImage,Target\na.jpg,1\n');
  assert.equal(detectImport(join(root, 'photos')).labels, join(root, 'Train.csv'));
});

test('nothing beside the folder: found nothing, and says where it looked', (t) => {
  const root = tempDir('detect', t);
  mkdirSync(join(root, 'images'));
  const found = detectImport(join(root, 'images'));
  assert.deepEqual([found.exists, found.labels, found.sampleSubmission, found.testDir], [true, null, null, null]);
  assert.deepEqual(found.looked, [root, join(root, 'images')]);
  assert.equal(detectImport(join(root, 'no-such-folder')).exists, false);
});

test("a page's allowed folders bound the look: nothing outside them is named, nor read through a symlink", (t) => {
  const root = tempDir('detect', t);
  const outside = join(root, 'outside');
  const data = join(root, 'data');
  mkdirSync(join(data, 'images'), { recursive: true });
  mkdirSync(join(outside, 'test_images'), { recursive: true });
  writeFileSync(join(root, 'labels.csv'), 'image,target\na.jpg,1\n');
  writeFileSync(join(outside, 'secret.csv'), 'image,target\na.jpg,1\n');
  symlinkSync(join(outside, 'secret.csv'), join(data, 'images', 'labels.csv'));
  symlinkSync(join(outside, 'test_images'), join(data, 'test_images'));
  const roots = new DataRoots([join(data, 'images')], { howToAllow: 'test' });
  const found = detectImport(join(data, 'images'), roots);
  assert.deepEqual([found.labels, found.testDir, found.sampleSubmission], [null, null, null]);
  assert.deepEqual(found.looked, [join(data, 'images')]);
  // the data folder allowed: its own files are found, the symlinks out of it still are not
  writeFileSync(join(data, 'Train.csv'), 'image,target\na.jpg,1\n');
  const wider = detectImport(join(data, 'images'), new DataRoots([data], { howToAllow: 'test' }));
  assert.deepEqual([wider.labels, wider.testDir], [join(data, 'Train.csv'), null]);
});

test('import.detect checks the folder against the allowed ones like import.start', async (t) => {
  const root = tempDir('detect', t);
  mkdirSync(join(root, 'data', 'images'), { recursive: true });
  const lib = openLibrary(join(root, 'lib'), { create: true });
  t.after(() => lib.close());
  const session = new CoreSession(lib, { log: () => {}, readRoots: new DataRoots([join(root, 'data')], { howToAllow: 'test' }) });
  const inside = await session.call('import.detect', { dir: join(root, 'data', 'images') });
  assert.ok(inside.ok && typeof inside.value === 'object' && inside.value !== null && 'exists' in inside.value && inside.value.exists === true);
  const outside = await session.call('import.detect', { dir: root });
  assert.equal(outside.ok ? 'ok' : outside.error.code, 'FORBIDDEN');
  const none = await new CoreSession(lib, { log: () => {} }).call('import.detect', { dir: join(root, 'data', 'images') });
  assert.equal(none.ok ? 'ok' : none.error.code, 'FORBIDDEN');
});
