/**
 * The CLI meets the contract's limits: its flags go through the same zod schemas as the app's calls
 * (each refusal names the flag and what to type), an unsplit library is refused before TensorFlow.js
 * loads, a configuration that cannot fit is refused before any work with what fits, and a closed pipe
 * ends a command quietly.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setLabels } from '../../../electron/core/dataset/edits';
import { openLibrary } from '../../../electron/core/library';
import { generateDataset } from '../../fixtures/synthetic';
import { REPO_ROOT, runCli, tempDir } from '../../helpers';

async function tinyLibrary(t: { after(fn: () => void): void }, split: boolean): Promise<{ dir: string; lib: string; files: string[] }> {
  const dir = tempDir('cli-limits', t);
  const data = await generateDataset(join(dir, 'data'), { seed: 2, n: 24, testN: 4, minSize: 40, maxSize: 56 });
  const lib = join(dir, 'lib');
  const imported = await runCli(['import', data.imagesDir, '--labels', data.labelsCsv, '--library', lib]);
  assert.equal(imported.code, 0, imported.stderr);
  if (split) assert.equal((await runCli(['split', '--library', lib])).code, 0);
  return { dir, lib, files: Object.keys(data.labels) };
}

test("train's flags go through train.start's schema: every limit is named, and a negative number says it must be positive", async (t) => {
  const { lib } = await tinyLibrary(t, true);
  const big = await runCli(['train', '--model', 'scratch', '--epochs', '99999', '--batch', '100000', '--input-size', '1025', '--library', lib]);
  assert.equal(big.code, 2);
  assert.match(big.stderr, /--epochs 99999: at most 10000; --batch 100000: at most 4096; --input-size 1025: at most 1024/);
  for (const lr of [['--lr', '-1'], ['--lr=-1']]) {
    const negative = await runCli(['train', '--model', 'scratch', ...lr, '--library', lib]);
    assert.equal(negative.code, 2);
    assert.match(negative.stderr, /--lr -1: must be positive/);
    assert.doesNotMatch(negative.stderr, /ambiguous/);
  }
  const model = await runCli(['train', '--model', 'frob', '--library', lib]);
  assert.match(model.stderr, /--model frob: expected scratch, vgg19, .* or xception/);
  const seed = await runCli(['train', '--model', 'scratch', '--seed', 'x', '--optimizer', 'rmsprop', '--library', lib]);
  assert.match(seed.stderr, /--optimizer rmsprop: expected sgd or adam; --seed x: must be a number/);
  // the other commands parse through their methods' schemas too
  const split = await runCli(['split', '--val', '0.95', '--library', lib]);
  assert.equal(split.code, 2);
  assert.match(split.stderr, /--val 0\.95: at most 0\.9/);
  const history = await runCli(['history', '--limit', '0', '--library', lib]);
  assert.match(history.stderr, /--limit 0: must be positive/);
  const doubts = await runCli(['doubts', '--folds', '50', '--input-size', '16', '--library', lib]);
  assert.match(doubts.stderr, /--folds 50: at most 20; --input-size 16: at least 32/);
  const uncalibrated = await runCli(['doubts', '--trials', '3', '--flip-rate', '0.5', '--library', lib]);
  assert.equal(uncalibrated.code, 2);
  assert.match(uncalibrated.stderr, /--flip-rate 0\.5: at most 0\.25; --trials 3: only means something with calibrate \(--calibrate\)/);
  const trials = await runCli(['doubts', '--calibrate', '--trials', '0', '--tta', 'mirror', '--library', lib]);
  assert.match(trials.stderr, /--tta mirror: expected none, flip or flip-crops; --trials 0: at least 1/);
  const runs = await runCli(['train', '--model', 'scratch', '--library', lib, '--json', '--epochs', '0']);
  assert.match(runs.stderr, /--epochs 0: must be positive/);
});

test('a weights file named on the command line is read (the CLI allows what its user names; a page may not)', async (t) => {
  const { dir, lib } = await tinyLibrary(t, true);
  const file = join(dir, 'not-keras.h5');
  writeFileSync(file, 'not an HDF5 file');
  const r = await runCli(['train', '--model', 'vgg19', '--weights', file, '--epochs', '1', '--library', lib]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not an HDF5 file/);
  assert.doesNotMatch(r.stderr, /outside the allowed folders/);
});

test('an unsplit library is refused before TensorFlow.js loads', async (t) => {
  const { lib } = await tinyLibrary(t, false);
  // the CLI in a process of its own, asked afterwards which packages it loaded
  const script = join(tempDir('cli-probe', t), 'probe.mjs');
  writeFileSync(
    script,
    [
      "import { createRequire } from 'node:module';",
      `const { main } = await import(${JSON.stringify(join(REPO_ROOT, 'electron', 'cli', 'main.ts'))});`,
      `const code = await main(['train', '--model', 'scratch', '--library', ${JSON.stringify(lib)}]);`,
      "const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@tensorflow'));",
      'process.stdout.write(JSON.stringify({ code, loaded: loaded.length }));',
    ].join('\n'),
  );
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => (stderr.includes('not split') ? resolve(stdout) : reject(new Error(`no refusal: ${stderr}`))));
  });
  assert.deepEqual(JSON.parse(out), { code: 1, loaded: 0 });
});

test('a run that cannot fit is refused before any work, with what fits; nothing is recorded or cached', async (t) => {
  const { lib } = await tinyLibrary(t, true);
  const refused = await runCli(['train', '--model', 'scratch', '--input-size', '1024', '--batch', '2', '--backend', 'wasm', '--library', lib]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /scratch at 1024 px, batch 2 needs about [\d.]+ GB of tensor memory .* the wasm backend holds at most [\d.]+ GB; what fits: --input-size \d+ at batch 2/);
  const runs = await runCli(['runs', '--json', '--library', lib]);
  assert.deepEqual(JSON.parse(runs.stdout), []);
  assert.ok(!existsSync(join(lib, 'cache', 'pixels')), 'no pixel was decoded');
});

test('a closed pipe ends a command quietly with status 0', async (t) => {
  const { lib, files } = await tinyLibrary(t, false);
  // 10,000 events: megabytes of output, far past a pipe's buffer (the reader leaves after the first chunk)
  const db = openLibrary(lib, { create: false });
  for (let round = 0; round * files.length < 10_000; round++) setLabels(db.db, files, round % 2 === 0 ? '0' : '1', 'user');
  db.close();
  for (const args of [['history', '--json', '--limit', '10000'], ['history', '--limit', '10000']]) {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), ...args, '--library', lib], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /EPIPE|\n\s+at /, 'no stack trace');
  }
});
