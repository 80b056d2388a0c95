/**
 * Killing an import half way leaves a library that opens, and a re-run completes it without reading the
 * files that were already stored again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import type { ImportSummary } from '../../../shared/contract';
import { seededRandom } from '../../../electron/core/random';
import { REPO_ROOT, parseJson, runCli, tempDir } from '../../helpers';

const N = 600;

async function noiseSet(dir: string): Promise<void> {
  mkdirSync(join(dir, 'images'));
  const random = seededRandom(11);
  const rows = ['image,target'];
  for (let i = 0; i < N; i++) {
    const px = Buffer.alloc(192 * 192 * 3);
    for (let j = 0; j < px.length; j++) px[j] = Math.floor(random() * 256);
    await sharp(px, { raw: { width: 192, height: 192, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(dir, 'images', `n${i}.jpg`));
    rows.push(`n${i}.jpg,${i % 2}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
}

function countRows(dbFile: string): number {
  try {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created or not migrated yet
  }
}

test('an import killed half way is completed by a re-run', async (t) => {
  const dir = tempDir('crash', t);
  await noiseSet(dir);
  const lib = join(dir, 'lib');
  const args = ['import', join(dir, 'images'), '--labels', join(dir, 'labels.csv'), '--library', lib, '--json'];

  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), ...args], { stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  // Wait for the first committed batch, then kill without warning.
  const dbFile = join(lib, 'studio.db');
  const deadline = Date.now() + 60_000;
  let stored = 0;
  while ((stored = countRows(dbFile)) < 32) {
    assert.ok(Date.now() < deadline, 'the import stored nothing within 60 s');
    await new Promise((r) => setImmediate(r));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  const afterKill = countRows(dbFile);
  assert.ok(afterKill >= stored && afterKill < N, `killed with ${afterKill} of ${N} stored`);

  const stats = await runCli(['stats', '--json', '--library', lib]);
  assert.equal(stats.code, 0, `the library opens after the kill: ${stats.stderr}`);

  const rerun = await runCli(args);
  assert.equal(rerun.code, 0, rerun.stderr);
  const summary = parseJson<ImportSummary>(rerun.stdout);
  assert.equal(summary.added + summary.unchanged, N);
  assert.equal(summary.added, N - afterKill, 'the re-run reads only what was not stored');
  assert.equal(summary.labelled, N);
  assert.equal(countRows(dbFile), N);
});
