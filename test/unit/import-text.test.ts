/** The Import dialog's summary sentences (shared/import-text.ts), as the real Spot the Mask import produced them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importCounts, skippedEntries } from '../../shared/import-text';

const spotTheMask = { added: 1617, unchanged: 0, changed: 0, relinked: 0, labelled: 1302, submission: 315, unlabelled: 0, unreadable: 0 };

test('import counts group every number like the file count ("1,617 files … 1,617 added")', () => {
  assert.equal(importCounts(spotTheMask), '1,617 added, 0 unchanged, 0 changed, 1,302 labelled, 315 for submission, 0 unreadable.');
});

test('relinked and unlabelled are said when they happened', () => {
  assert.equal(importCounts({ ...spotTheMask, added: 0, unchanged: 1612, relinked: 5, unlabelled: 3 }), '0 added, 1,612 unchanged, 0 changed, 5 relinked, 1,302 labelled, 315 for submission, 3 unlabelled, 0 unreadable.');
});

test('skipped entries: the first few and how many more, never a silent cut', () => {
  const skipped = Array.from({ length: 7 }, (_, i) => ({ file: `.hidden-${i}.jpg`, reason: 'hidden name' }));
  assert.deepEqual(skippedEntries({ skipped }, 5), { rows: skipped.slice(0, 5).map((e) => `${e.file}: ${e.reason}`), more: 2 });
  assert.deepEqual(skippedEntries({ skipped: skipped.slice(0, 2) }, 5).more, 0);
});
