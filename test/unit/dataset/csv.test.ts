import assert from 'node:assert/strict';
import { test } from 'node:test';
import { columnIndexes, formatCsv, parseCsv } from '../../../electron/core/csv';
import { classesFromTargets } from '../../../electron/core/dataset/import-plan';

test('CSV: BOM, CRLF, quotes, blank lines, line numbers', () => {
  const rows = parseCsv('\ufeffimage,target\r\na.jpg,1\r\n\r\n"b, c.jpg","0"\n"say ""hi""",1\n"multi\nline",0');
  assert.deepEqual(rows.map((r) => r.fields), [['image', 'target'], ['a.jpg', '1'], ['b, c.jpg', '0'], ['say "hi"', '1'], ['multi\nline', '0']]);
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 4, 5, 6]);
});

test('CSV round trip through the writer', () => {
  const rows = [['x,y.jpg', '1'], ['q"uote.png', '0'], ['plain.jpg', '1']];
  const parsed = parseCsv(formatCsv(['image', 'target'], rows));
  assert.deepEqual(parsed.slice(1).map((r) => r.fields), rows);
});

test('columns are found case-insensitively; a missing one gives null', () => {
  assert.deepEqual(columnIndexes(['ID', 'Image', 'Target'], ['image', 'target']), { image: 1, target: 2 });
  assert.equal(columnIndexes(['image', 'label'], ['image', 'target']), null);
});

test('classes from targets: integers when there are any, else every value', () => {
  assert.deepEqual(classesFromTargets(['1', '0', '1', 'yes', '']), ['0', '1']);
  assert.deepEqual(classesFromTargets(['10', '2', '2']), ['2', '10']);
  assert.deepEqual(classesFromTargets(['dog', 'cat', 'dog']), ['cat', 'dog']);
});
