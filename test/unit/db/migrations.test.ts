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
  for (const table of tables) assert.match(table.sql, /\)\s*(WITHOUT ROWID,\s*)?STRICT\s*$/, `${table.name} is not STRICT`);
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

test("migration 4 rebuilds runs and jobs for 'interrupted' without losing a run's epochs and predictions", (t) => {
  const file = join(tempDir('db', t), 'studio.db');
  const v3 = openDb(file, { migrations: MIGRATIONS.slice(0, 3) });
  v3.exec(`
    INSERT INTO sources (id, root, layout, imported_at) VALUES (1, '/data', 'zindi', 'now');
    INSERT INTO images (id, source_id, path, rel_path, file_name, bytes, mtime_ms, sha256, decode_status, scanned_at, split)
      VALUES (1, 1, '/data/a.jpg', 'a.jpg', 'a.jpg', 1, 1, 'h', 'ok', 'now', 'val');
    INSERT INTO runs (id, model, config, backend, device, engine, status, pid, started_at, data_hash, train_images, val_images,
      weights_source, input_size, best_epoch, best_val_log_loss)
      VALUES ('r1', 'scratch', '{}', 'wasm', '', 'none', 'running', 12345, 'now', 'd', 10, 5, 'none', 64, 2, 0.5);
    INSERT INTO epochs (run_id, epoch, stage, loss, acc, val_loss, val_acc, lr, seconds, images_per_second)
      VALUES ('r1', 1, 1, 0.7, 0.5, 0.7, 0.5, 0.01, 1, 10), ('r1', 2, 1, 0.6, 0.6, 0.5, 0.7, 0.01, 1, 10);
    INSERT INTO predictions (run_id, image_id, split, probability) VALUES ('r1', 1, 'val', 0.25);
    INSERT INTO jobs (id, kind, status, input, pid, created_at) VALUES ('j1', 'train', 'running', '{}', 12345, 'now');
  `);
  v3.close();
  const db = openDb(file);
  t.after(() => db.close());
  assert.equal(schemaVersion(db), MIGRATIONS.length);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again after migrating');
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM epochs WHERE run_id = 'r1'").get() as { n: number }).n, 2);
  assert.equal((db.prepare("SELECT COUNT(*) AS n FROM predictions WHERE run_id = 'r1'").get() as { n: number }).n, 1);
  db.prepare("UPDATE runs SET status = 'interrupted', pid_start = 'x' WHERE id = 'r1'").run();
  db.prepare("UPDATE jobs SET status = 'interrupted', pid_start = 'x' WHERE id = 'j1'").run();
  // the children still cascade from the rebuilt parent
  db.prepare("DELETE FROM runs WHERE id = 'r1'").run();
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM epochs').get() as { n: number }).n, 0);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM predictions').get() as { n: number }).n, 0);
});

test('0005: an older library\'s "has no file" rows become missing-file rows with their CSV and folder', (t) => {
  const file = join(tempDir('db', t), 'studio.db');
  const v3 = openDb(file, { migrations: MIGRATIONS.slice(0, 4) });
  v3.prepare("INSERT INTO sources (id, root, layout, imported_at) VALUES (1, '/data/images', 'zindi', 'now')").run();
  const insert = v3.prepare('INSERT INTO import_issues (source_id, kind, line, file, message) VALUES (1, ?, ?, ?, ?)');
  insert.run('unknown-label', 8, 'gone.jpg', "SampleSubmission.csv line 8: image 'gone.jpg' has no file in /data/test_images");
  insert.run('unknown-label', 4, 'p2.jpg', "labels.csv line 4: target 'yes' is not 0 or 1");
  v3.close();
  const db = openDb(file, { migrations: MIGRATIONS.slice(0, 5) });
  assert.deepEqual(db.prepare('SELECT kind, line, csv, folder FROM import_issues ORDER BY line').all(), [
    { kind: 'unknown-label', line: 4, csv: 'labels.csv', folder: null },
    { kind: 'missing-file', line: 8, csv: 'SampleSubmission.csv', folder: '/data/test_images' },
  ]);
  db.close();
});

test('0010: an older K-fold run whose folds all ran their full epochs gets each epoch\'s fold; any other keeps null', (t) => {
  const file = join(tempDir('db', t), 'studio.db');
  const v9 = openDb(file, { migrations: MIGRATIONS.slice(0, 9) });
  const run = v9.prepare(
    `INSERT INTO runs (id, model, config, backend, device, engine, status, pid, started_at, data_hash, train_images, val_images, weights_source, input_size)
     VALUES (?, 'scratch', ?, 'wasm', '', 'none', 'done', 1, 'now', 'd', 10, 5, 'none', 32)`,
  );
  const epoch = v9.prepare('INSERT INTO epochs (run_id, epoch, stage, loss, acc, val_loss, val_acc, lr, seconds, images_per_second) VALUES (?, ?, ?, 0.7, 0.5, 0.7, 0.5, 0.01, 1, 10)');
  const epochs = (id: string, stages: ReadonlyArray<1 | 2>): void => stages.forEach((stage, i) => epoch.run(id, i + 1, stage));
  run.run('whole', JSON.stringify({ folds: 3, epochs: 2, fineTuneLayers: 0, fineTuneEpochs: 10 }));
  epochs('whole', [1, 1, 1, 1, 1, 1]);
  // transfer with fine-tuning: each fold is 2 head epochs then 1 fine-tuning epoch
  run.run('tuned', JSON.stringify({ folds: 2, epochs: 2, fineTuneLayers: 4, fineTuneEpochs: 1 }));
  epochs('tuned', [1, 1, 2, 1, 1, 2]);
  // a fold stopped early: where the folds meet is not known
  run.run('early', JSON.stringify({ folds: 3, epochs: 2, fineTuneLayers: 0 }));
  epochs('early', [1, 1, 1, 1, 1]);
  run.run('single', JSON.stringify({ folds: 0, epochs: 2 }));
  epochs('single', [1, 1]);
  run.run('broken', '{not json');
  epochs('broken', [1, 1]);
  v9.close();
  const db = openDb(file);
  t.after(() => db.close());
  const folds = (id: string): Array<number | null> =>
    (db.prepare('SELECT fold FROM epochs WHERE run_id = ? ORDER BY epoch').all(id) as Array<{ fold: number | null }>).map((r) => r.fold);
  assert.deepEqual(folds('whole'), [1, 1, 2, 2, 3, 3]);
  assert.deepEqual(folds('tuned'), [1, 1, 1, 2, 2, 2]);
  assert.deepEqual(folds('early'), [null, null, null, null, null]);
  assert.deepEqual(folds('single'), [null, null]);
  assert.deepEqual(folds('broken'), [null, null]);
});
