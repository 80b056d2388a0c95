/**
 * Zindi's sample submission lists more test images than a download may hold (509 listed, 315 present in the
 * real copy). Built here from the synthetic set: a sample of 8 present images plus 20 names with no file.
 * Import says so once, the audit makes one grouped `missing-file` warning, not 20 `unknown-label` errors.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ImportSummary } from '../../../shared/contract';
import type { SubmissionCheck, SubmissionResult } from '../../../shared/contract-compare';
import { isAppError } from '../../../shared/errors';
import { importProblems } from '../../../shared/import-text';
import { dispatch } from '../../../electron/core/api/dispatch';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { createRun, finishRun, insertPredictions, type TrainingSet } from '../../../electron/core/ml/runs/store';
import { writeSubmission } from '../../../electron/core/ml/inference/submission';
import { parseSubmissionQuery } from '../../../electron/server/downloads';
import { listFindings, runAudit } from '../../../electron/core/dataset/audit';
import { importDataset } from '../../../electron/core/dataset/import';
import { openLibrary, type Library } from '../../../electron/core/library';
import { generateDataset } from '../../fixtures/synthetic';
import { tempDir } from '../../helpers';

const GHOSTS = Array.from({ length: 20 }, (_, i) => `absent${String(i).padStart(2, '0')}.jpg`);

/** 8 test images present, a sample of 28 rows (the absent ones interleaved, as Zindi's file mixes them), imported. */
async function zindiLike(t: TestContext, name: string): Promise<{ dir: string; rows: string[]; lib: Library; summary: ImportSummary }> {
  const dir = tempDir(name, t);
  const m = await generateDataset(join(dir, 'data'), { seed: 3, n: 16, testN: 8, minSize: 48, maxSize: 64 });
  const rows = [...m.test.slice(0, 4), ...GHOSTS.slice(0, 10), ...m.test.slice(4), ...GHOSTS.slice(10)];
  writeFileSync(m.sampleSubmission, `image,target\n${rows.map((r) => `${r},0\n`).join('')}`);
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  const summary = await importDataset(lib.db, { dir: m.imagesDir, labels: m.labelsCsv, testDir: m.testDir, sampleSubmission: m.sampleSubmission });
  return { dir, rows, lib, summary };
}

test('sample rows without a file: one note at import, one grouped missing-file warning in the audit', async (t) => {
  const { lib, summary: s } = await zindiLike(t, 'missing-rows');
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

/** A finished run with a probability for each present submission image (what training would store). */
function fakeRun(lib: Library): string {
  const set: TrainingSet = { classes: ['0', '1'], train: [], val: [], test: [], submission: [], dataHash: 'test', splitSeed: null };
  const id = '20240101-000000-scratch-beef';
  createRun(lib.db, { id, model: 'scratch', config: {}, backend: 'cpu', jobId: null, set, weightsSource: 'none', inputSize: 32 });
  const subs = lib.db.prepare("SELECT id FROM images WHERE split = 'submission' ORDER BY id").all() as Array<{ id: number }>;
  insertPredictions(lib.db, id, subs.map((s, i) => ({ imageId: s.id, split: 'submission', probability: (i + 1) / 10 })));
  finishRun(lib.db, id, { status: 'done', seconds: 1, best: null, imagesPerSecond: null, error: null });
  return id;
}

test('a submission with sample rows that have no image: refused with the real cause, or filled, or partial', async (t) => {
  const { dir, rows, lib } = await zindiLike(t, 'missing-rows-submission');
  const runId = fakeRun(lib);

  const out = join(dir, 'submission.csv');
  await assert.rejects(writeSubmission(lib, runId, out), (err: unknown) => {
    assert.ok(isAppError(err));
    assert.equal(err.code, 'CONFLICT');
    assert.match(err.message, /no probability for 20 of the 28 sample rows: 20 have no image file \(the import found none for them\) \(first: absent00\.jpg/);
    assert.match(err.message, /--fill P .* or --partial \(only the 8 rows with a probability/);
    assert.doesNotMatch(err.message, /were they excluded/);
    return true;
  });
  assert.ok(!existsSync(out), 'nothing is written when refused');

  const filled = await writeSubmission(lib, runId, out, { fill: 0.5 });
  assert.deepEqual([filled.rows, filled.filled, filled.omitted], [28, 20, 0]);
  const csv = readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  assert.deepEqual(csv.map(([image]) => image), rows, "the sample's order");
  assert.deepEqual(csv.filter(([image]) => image?.startsWith('absent')).map(([, p]) => p), GHOSTS.map(() => '0.5'));
  assert.equal(filled.note, join(dir, 'submission.note.txt'));
  const note = readFileSync(filled.note ?? '', 'utf8');
  assert.match(note, /rows written with the probability 0\.5 \(--fill 0\.5\): 20/);
  assert.equal(note.split('\n').filter((l) => /^\d+\tabsent\d+\.jpg\tno-file$/.test(l)).length, 20, note);

  const partial = await writeSubmission(lib, runId, join(dir, 'partial.csv'), { partial: true });
  assert.deepEqual([partial.rows, partial.filled, partial.omitted], [8, 0, 20]);
  assert.equal(readFileSync(join(dir, 'partial.csv'), 'utf8').trim().split('\n').length, 9);

  // the API method and the check, through dispatch like the app
  const emit = () => {};
  const ctx = { lib, jobs: new JobRunner(lib.db, emit), emit };
  const check = (await dispatch(ctx, 'submission.check', { id: runId })) as SubmissionCheck;
  assert.deepEqual([check.rows, check.predicted, check.missing.map((x) => [x.reason, x.count])], [28, 8, [['no-file', 20]]]);
  const viaApi = (await dispatch(ctx, 'submission.write', { id: runId, fill: 0.25 })) as SubmissionResult;
  assert.equal(viaApi.filled, 20);
  await assert.rejects(dispatch(ctx, 'submission.write', { id: runId, fill: 0.5, partial: true }), /Choose one/);
  await assert.rejects(dispatch(ctx, 'submission.write', { id: runId, fill: 2 }), /The fill probability must be at most 1 \(got 2\)/);
});

test('the serve route reads ?fill=, ?partial=1 and ?tta= through the same schema', () => {
  assert.deepEqual(parseSubmissionQuery(new URLSearchParams('tta=none&fill=0.5')), { fill: 0.5, tta: 'none' });
  assert.throws(() => parseSubmissionQuery(new URLSearchParams('tta=sideways')), /tta/);
  assert.deepEqual(parseSubmissionQuery(new URLSearchParams('fill=0.5')), { fill: 0.5 });
  assert.deepEqual(parseSubmissionQuery(new URLSearchParams('partial=1')), { partial: true });
  assert.deepEqual(parseSubmissionQuery(new URLSearchParams('')), {});
  assert.throws(() => parseSubmissionQuery(new URLSearchParams('fill=abc')), /must be a number \(got 'abc'\)/);
  assert.throws(() => parseSubmissionQuery(new URLSearchParams('fill=0.5&partial=1')), /Choose one/);
});
