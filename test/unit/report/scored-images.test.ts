/** The report says what a run's images are: a K-fold run, or an ensemble of one, is scored out of fold. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareRow } from '../../../shared/contract-compare';
import { scoredImages } from '../../../electron/core/report/report-html';
import type { ReportData } from '../../../electron/core/report/report-data';

type Ev = Parameters<typeof scoredImages>[1];
const row = (id: string, folds: number | null, members: string[] = []): Pick<CompareRow, 'id' | 'folds' | 'members'> => ({ id, folds, members });
const data = (rows: Array<Pick<CompareRow, 'id' | 'folds' | 'members'>>): ReportData => ({ comparison: { rows } }) as unknown as ReportData;
const ev = (r: Pick<CompareRow, 'id' | 'folds' | 'members'>, count: number, split: 'val' | 'test'): Ev => ({ row: r, count, split }) as unknown as Ev;

test('single split: on val; K-fold and an ensemble with a K-fold run: out of fold; test: on test', () => {
  const single = row('s', null);
  const folded = row('k', 5);
  const ensemble = row('e', null, ['s', 'k']);
  const d = data([single, folded, ensemble]);
  assert.equal(scoredImages(d, ev(single, 195, 'val')), '195 images on val');
  assert.equal(scoredImages(d, ev(folded, 1107, 'val')), '1,107 train+val images, scored out of fold');
  assert.equal(scoredImages(d, ev(ensemble, 1107, 'val')), '1,107 train+val images, scored out of fold');
  assert.equal(scoredImages(d, ev(folded, 195, 'test')), '195 images on test');
  assert.equal(scoredImages(d, ev(row('e2', null, ['s']), 195, 'val')), '195 images on val');
});
