/** The import dialog's "found beside the folder": the labels CSV, the sample submission and the test folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectImport } from '../../../electron/core/dataset/import-detect';
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
