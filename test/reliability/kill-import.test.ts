/**
 * kill -9 of `import` at seeded points, twice, then a re-run: the library equals a clean import of the
 * same files (rows, hashes, labels, decode results), the killed jobs read as interrupted, none as
 * running, and SQLite's integrity check passes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateDataset } from '../fixtures/synthetic';
import { runCli, tempDir } from '../helpers';
import { assertKilled, killAtProgress, readRows, seededPoint } from './harness';

const ROWS = `SELECT rel_path, sha256, bytes, label, import_label, split, decode_status, width, height, phash, excluded, missing
  FROM images ORDER BY rel_path`;

test('an import killed twice at seeded points and re-run equals a clean import', async (t) => {
  const dir = tempDir('kill-import', t);
  const data = await generateDataset(join(dir, 'data'), { seed: 3, n: 400, testN: 40, minSize: 48, maxSize: 72 });
  const args = (lib: string): string[] => [
    'import', data.imagesDir, '--labels', data.labelsCsv, '--test-dir', data.testDir, '--sample-submission', data.sampleSubmission, '--library', lib,
  ];
  const lib = join(dir, 'lib');
  for (const seed of [11, 12]) {
    const nth = seededPoint(seed, 1, 3);
    const killed = await killAtProgress(args(lib), nth, (p) => p.phase === 'scan' && p.done > 0 && p.done < p.total);
    assertKilled(killed, `import (seed ${seed}, progress line ${nth})`);
  }
  const stored = readRows<{ n: number }>(lib, 'SELECT COUNT(*) AS n FROM images')[0]?.n ?? 0;
  assert.ok(stored < 440, `the kills left the import unfinished (${stored} of 440 stored)`);

  const rerun = await runCli(args(lib));
  assert.equal(rerun.code, 0, rerun.stderr);
  const clean = join(dir, 'clean');
  assert.equal((await runCli(args(clean))).code, 0);
  assert.deepEqual(readRows(lib, ROWS), readRows(clean, ROWS), 'the re-run library equals a clean import');
  assert.deepEqual(readRows(lib, 'SELECT name, position FROM classes ORDER BY name'), readRows(clean, 'SELECT name, position FROM classes ORDER BY name'));

  const jobs = readRows<{ kind: string; status: string }>(lib, 'SELECT kind, status FROM jobs ORDER BY created_at');
  assert.deepEqual(jobs, [
    { kind: 'import', status: 'interrupted' },
    { kind: 'import', status: 'interrupted' },
    { kind: 'import', status: 'done' },
  ]);
  assert.deepEqual(readRows(lib, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
});
