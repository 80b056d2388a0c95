/**
 * Zindi's sample submission lists more test images than a download may hold (509 listed, 315 present in the
 * real copy). Built here from the synthetic set: a sample of 8 present images plus 20 names with no file.
 * Import says so once, the audit makes one grouped `missing-file` warning, not 20 `unknown-label` errors.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importProblems } from '../../../shared/import-text';
import { listFindings, runAudit } from '../../../electron/core/dataset/audit';
import { importDataset } from '../../../electron/core/dataset/import';
import { openLibrary } from '../../../electron/core/library';
import { generateDataset } from '../../fixtures/synthetic';
import { tempDir } from '../../helpers';

const GHOSTS = Array.from({ length: 20 }, (_, i) => `absent${String(i).padStart(2, '0')}.jpg`);

test('sample rows without a file: one note at import, one grouped missing-file warning in the audit', async (t) => {
  const dir = tempDir('missing-rows', t);
  const m = await generateDataset(join(dir, 'data'), { seed: 3, n: 16, testN: 8, minSize: 48, maxSize: 64 });
  // the present rows first, then the absent ones interleaved, as Zindi's file mixes them
  const rows = [...m.test.slice(0, 4), ...GHOSTS.slice(0, 10), ...m.test.slice(4), ...GHOSTS.slice(10)];
  writeFileSync(m.sampleSubmission, `image,target\n${rows.map((r) => `${r},0\n`).join('')}`);
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());

  const s = await importDataset(lib.db, { dir: m.imagesDir, labels: m.labelsCsv, testDir: m.testDir, sampleSubmission: m.sampleSubmission });
  assert.equal(s.submission, 8);
  assert.equal(s.sampleRows, 28);
  assert.equal(s.sampleRowsWithoutFile, 20);
  assert.deepEqual(s.notes, [
    '20 of the 28 rows of sample_submission.csv name images that are not in test_images/ (first: absent00.jpg, absent01.jpg, absent02.jpg, …): ' +
      'they have no image to predict, so a submission needs their rows filled with one probability or left out',
  ]);
  assert.deepEqual([...new Set(s.badRows.map((b) => b.kind))], ['missing-file']);
  // the dialog and the CLI list no row twice: the note counts them, no "line 8: sample_submission.csv line 8"
  const problems = importProblems(s, 5);
  assert.deepEqual([problems.rows, problems.more, problems.total], [[], 0, 0]);

  runAudit(lib.db);
  const findings = listFindings(lib.db);
  assert.deepEqual(findings.filter((f) => f.kind === 'unknown-label'), [], 'an absent file is not an unknown label');
  const missing = findings.filter((f) => f.kind === 'missing-file');
  assert.equal(missing.length, 1, JSON.stringify(missing.map((f) => f.message)));
  const [group] = missing;
  assert.equal(group?.severity, 'warning');
  assert.equal(group?.detail['count'], 20);
  assert.equal(group?.detail['csv'], 'sample_submission.csv');
  assert.deepEqual(group?.images, GHOSTS);
  assert.match(group?.message ?? '', /^20 of sample_submission\.csv|^20 rows of sample_submission\.csv/);
});

test('the other bad rows are listed once each, with how many more', () => {
  const badRows = Array.from({ length: 12 }, (_, i) => ({
    line: i + 2, file: `f${i}.jpg`, kind: 'unknown-label' as const, csv: 'labels.csv', folder: null, message: `labels.csv line ${i + 2}: target 'x' is not 0 or 1`,
  }));
  const p = importProblems({ notes: [], badRows }, 5);
  assert.equal(p.rows.length, 5);
  assert.equal(p.rows[0], "labels.csv line 2: target 'x' is not 0 or 1");
  assert.equal(p.more, 7);
  assert.equal(p.total, 12);
});
