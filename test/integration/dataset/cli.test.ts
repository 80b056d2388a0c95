/** The CLI as a person meets it: exit codes, messages instead of stack traces, bad rows reported by line. */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { ImportSummary } from '../../../shared/contract';
import { parseJson, runCli, tempDir } from '../../helpers';

async function smallSet(dir: string): Promise<void> {
  mkdirSync(join(dir, 'images'));
  for (let i = 0; i < 6; i++) {
    await sharp({ create: { width: 50 + 7 * i, height: 40, channels: 3, background: { r: 40 * i, g: 200 - 30 * i, b: 90 } } })
      .jpeg()
      .toFile(join(dir, 'images', `p${i}.jpg`));
  }
  writeFileSync(join(dir, 'images', 'notes.txt'), 'not data');
  writeFileSync(
    join(dir, 'labels.csv'),
    ['image,target', 'p0.jpg,0', 'p1.jpg,1', 'p2.jpg,yes', 'ghost.jpg,1', 'p3.jpg,0', 'p3.jpg,1', 'p4.jpg,1'].join('\n'),
  );
}

test('usage errors exit 2; a missing folder or a CSV without its columns exits 1 with a message', async (t) => {
  const dir = tempDir('cli', t);
  await smallSet(dir);
  const lib = join(dir, 'lib');
  const unknown = await runCli(['frobnicate', '--library', lib]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const badFlag = await runCli(['split', '--library', lib, '--bogus']);
  assert.equal(badFlag.code, 2);
  const badFill = await runCli(['submission', '--run', 'x', '--out', join(dir, 's.csv'), '--fill', '2', '--library', lib]);
  assert.equal(badFill.code, 2);
  assert.match(badFill.stderr, /--fill must be at most 1 \(got 2\)/);

  const missing = await runCli(['import', join(dir, 'nope'), '--library', lib]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found: .*nope/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');

  writeFileSync(join(dir, 'bad.csv'), 'file,label\np0.jpg,1\n');
  const badCsv = await runCli(['import', join(dir, 'images'), '--labels', join(dir, 'bad.csv'), '--library', lib]);
  assert.equal(badCsv.code, 1);
  assert.match(badCsv.stderr, /bad\.csv line 1: the header needs 'image' and 'target' columns/);

  const noLib = await runCli(['stats', '--library', join(dir, 'other')]);
  assert.equal(noLib.code, 1);
  assert.match(noLib.stderr, /no library at/);
});

test('bad rows do not stop an import; each is reported with its line and becomes a finding', async (t) => {
  const dir = tempDir('cli', t);
  await smallSet(dir);
  const lib = join(dir, 'lib');
  // Global options after the command, --json before it.
  const imp = await runCli(['--json', 'import', join(dir, 'images'), '--labels', join(dir, 'labels.csv'), '--library', lib]);
  assert.equal(imp.code, 0, imp.stderr);
  const s = parseJson<ImportSummary>(imp.stdout);
  assert.equal(s.files, 6, 'notes.txt beside the photos is not imported');
  assert.deepEqual(
    s.badRows.map((b) => [b.line, b.kind]),
    [[4, 'unknown-label'], [5, 'missing-file'], [7, 'duplicate-row']],
  );
  assert.match(s.badRows[0]!.message, /labels\.csv line 4: target 'yes' is not 0 or 1/);
  assert.equal(s.labelled, 4);
  assert.equal(s.unlabelled, 2); // p2 (bad target) and p5 (no row)

  const audit = parseJson<{ findings: Array<{ kind: string; images: string[] }> }>((await runCli(['audit', '--json', '--library', lib])).stdout);
  const kinds = (k: string) => audit.findings.filter((f) => f.kind === k).map((f) => f.images.join(','));
  assert.deepEqual(kinds('unknown-label'), ['p2.jpg']);
  assert.deepEqual(kinds('missing-file'), ['ghost.jpg'], 'a row naming no file is a missing-file warning, not an unknown label');
  assert.deepEqual(kinds('duplicate-row'), ['p3.jpg']);
  assert.deepEqual(kinds('unlabelled'), ['p5.jpg']);

  rmSync(join(dir, 'images', 'p1.jpg'));
  const after = parseJson<{ findings: Array<{ kind: string; images: string[] }> }>((await runCli(['audit', '--json', '--library', lib])).stdout);
  assert.deepEqual(after.findings.filter((f) => f.kind === 'missing-file').map((f) => f.images), [['p1.jpg'], ['ghost.jpg']]);

  const label = await runCli(['label', 'p5.jpg', '1', '--library', lib]);
  assert.equal(label.code, 0, label.stderr);
  const undo = await runCli(['undo', '--library', lib, '--json']);
  assert.equal(parseJson<{ changed: number }>(undo.stdout).changed, 1);
  const hist = parseJson<Array<{ image: string; state: string }>>((await runCli(['history', '--limit', '1', '--json', '--library', lib])).stdout);
  assert.deepEqual(hist.map((h) => [h.image, h.state]), [['p5.jpg', 'undone']]);
});
