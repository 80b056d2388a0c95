/**
 * The synthetic dataset with every defect kind planted: import + audit find each planted defect, and flag
 * nothing clean. A split afterwards creates no leak; export writes only what is usable.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Finding } from '../../../shared/contract';
import { dispatch } from '../../../electron/core/api/dispatch';
import { listFindings, runAudit } from '../../../electron/core/dataset/audit';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { classesFromTargets } from '../../../electron/core/dataset/import-plan';
import { exportDataset } from '../../../electron/core/dataset/export';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { libraryStats } from '../../../electron/core/dataset/stats';
import { openLibrary } from '../../../electron/core/library';
import { generateDataset } from '../../fixtures/synthetic';
import { tempDir } from '../../helpers';

const name = (p: string) => p.split('/').pop()!;

test('every planted defect is found, nothing clean is flagged, the split leaks nothing', async (t) => {
  const dir = tempDir('synthetic', t);
  const m = await generateDataset(join(dir, 'data'), { seed: 5, n: 100, defects: true });
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  const summary = await importDataset(lib.db, { dir: m.imagesDir, labels: m.labelsCsv, testDir: m.testDir, sampleSubmission: m.sampleSubmission });
  assert.deepEqual(summary.classes, classesFromTargets(Object.values(m.labels).map(String)));
  // One planted file vanishes after import: the audit must notice.
  const gone = m.clean.find((f) => f in m.labels)!;
  rmSync(m.paths[gone]!);
  runAudit(lib.db);
  const findings = listFindings(lib.db);
  const byKind = (kind: string) => findings.filter((f) => f.kind === kind);
  const has = (f: Finding, files: readonly string[]) => files.every((x) => f.images.map(name).includes(x));

  for (const p of m.planted) {
    assert.ok(
      byKind(p.kind).some((f) => has(f, p.files)),
      `planted ${p.kind} (${p.detail}: ${p.files.join(', ')}) not found; ${p.kind} findings: ${JSON.stringify(byKind(p.kind).map((f) => f.images))}`,
    );
  }
  assert.ok(byKind('missing-file').some((f) => has(f, [gone])), 'a file deleted after import is reported missing');

  // one outlier rule: Insights (stats) counts the widths the audit flags, with limits in pixels, never negative
  const stats = libraryStats(lib.db);
  const widthFlagged = byKind('size-outlier').filter((f) => JSON.stringify(f.detail['features']).includes('"feature":"width"')).length;
  assert.equal(stats.width?.outliers, widthFlagged);
  for (const box of [stats.width, stats.height, stats.aspect, stats.bytes]) {
    assert.ok(box && box.lowerFence > 0 && box.rule.includes('log scale'), JSON.stringify(box));
  }
  // evidence reaches people in words: no detail key (hasAlpha, baseRate, suggestedKeeper) in any fact
  for (const f of findings) {
    for (const fact of f.facts) assert.doesNotMatch(fact.label, /[a-z][A-Z]/, `${f.kind}: ${JSON.stringify(fact)}`);
  }
  const plantedFiles = new Set(m.planted.flatMap((p) => p.files));
  // Size outliers are statistics of the set, not defects: a clean face may sit in a tail. Every other kind
  // (broken, duplicated, mislabelled, colour space, CSV) must name planted files only.
  for (const f of findings.filter((x) => x.kind !== 'size-outlier')) {
    for (const img of f.images.map(name)) {
      if (img === gone && f.kind === 'missing-file') continue;
      assert.ok(plantedFiles.has(img), `${f.kind} flags the clean image ${img}: ${f.message}`);
    }
  }
  assert.equal(byKind('shortcut').length, 0, `no shortcut without one planted: ${JSON.stringify(byKind('shortcut'))}`);
  // a labelled image against the submission set: nothing here is scored on it, and the message says so
  for (const leak of byKind('split-leak')) {
    assert.equal(leak.severity, 'warning');
    assert.doesNotMatch(leak.message, /scored on what it trained on/);
    assert.match(leak.message, /sit in the labelled set and the submission set .*no score here is affected/);
  }

  const split = splitLibrary(lib.db, { seed: 1, val: 0.2, test: 0.2 });
  assert.equal(split.leaks, 0);
  runAudit(lib.db);
  const internal = listFindings(lib.db, { kind: 'split-leak' }).filter((f) => f.severity === 'error');
  assert.deepEqual(internal, [], 'no duplicate group spans train/val/test after the split');
  // forced apart across train and val, a pair does inflate a score: an error that says so
  const pair = m.planted.find((p) => p.kind === 'exact-duplicate')?.files ?? [];
  const move = lib.db.prepare('UPDATE images SET split = ? WHERE file_name = ?');
  move.run('train', pair[0]);
  move.run('val', pair[1]);
  runAudit(lib.db);
  const forced = listFindings(lib.db, { kind: 'split-leak' }).filter((f) => f.severity === 'error');
  assert.equal(forced.length, 1);
  assert.match(forced[0]?.message ?? '', /: a model is scored on what it trained on, so its validation or test score is too good$/);
  const again = splitLibrary(lib.db, { seed: 1, val: 0.2, test: 0.2 });
  assert.deepEqual(again.counts, split.counts, 'the same seed gives the same split');

  const out = join(dir, 'export');
  const exported = exportDataset(lib.db, out);
  const csv = readFileSync(join(out, 'labels.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length - 1, exported.images);
  for (const broken of ['truncated', 'empty-file', 'not-an-image', 'unreadable']) {
    for (const f of m.planted.filter((p) => p.kind === broken).flatMap((p) => p.files)) {
      assert.ok(!existsSync(join(out, 'images', f)), `${broken} ${f} is not exported`);
    }
  }
  assert.ok(!existsSync(join(out, 'images', gone)));
  assert.throws(() => exportDataset(lib.db, out), /not empty/);
});

test('a planted metadata shortcut is reported with its numbers', async (t) => {
  const dir = tempDir('shortcut', t);
  const m = await generateDataset(join(dir, 'data'), { seed: 9, n: 120, shortcut: true });
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  await importDataset(lib.db, { dir: m.imagesDir, labels: m.labelsCsv });
  runAudit(lib.db);
  const shortcut = listFindings(lib.db, { kind: 'shortcut' }).find((f) => f.detail['feature'] === 'format');
  assert.ok(shortcut, 'format shortcut reported');
  assert.equal(shortcut.detail['value'], 'png');
  assert.ok(Number(shortcut.detail['share']) >= 0.9);
  // what a person can check comes first, with the class's display name; no AUC near 0.5 in the sentence
  const count = Number(shortcut.detail['count']);
  const masked = Math.round(Number(shortcut.detail['share']) * count);
  assert.match(shortcut.message, new RegExp(`^${masked} of the ${count} PNGs are 'mask' \\(\\d+ % vs \\d+ % overall\\): a model can learn the file format instead of the content$`));
  assert.ok(shortcut.facts.some((f) => f.label === "of them 'mask'"), JSON.stringify(shortcut.facts));
  for (const f of shortcut.facts) assert.doesNotMatch(`${f.label} ${f.value}`, /baseRate|hasAlpha|[a-z][A-Z]/, JSON.stringify(f));

  // a renamed class reads in its new name
  const emit = () => {};
  await dispatch({ lib, jobs: new JobRunner(lib.db, emit), emit }, 'classes.rename', { name: '1', displayName: 'masked' });
  const renamed = listFindings(lib.db, { kind: 'shortcut' }).find((f) => f.detail['feature'] === 'format');
  assert.match(renamed?.message ?? '', /PNGs are 'masked'/);
});

test('class-per-folder layout: each subfolder is a class', async (t) => {
  const { generateClassFolders } = await import('../../fixtures/synthetic');
  const dir = tempDir('folders', t);
  const m = await generateClassFolders(join(dir, 'data'), { seed: 2, n: 24 });
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  const s = await importDataset(lib.db, { dir: m.root });
  assert.equal(s.layout, 'class-folders');
  assert.equal(s.labelled, 24);
  assert.deepEqual([...s.classes].sort(), ['mask', 'no_mask']);
  const display = lib.db.prepare('SELECT display_name FROM classes ORDER BY name').all();
  assert.deepEqual(display, [{ display_name: 'mask' }, { display_name: 'no mask' }]);
});
