/** What a comparison's scores rest on, in the words the CLI and the Compare view share. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commonImageCount, missingFoldsText, scoredOn } from '../../../shared/scored-on';

test('rows on the same images name their count; rows on different images (out of fold beside val) name none', () => {
  assert.equal(commonImageCount([{ count: 195 }, { count: 195 }]), 195);
  assert.equal(commonImageCount([{ count: 1107 }, { count: 195 }]), null);
  assert.equal(commonImageCount([{ count: 1107 }]), 1107);
  assert.equal(commonImageCount([]), 0);
});

test("a row says what it was scored on: single split, K-fold with its missing folds, ensemble", () => {
  assert.equal(scoredOn({ kind: 'trained', folds: null, missingFolds: [] }), 'single split');
  assert.equal(scoredOn({ kind: 'trained', folds: 5, missingFolds: [] }), '5-fold');
  assert.equal(scoredOn({ kind: 'trained', folds: 3, missingFolds: [2, 3] }), '3-fold, folds 2, 3 of 3 missing');
  assert.equal(scoredOn({ kind: 'ensemble', folds: null, missingFolds: [] }), 'ensemble');
  assert.equal(missingFoldsText([5], 5), 'fold 5 of 5 missing');
});
