/**
 * Two CLI processes labelling one library while a third audits it over and over: every label change is
 * an event (none lost), no process fails, none meets SQLITE_BUSY, and the database stays intact.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateDataset } from '../fixtures/synthetic';
import { runCli, tempDir, type CliResult } from '../helpers';
import { readRows } from './harness';

const WRITES = 12;

test('two label writers and an auditor in parallel lose no event and never see SQLITE_BUSY', async (t) => {
  const dir = tempDir('writers', t);
  const data = await generateDataset(join(dir, 'data'), { seed: 6, n: 2 * WRITES, testN: 0, minSize: 40, maxSize: 48 });
  const lib = join(dir, 'lib');
  assert.equal((await runCli(['--library', lib, 'import', data.imagesDir, '--labels', data.labelsCsv])).code, 0);
  const names = Object.keys(data.labels).sort();
  const before = readRows<{ n: number }>(lib, 'SELECT COUNT(*) AS n FROM events')[0]?.n ?? 0;

  const results: CliResult[] = [];
  // each writer flips its own half of the images, one CLI process per change
  const writer = async (half: readonly string[]): Promise<void> => {
    for (const name of half) {
      const current = data.labels[name] ?? 0;
      results.push(await runCli(['--library', lib, 'label', name, current === 1 ? '0' : '1']));
    }
  };
  let writing = true;
  let audits = 0;
  const auditor = async (): Promise<void> => {
    while (writing || audits === 0) {
      results.push(await runCli(['--library', lib, 'audit', '--json']));
      audits++;
    }
  };
  const auditing = auditor();
  await Promise.all([writer(names.slice(0, WRITES)), writer(names.slice(WRITES))]);
  writing = false;
  await auditing;

  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /SQLITE_BUSY|database is locked/);
  }
  const after = readRows<{ n: number }>(lib, 'SELECT COUNT(*) AS n FROM events')[0]?.n ?? 0;
  assert.equal(after - before, 2 * WRITES, `${2 * WRITES} label events (with ${audits} audits alongside)`);
  const flipped = readRows<{ file_name: string; label: string }>(lib, 'SELECT file_name, label FROM images ORDER BY file_name');
  for (const row of flipped) assert.equal(row.label, data.labels[row.file_name] === 1 ? '0' : '1', `${row.file_name} carries its new label`);
  assert.deepEqual(readRows(lib, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
});
