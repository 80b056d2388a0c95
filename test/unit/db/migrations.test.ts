import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDb, schemaVersion } from '../../../electron/core/db/open';
import { MIGRATIONS } from '../../../electron/core/db/migrations';
import { tempDir } from '../../helpers';

test('migrations bring an empty database to the latest version, and a second open keeps it', (t) => {
  const file = join(tempDir('db', t), 'studio.db');
  const db = openDb(file);
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  db.prepare("INSERT INTO meta (key, value) VALUES ('probe', 'kept')").run();
  db.close();
  const again = openDb(file);
  assert.equal(schemaVersion(again), MIGRATIONS.length);
  assert.deepEqual(again.prepare("SELECT value FROM meta WHERE key = 'probe'").get(), { value: 'kept' });
  again.close();
});

test('every table is STRICT', (t) => {
  const db = openDb(join(tempDir('db', t), 'studio.db'));
  const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string; sql: string }>;
  assert.ok(tables.length >= 8);
  for (const table of tables) assert.match(table.sql, /\)\s*STRICT\s*$/, `${table.name} is not STRICT`);
  db.close();
});

test('a database at version N-1 is migrated to N', (t) => {
  const file = join(tempDir('db', t), 'studio.db');
  const older = openDb(file, { migrations: MIGRATIONS.slice(0, -1) });
  assert.equal(schemaVersion(older), MIGRATIONS.length - 1);
  older.close();
  const db = openDb(file);
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  db.close();
});

test('a database from a newer version is refused with a clear error', (t) => {
  const file = join(tempDir('db', t), 'studio.db');
  const db = openDb(file);
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(() => openDb(file), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LIBRARY_TOO_NEW');
    assert.match(err.message, /newer Mask Studio/);
    return true;
  });
});

test('foreign keys are enforced', (t) => {
  const db = openDb(join(tempDir('db', t), 'studio.db'));
  assert.throws(() =>
    db
      .prepare("INSERT INTO images (source_id, path, rel_path, file_name, bytes, mtime_ms, sha256, decode_status, scanned_at) VALUES (999, '/x', 'x', 'x', 1, 1, 'h', 'ok', 'now')")
      .run(),
  /FOREIGN KEY/);
  db.close();
});

test('0004: an older library\'s "has no file" rows become missing-file rows with their CSV and folder', (t) => {
  const file = join(tempDir('db', t), 'studio.db');
  const v3 = openDb(file, { migrations: MIGRATIONS.slice(0, 3) });
  v3.prepare("INSERT INTO sources (id, root, layout, imported_at) VALUES (1, '/data/images', 'zindi', 'now')").run();
  const insert = v3.prepare('INSERT INTO import_issues (source_id, kind, line, file, message) VALUES (1, ?, ?, ?, ?)');
  insert.run('unknown-label', 8, 'gone.jpg', "SampleSubmission.csv line 8: image 'gone.jpg' has no file in /data/test_images");
  insert.run('unknown-label', 4, 'p2.jpg', "labels.csv line 4: target 'yes' is not 0 or 1");
  v3.close();
  const db = openDb(file, { migrations: MIGRATIONS.slice(0, 4) });
  assert.deepEqual(db.prepare('SELECT kind, line, csv, folder FROM import_issues ORDER BY line').all(), [
    { kind: 'unknown-label', line: 4, csv: 'labels.csv', folder: null },
    { kind: 'missing-file', line: 8, csv: 'SampleSubmission.csv', folder: '/data/test_images' },
  ]);
  db.close();
});
