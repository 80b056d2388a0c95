import assert from 'node:assert/strict';
import { test } from 'node:test';
import { columnIndexes, formatCsv, parseCsv, parseCsvChecked } from '../../../electron/core/csv';
import { classesFromTargets, minRowsForClass } from '../../../electron/core/dataset/import-plan';

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

test('an unclosed quote drops its own row only: the line where it opened is reported, the lines after it are read', () => {
  const { rows, unclosedQuotes } = parseCsvChecked('image,target\na.jpg,1\n"b.jpg,0\nc.jpg,1\r\nd.jpg,"0"\n');
  assert.deepEqual(unclosedQuotes, [3]);
  assert.deepEqual(rows.map((r) => [r.line, ...r.fields]), [[1, 'image', 'target'], [2, 'a.jpg', '1'], [4, 'c.jpg', '1'], [5, 'd.jpg', '0']]);
  const last = parseCsvChecked('image,target\na.jpg,"1');
  assert.deepEqual(last.unclosedQuotes, [2]);
  assert.deepEqual(last.rows.map((r) => r.line), [1]);
});

test('a rare target is no class when two targets are common; a tiny CSV keeps every target', () => {
  const targets = [...Array.from({ length: 300 }, (_, i) => String(i % 2)), '2', '7', '7'];
  assert.deepEqual(classesFromTargets(targets, minRowsForClass(targets.length)), ['0', '1']);
  assert.deepEqual(classesFromTargets(['0', '1'], minRowsForClass(2)), ['0', '1']);
});

test('a stray quote that only "closes" lines later, inside other text, is reported where it opened', () => {
  const { rows, unclosedQuotes } = parseCsvChecked('image,target\n"a.jpg,1\nb.jpg,0\nc.jpg,"1"\nd.jpg,0\n');
  assert.deepEqual(unclosedQuotes, [2]);
  assert.deepEqual(rows.map((r) => r.fields), [['image', 'target'], ['b.jpg', '0'], ['c.jpg', '1'], ['d.jpg', '0']]);
});
