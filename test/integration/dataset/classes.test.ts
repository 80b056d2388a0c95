/**
 * One bad CSV value cannot make a library untrainable: a target outside the declared classes is a bad row,
 * never a new class; junk rows naming missing files declare nothing; an empty class can be removed; training
 * counts the classes that have images; an unclosed quote is reported at the line where it opened.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { listClasses, removeClass } from '../../../electron/core/dataset/classes';
import { setLabels, undo } from '../../../electron/core/dataset/edits';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { openLibrary, type Library } from '../../../electron/core/library';
import { trainingSet } from '../../../electron/core/ml/runs/store';
import { parseJson, runCli, tempDir } from '../../helpers';

async function images(dir: string, n: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    names.push(`p${i}.jpg`);
    // seeded noise: every image its own content, so none is a near duplicate of another
    const px = Buffer.alloc(24 * 20 * 3);
    let x = 2463534242 + i * 7919;
    for (let k = 0; k < px.length; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      px[k] = x & 0xff;
    }
    await sharp(px, { raw: { width: 24, height: 20, channels: 3 } }).jpeg().toFile(join(dir, `p${i}.jpg`));
  }
  return names;
}

function library(dir: string, t: { after(fn: () => void): void }): Library {
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  return lib;
}

const names = (lib: Library) => listClasses(lib.db).map((c) => c.name);

test("a target '2' among 0s and 1s is a bad row, not a class; junk rows naming missing files declare no class", async (t) => {
  const dir = tempDir('classes', t);
  const files = await images(join(dir, 'images'), 12);
  const rows = files.map((f, i) => `${f},${i === 5 ? 2 : i % 2}`);
  for (let i = 0; i < 2000; i++) rows.push(`missing-${i}.jpg,${i % 1000}`);
  writeFileSync(join(dir, 'labels.csv'), ['image,target', ...rows].join('\n'));
  const lib = library(dir, t);
  const s = await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv') });
  assert.deepEqual(s.classes, ['0', '1']);
  assert.deepEqual(names(lib), ['0', '1']);
  const two = s.badRows.find((b) => b.file === 'p5.jpg');
  assert.match(two?.message ?? '', /line 7: target '2' is not 0 or 1 .*the classes 0,1,2 \(Classes in the studio's Import, --classes on the command line\)/);
  assert.equal(s.labelled, 11);

  // a later import into this library keeps to its classes
  writeFileSync(join(dir, 'labels2.csv'), ['image,target', ...files.map((f, i) => `${f},${i < 6 ? 2 : 1}`)].join('\n'));
  const again = await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels2.csv') });
  assert.deepEqual(names(lib), ['0', '1']);
  assert.match(again.badRows[0]?.message ?? '', /target '2' is not 0 or 1, the library's classes/);
  // unless the person declares it
  const declared = await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels2.csv'), classes: ['0', '1', '2'] });
  assert.deepEqual(declared.classes, ['0', '1', '2']);
  assert.equal(declared.badRows.length, 0);
});

test('an empty class can be removed (CLI and core); one with images is refused; undo brings it back', async (t) => {
  const dir = tempDir('remove', t);
  const files = await images(join(dir, 'images'), 8);
  writeFileSync(join(dir, 'labels.csv'), ['image,target', ...files.map((f, i) => `${f},${i % 3}`)].join('\n'));
  const lib = library(dir, t);
  await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv'), classes: ['0', '1', '2'] });
  assert.throws(() => removeClass(lib.db, '2'), /class '2' still labels 2 images: relabel them first/);
  setLabels(lib.db, ['p2.jpg', 'p5.jpg'], '0');
  assert.deepEqual(removeClass(lib.db, '2').map((c) => [c.name, c.position, c.hotkey]), [['0', 0, '0'], ['1', 1, '1']]);
  undo(lib.db);
  assert.deepEqual(names(lib), ['0', '1', '2'], 'undoing the relabel brings the class back with its images');
  assert.equal((lib.db.prepare("SELECT COUNT(*) AS n FROM images WHERE label = '2'").get() as { n: number }).n, 2);

  setLabels(lib.db, ['p2.jpg', 'p5.jpg'], '1');
  const cli = await runCli(['--json', 'classes', 'remove', '2', '--library', join(dir, 'lib')]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual(parseJson<Array<{ name: string }>>(cli.stdout).map((c) => c.name), ['0', '1']);
  const refused = await runCli(['classes', 'remove', '1', '--library', join(dir, 'lib')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /class '1' still labels \d+ images/);
});

test('training counts the classes that have images, not every class the library lists', async (t) => {
  const dir = tempDir('inuse', t);
  const files = await images(join(dir, 'images'), 20);
  writeFileSync(join(dir, 'labels.csv'), ['image,target', ...files.map((f, i) => `${f},${i % 2}`)].join('\n'));
  const lib = library(dir, t);
  await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv'), classes: ['0', '1', '2'] });
  splitLibrary(lib.db, { seed: 3, val: 0.25, test: 0 });
  assert.deepEqual(trainingSet(lib.db).classes, ['0', '1']);
  setLabels(lib.db, ['p0.jpg'], '2');
  assert.throws(() => trainingSet(lib.db), /3 classes have included, readable images \(images per class: 0: 9, 1: 10, 2: 1\)/);
});

test('an unclosed quote in the labels CSV is a bad row at the line where it opened; the rows after it are imported', async (t) => {
  const dir = tempDir('quote', t);
  const files = await images(join(dir, 'images'), 6);
  const rows = files.map((f, i) => (i === 1 ? `"${f},1` : `${f},${i % 2}`));
  writeFileSync(join(dir, 'labels.csv'), ['image,target', ...rows].join('\n'));
  const lib = library(dir, t);
  const s = await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv') });
  assert.equal(s.labelled, 5);
  assert.equal(s.badRows.length, 1);
  assert.match(s.badRows[0]!.message, /labels\.csv line 3: a quote opens here and never closes/);
});
