import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { excludeImages, history, redo, restoreImages, setLabels, undo } from '../../../electron/core/dataset/edits';
import { resolveImage } from '../../../electron/core/dataset/images';
import { importDataset } from '../../../electron/core/dataset/import';
import { openLibrary } from '../../../electron/core/library';
import { tempDir } from '../../helpers';

async function tinySet(dir: string, n: number): Promise<string> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rows = ['image,target'];
  for (let i = 0; i < n; i++) {
    const name = `img${i}.jpg`;
    await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: { r: (i * 53) % 255, g: (i * 97) % 255, b: (i * 31) % 255 } } })
      .jpeg()
      .toFile(join(dir, 'images', name));
    rows.push(`${name},${i % 2}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  return dir;
}

test('label, exclude and restore are events; undo and redo walk batches; a new change drops the redo tail', async (t) => {
  const dir = await tinySet(tempDir('edits', t), 4);
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  await importDataset(lib.db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv') });
  const label = (name: string) => resolveImage(lib.db, name).label;
  assert.equal(label('img0.jpg'), '0');

  assert.deepEqual(setLabels(lib.db, ['img0.jpg', 'img2.jpg'], '1'), { batch: 2, changed: 2 });
  assert.equal(setLabels(lib.db, ['img0.jpg'], '1').changed, 0, 'setting the same label is no change');
  excludeImages(lib.db, ['img1.jpg'], 'blurry');
  assert.equal(resolveImage(lib.db, 'img1.jpg').exclude_reason, 'blurry');

  undo(lib.db); // the exclusion
  assert.equal(resolveImage(lib.db, 'img1.jpg').excluded, 0);
  undo(lib.db); // the bulk label
  assert.equal(label('img0.jpg'), '0');
  assert.equal(label('img2.jpg'), '0');
  assert.throws(() => undo(lib.db), /nothing to undo/, 'the import batch is not undoable');

  redo(lib.db);
  assert.equal(label('img0.jpg'), '1');
  setLabels(lib.db, ['img3.jpg'], '0'); // drops the undone exclusion
  assert.throws(() => redo(lib.db), /nothing to redo/);

  restoreImages(lib.db, ['img1.jpg']);
  const h = history(lib.db, 100);
  assert.ok(h.some((e) => e.kind === 'exclusion' && e.state === 'dropped'));
  assert.ok(h.some((e) => e.source === 'import' && e.kind === 'label'));
  assert.throws(() => setLabels(lib.db, ['img0.jpg'], 'yes'), /'yes' is not a class/);
  assert.throws(() => setLabels(lib.db, ['nope.jpg'], '1'), /no image named 'nope.jpg'/);
});

test('re-import is idempotent, keeps edits, relinks a moved folder and sees a changed file', async (t) => {
  const dir = await tinySet(tempDir('reimport', t), 3);
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  const input = { dir: join(dir, 'images'), labels: join(dir, 'labels.csv') };
  const first = await importDataset(lib.db, input);
  assert.equal(first.added, 3);
  setLabels(lib.db, ['img1.jpg'], '0');
  const second = await importDataset(lib.db, input);
  assert.deepEqual([second.added, second.unchanged, second.changed], [0, 3, 0]);
  assert.equal(resolveImage(lib.db, 'img1.jpg').label, '0', "the person's edit survives a re-import of the same CSV");

  await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123456' } }).jpeg().toFile(join(dir, 'images', 'img2.jpg'));
  const third = await importDataset(lib.db, input);
  assert.equal(third.changed, 1);
  assert.equal(resolveImage(lib.db, 'img2.jpg').width, 64);

  const { renameSync } = await import('node:fs');
  renameSync(join(dir, 'images'), join(dir, 'moved'));
  const moved = await importDataset(lib.db, { dir: join(dir, 'moved'), labels: join(dir, 'labels.csv') });
  assert.equal(moved.relinked, 3);
  assert.equal(moved.added, 0);
  const count = (lib.db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
  assert.equal(count, 3, 'a moved folder is relinked, not duplicated');
  assert.equal(resolveImage(lib.db, 'img1.jpg').label, '0');
});
