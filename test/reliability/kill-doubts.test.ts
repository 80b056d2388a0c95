/**
 * kill -9 of `doubts` at a seeded point of its feature extraction: the last finished computation's doubts
 * are kept whole, the killed job reads as interrupted, and a re-run completes and replaces them.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { findNsfwjs } from '../../electron/core/ml/weights';
import { generateDataset } from '../fixtures/synthetic';
import { runCli, tempDir } from '../helpers';
import { assertKilled, killAtProgress, readRows, seededPoint } from './harness';

const LAST = 'SELECT input_size, seed, images, thresholds FROM doubts_runs ORDER BY id';
const DOUBTED = 'SELECT d.image_id, d.given, d.suggested, d.probability, d.rank FROM label_doubts d ORDER BY d.doubts_run_id, d.rank';

test('doubts killed mid-way keep the previous doubts; a re-run completes', { skip: findNsfwjs() ? false : 'the nsfwjs package is not installed' }, async (t) => {
  const dir = tempDir('kill-doubts', t);
  const data = await generateDataset(join(dir, 'data'), { seed: 5, n: 60, testN: 0, minSize: 48, maxSize: 64 });
  const lib = join(dir, 'lib');
  const doubts = (size: number): string[] => ['--library', lib, 'doubts', '--model', 'inception_v3', '--weights', 'nsfwjs', '--input-size', String(size), '--folds', '2', '--seed', '3'];
  assert.equal((await runCli(['--library', lib, 'import', data.imagesDir, '--labels', data.labelsCsv])).code, 0);
  const first = await runCli(doubts(75));
  assert.equal(first.code, 0, first.stderr);
  const before = { last: readRows(lib, LAST), doubted: readRows(lib, DOUBTED) };
  assert.equal(before.last.length, 1);

  // at another input size the features are not cached: extraction reports progress image by image
  const nth = seededPoint(31, 1, 3);
  const killed = await killAtProgress(doubts(96), nth, (p) => p.phase.startsWith('features') && p.done > 0 && p.done < p.total);
  assertKilled(killed, `doubts (progress line ${nth})`);
  assert.deepEqual({ last: readRows(lib, LAST), doubted: readRows(lib, DOUBTED) }, before, 'the previous doubts are kept whole');

  const rerun = await runCli(doubts(96));
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(readRows<{ input_size: number }>(lib, LAST).map((r) => r.input_size), [96], 'the re-run replaced them');
  assert.deepEqual(readRows(lib, "SELECT status FROM jobs WHERE kind = 'doubts' ORDER BY created_at"), [
    { status: 'done' },
    { status: 'interrupted' },
    { status: 'done' },
  ]);
  assert.deepEqual(readRows(lib, "SELECT id FROM jobs WHERE status = 'running'"), []);
});
