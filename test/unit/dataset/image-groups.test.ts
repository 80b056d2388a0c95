import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { ImageFilter } from '../../../shared/contract';
import type { Db } from '../../../electron/core/db/open';
import { findingsPage } from '../../../electron/core/dataset/findings-query';
import { listImages } from '../../../electron/core/dataset/images';
import { importDataset } from '../../../electron/core/dataset/import';
import { openLibrary } from '../../../electron/core/library';
import { tempDir } from '../../helpers';

const NAMES = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg', 'f.jpg'];

async function library(dir: string): Promise<Db> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rows = ['image,target'];
  for (const [i, name] of NAMES.entries()) {
    await sharp({ create: { width: 30 + i, height: 20, channels: 3, background: { r: i * 40, g: 90, b: 200 - i * 30 } } }).jpeg().toFile(join(dir, 'images', name));
    rows.push(`${name},${i % 2}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  return openLibrary(join(dir, 'lib'), { create: true }).db;
}

/** A finding of `kind` over the named images, in a fresh audit row. */
function plant(db: Db, kind: string, names: readonly string[]): void {
  const audit = Number(db.prepare("INSERT INTO audits (created_at, seconds, images) VALUES ('2026-01-01T00:00:00Z', 0, 6)").run().lastInsertRowid);
  const id = Number(
    db.prepare("INSERT INTO findings (audit_id, key, kind, severity, message, detail) VALUES (?, ?, ?, 'warning', 'planted', '{}')").run(audit, `${kind}:${names.join(',')}`, kind).lastInsertRowid,
  );
  for (const [position, name] of names.entries()) {
    db.prepare('INSERT INTO finding_images (finding_id, image_id, position) SELECT ?, id, ? FROM images WHERE file_name = ?').run(id, position, name);
  }
}

const names = (db: Db, filter: ImageFilter): string[] => listImages(db, filter, { limit: 100 }).rows.map((r) => r.fileName);

test('a finding-kind filter lists each group together (groups by their first name, then by name); the cursor walks the same order', async (t) => {
  const dir = tempDir('image-groups', t);
  const db = await library(dir);
  t.after(() => db.close());
  await importDataset(db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv') });
  // two near-duplicate pairs whose members are far apart by name, and a finding of another kind
  plant(db, 'near-duplicate', ['f.jpg', 'a.jpg']);
  plant(db, 'near-duplicate', ['e.jpg', 'b.jpg']);
  plant(db, 'size-outlier', ['c.jpg']);

  assert.deepEqual(names(db, { findingKind: 'near-duplicate' }), ['a.jpg', 'f.jpg', 'b.jpg', 'e.jpg']);
  const rows = listImages(db, { findingKind: 'near-duplicate' }, { limit: 100 }).rows;
  assert.equal(rows[0]?.group, rows[1]?.group, 'a pair shares its group');
  assert.notEqual(rows[1]?.group, rows[2]?.group);

  // page by page with the cursor, one image a page: the same order, each image once
  const walked: string[] = [];
  let cursor: string | undefined;
  do {
    const page = listImages(db, { findingKind: 'near-duplicate' }, { limit: 1, ...(cursor ? { cursor } : {}) });
    walked.push(...page.rows.map((r) => r.fileName));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  assert.deepEqual(walked, ['a.jpg', 'f.jpg', 'b.jpg', 'e.jpg']);
  // a jump by offset lands in the same order, and other filters combine with the grouping
  assert.deepEqual(listImages(db, { findingKind: 'near-duplicate' }, { offset: 2, limit: 1 }).rows.map((r) => r.fileName), ['b.jpg']);
  assert.deepEqual(names(db, { findingKind: 'near-duplicate', label: '0' }), ['a.jpg', 'e.jpg']);

  // without a kind filter the list stays by name, and a cursor from one order is refused by the other
  assert.deepEqual(names(db, {}), NAMES);
  const plain = listImages(db, {}, { limit: 1 }).nextCursor ?? '';
  assert.throws(() => listImages(db, { findingKind: 'near-duplicate' }, { cursor: plain, limit: 1 }), /not a cursor/);
});

test("findings.list with an image lists only that image's findings, and its kind menu counts only them (the Library's \"!\" badge)", async (t) => {
  const dir = tempDir('image-findings', t);
  const db = await library(dir);
  t.after(() => db.close());
  await importDataset(db, { dir: join(dir, 'images'), labels: join(dir, 'labels.csv') });
  plant(db, 'near-duplicate', ['f.jpg', 'a.jpg']);
  plant(db, 'size-outlier', ['a.jpg']);
  plant(db, 'size-outlier', ['c.jpg']);
  const id = (name: string): number => (db.prepare('SELECT id FROM images WHERE file_name = ?').get(name) as { id: number }).id;

  const ofA = findingsPage(db, { status: 'open', imageId: id('a.jpg') }, { limit: 10 });
  assert.equal(ofA.total, 2);
  assert.deepEqual(ofA.findings.map((f) => f.kind).sort(), ['near-duplicate', 'size-outlier']);
  assert.ok(ofA.findings.every((f) => f.imageIds.includes(id('a.jpg'))));
  assert.deepEqual(ofA.kinds.map((k) => [k.kind, k.count]).sort(), [['near-duplicate', 1], ['size-outlier', 1]]);
  assert.equal(findingsPage(db, { status: 'open', imageId: id('b.jpg') }, { limit: 10 }).total, 0);
  assert.equal(findingsPage(db, { status: 'open' }, { limit: 10 }).total, 3, 'without an image: every finding');
});
