/**
 * The names of the files a person keeps: a report says which library and split it compares and when it was
 * written (a downloads folder full of `report.html` says nothing), in the browser's download and the desktop's
 * save dialog alike, and only with characters every file system takes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datasetExportName, librarySlug, reportFileName } from '../../electron/core/paths/exports';
import { saveDialogPlan } from '../../electron/server/desktop-requests';

const when = new Date(2026, 11, 6, 3, 45, 9);

test('the report is named after its library, its split and the minute it was written', () => {
  assert.equal(reportFileName('/home/ada/spot-the-mask', 'val', when), 'mask-studio-report-spot-the-mask-val-20261206-0345.html');
  assert.equal(reportFileName('C:/Users/ada/My Masks (2)', 'test', when), 'mask-studio-report-My-Masks-2-test-20261206-0345.html');
  assert.notEqual(reportFileName('/l/a', 'val', when), reportFileName('/l/a', 'val', new Date(2026, 11, 7, 9, 0)), 'a later report replaces an earlier one');
  // the desktop's save dialog proposes the same name
  assert.match(saveDialogPlan({ kind: 'report', split: 'test' }, '/home/ada/spot-the-mask').defaultName, /^mask-studio-report-spot-the-mask-test-\d{8}-\d{4}\.html$/);
});

test('a library folder name becomes a safe file-name part', () => {
  assert.equal(librarySlug('/data/libraries/ölçü masks'), 'l-masks');
  assert.equal(librarySlug('/'), 'library');
  assert.equal(librarySlug('/x/...'), 'library');
  assert.equal(librarySlug(`/x/${'a'.repeat(80)}`).length, 40);
  assert.equal(datasetExportName(when), 'dataset-20261206-034509');
});
