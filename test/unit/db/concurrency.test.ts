import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLibrary } from '../../../electron/core/library';
import { tempDir } from '../../helpers';

test('two connections to one library (app + CLI) see each other’s changes; writers wait instead of failing', (t) => {
  const dir = join(tempDir('conc', t), 'lib');
  const a = openLibrary(dir, { create: true });
  const b = openLibrary(dir, { create: false });
  t.after(() => {
    a.close();
    b.close();
  });
  a.db.prepare("INSERT INTO classes (name, display_name, hotkey, position) VALUES ('0', 'no mask', '0', 0)").run();
  assert.deepEqual(b.db.prepare('SELECT name FROM classes').all(), [{ name: '0' }]);

  // b holds a write transaction open; a's write waits on the busy timeout instead of failing at once,
  // so here (one thread) it fails only after the timeout: make it short to prove the lock is honoured.
  a.db.pragma('busy_timeout = 50');
  b.db.exec('BEGIN IMMEDIATE');
  b.db.prepare("INSERT INTO classes (name, display_name, hotkey, position) VALUES ('1', 'mask', '1', 1)").run();
  const started = Date.now();
  assert.throws(() => a.db.prepare("UPDATE classes SET display_name = 'x' WHERE name = '0'").run(), /locked|busy/i);
  assert.ok(Date.now() - started >= 40, 'the writer waited for the busy timeout');
  // Readers are not blocked by the writer (WAL) and see the last committed state.
  assert.equal((a.db.prepare('SELECT COUNT(*) AS n FROM classes').get() as { n: number }).n, 1);
  b.db.exec('COMMIT');
  assert.equal((a.db.prepare('SELECT COUNT(*) AS n FROM classes').get() as { n: number }).n, 2);
});
