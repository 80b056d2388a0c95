/**
 * One odd file never stops an import: a name that is not UTF-8, a file over 2 GiB, a file that cannot be
 * read, symlinks and hidden names. Each becomes a row with its error (and a finding) or a line of the
 * summary that says what was skipped and why; the rest is imported and labelled.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { ImportSummary } from '../../../shared/contract';
import { listFindings, runAudit } from '../../../electron/core/dataset/audit';
import { importDataset } from '../../../electron/core/dataset/import';
import { scanOne } from '../../../electron/core/dataset/import-scan';
import { openLibrary } from '../../../electron/core/library';
import { parseJson, runCli, tempDir } from '../../helpers';

function jpeg(i: number): Promise<Buffer> {
  return sharp({ create: { width: 40 + 5 * i, height: 32, channels: 3, background: { r: 30 * i, g: 180 - 20 * i, b: 60 } } })
    .jpeg()
    .toBuffer();
}

async function photos(dir: string, n: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `p${i}.jpg`;
    writeFileSync(join(dir, name), await jpeg(i));
    names.push(name);
  }
  return names;
}

test('a file name that is not UTF-8 is a row with its error; the rest is imported and labelled, --json prints the summary', async (t) => {
  const dir = tempDir('badname', t);
  const images = join(dir, 'images');
  const names = await photos(images, 4);
  // "café.jpg" in Latin-1: byte 0xE9 is not UTF-8
  const latin1 = Buffer.concat([Buffer.from(`${images}/caf`), Buffer.from([0xe9]), Buffer.from('.jpg')]);
  writeFileSync(latin1, await jpeg(9));
  writeFileSync(join(dir, 'labels.csv'), ['image,target', ...names.map((n, i) => `${n},${i % 2}`)].join('\n'));
  const lib = join(dir, 'lib');

  const imp = await runCli(['--json', 'import', images, '--labels', join(dir, 'labels.csv'), '--library', lib]);
  assert.equal(imp.code, 0, imp.stderr);
  const s = parseJson<ImportSummary>(imp.stdout);
  assert.equal(s.files, 5);
  assert.equal(s.labelled, 4, 'every labelled photo is labelled');
  assert.equal(s.unreadable, 1);

  const audit = parseJson<{ findings: Array<{ kind: string; images: string[]; message: string }> }>((await runCli(['audit', '--json', '--library', lib])).stdout);
  const bad = audit.findings.filter((f) => f.kind === 'unreadable');
  assert.equal(bad.length, 1, JSON.stringify(audit.findings));
  assert.deepEqual(bad[0]!.images, ['caf\uFFFDE9.jpg']);
  assert.match(bad[0]!.message, /not valid UTF-8.*rename it/);
  assert.equal(audit.findings.filter((f) => f.kind === 'missing-file').length, 0, 'the file is found again by its bytes');

  const again = parseJson<ImportSummary>((await runCli(['--json', 'import', images, '--labels', join(dir, 'labels.csv'), '--library', lib])).stdout);
  assert.equal(again.unchanged, 5, 're-import reads nothing again');
});

test('a file over 2 GiB is hashed as a stream (memory stays flat) and reported, not the end of the import', async (t) => {
  const dir = tempDir('huge', t);
  const images = join(dir, 'images');
  await photos(images, 3);
  const huge = join(images, 'huge.jpg');
  writeFileSync(huge, '');
  truncateSync(huge, 2 ** 31 + 4096); // sparse: no disk used, every byte reads as 0
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  const rssBefore = process.resourceUsage().maxRSS;
  const s = await importDataset(lib.db, { dir: images });
  const grewMb = (process.resourceUsage().maxRSS - rssBefore) / 1024;
  assert.equal(s.files, 4);
  assert.equal(s.added, 4);
  assert.ok(grewMb < 400, `peak RSS grew by ${grewMb.toFixed(0)} MB while importing a 2 GiB file`);
  const row = lib.db.prepare("SELECT bytes, decode_status, sha256 FROM images WHERE file_name = 'huge.jpg'").get() as { bytes: number; decode_status: string; sha256: string };
  assert.equal(row.bytes, 2 ** 31 + 4096);
  assert.equal(row.decode_status, 'not-an-image');
  assert.match(row.sha256, /^[0-9a-f]{64}$/);
  runAudit(lib.db);
  assert.ok(listFindings(lib.db, { kind: 'not-an-image' }).some((f) => f.images.includes('huge.jpg')));
});

test('a file that cannot be read becomes a row with its error (never a thrown import)', async (t) => {
  const dir = tempDir('unread', t);
  mkdirSync(join(dir, 'folder.jpg'));
  const write = await scanOne(
    { abs: join(dir, 'folder.jpg'), rel: 'folder.jpg', fsPath: join(dir, 'folder.jpg'), sourceRoot: dir, label: undefined, submission: false },
    undefined,
    { sourceId: 1, claimMoved: () => null },
  );
  assert.ok(write?.scan);
  assert.equal(write.scan.decodeStatus, 'unreadable');
  assert.match(write.scan.decodeError ?? '', /cannot be read \(EISDIR/);
  const gone = await scanOne(
    { abs: join(dir, 'gone.jpg'), rel: 'gone.jpg', fsPath: join(dir, 'gone.jpg'), sourceRoot: dir, label: undefined, submission: false },
    undefined,
    { sourceId: 1, claimMoved: () => null },
  );
  assert.match(gone?.scan?.decodeError ?? '', /ENOENT/);
  assert.notEqual(gone?.scan?.sha256, write.scan.sha256, 'two unread files are never exact duplicates of each other');
});

test('symlinks, hidden names and hidden folders are listed in the summary with the reason', async (t) => {
  const dir = tempDir('skipped', t);
  const images = join(dir, 'images');
  const names = await photos(images, 3);
  writeFileSync(join(images, '..jpg'), await jpeg(5));
  mkdirSync(join(images, '.thumbs'));
  writeFileSync(join(images, '.thumbs', 'p0.jpg'), await jpeg(6));
  symlinkSync(join(images, 'p1.jpg'), join(images, 'link.jpg'));
  symlinkSync(join(dir, 'nowhere.jpg'), join(images, 'dangling.jpg'));
  writeFileSync(join(dir, 'labels.csv'), ['image,target', ...names.map((n, i) => `${n},${i % 2}`), '..jpg,1', 'link.jpg,0'].join('\n'));
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  const s = await importDataset(lib.db, { dir: images, labels: join(dir, 'labels.csv') });
  assert.equal(s.files, 3);
  const why = Object.fromEntries(s.skipped.map((k) => [k.file, k.reason]));
  assert.match(why['..jpg'] ?? '', /hidden file/);
  assert.match(why['.thumbs'] ?? '', /hidden folder/);
  assert.match(why['link.jpg'] ?? '', /symbolic link/);
  assert.match(why['dangling.jpg'] ?? '', /symbolic link/);
  const rowFor = (name: string) => s.badRows.find((b) => b.file === name)?.message ?? '';
  assert.match(rowFor('..jpg'), /line 5: image '\.\.jpg' was not imported: hidden file/);
  assert.match(rowFor('link.jpg'), /line 6: image 'link\.jpg' was not imported: symbolic link/);
});

test('a folder with no image file is refused, with what was there, and nothing is written', async (t) => {
  const dir = tempDir('no-images', t);
  const empty = join(dir, 'empty');
  const notes = join(dir, 'notes');
  mkdirSync(empty);
  mkdirSync(join(notes, 'mask'), { recursive: true });
  writeFileSync(join(notes, 'readme.txt'), 'the photos are elsewhere');
  writeFileSync(join(notes, 'mask', 'list.csv'), 'a,b');
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  for (const folder of [empty, notes]) {
    await assert.rejects(importDataset(lib.db, { dir: folder }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, new RegExp(`^no image files in ${folder} \\(\\.jpg, .*Nothing was imported`));
      return true;
    });
  }
  assert.deepEqual(lib.db.prepare('SELECT (SELECT COUNT(*) FROM images) AS images, (SELECT COUNT(*) FROM sources) AS sources').get(), { images: 0, sources: 0 });
  // a folder with photos still imports
  await photos(join(dir, 'ok', 'mask'), 2);
  await photos(join(dir, 'ok', 'no_mask'), 2);
  assert.equal((await importDataset(lib.db, { dir: join(dir, 'ok') })).added, 4);
});
