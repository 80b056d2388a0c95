/**
 * The desktop app as built trains: plain Node (no tsx, and a hook that refuses any TypeScript) imports the
 * BUILT core from out/main, imports a tiny synthetic set into a new library, splits it and runs a tiny
 * scratch job through the built training worker (out/main/train-worker.js) to the end, and loads ONNX
 * Runtime's native binding through the doctor. `npm test` builds before the tests; alone, run
 * `npm run build` first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset } from '../../fixtures/synthetic';
import { REPO_ROOT, tempDir, type CliResult } from '../../helpers';

const OUT_MAIN = join(REPO_ROOT, 'out', 'main');
const HERE = join(REPO_ROOT, 'test', 'integration', 'desktop');

interface BuiltRun {
  status: string;
  error: string | null;
  backend: string;
  device: string;
  epochs: number;
  predictions: number;
  probabilities: number[];
  onnxRuntime: { version?: string; providers?: Array<{ name: string; available: boolean }>; error?: string };
}

function plainNode(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  // Nothing of the test runner's loader reaches the child: no --import tsx, no NODE_OPTIONS.
  const env = { ...process.env, ...extraEnv };
  delete env['NODE_OPTIONS'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: HERE, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('from out/ under plain Node: a library is made and a scratch run trains in the built worker', async (t) => {
  for (const entry of ['index.js', 'library.js', 'session.js']) {
    assert.ok(existsSync(join(OUT_MAIN, entry)), `out/main/${entry} is missing: run 'npm run build' first (npm test does)`);
  }
  const dir = tempDir('built-train', t);
  const data = await generateDataset(join(dir, 'data'), { seed: 11, n: 24, testN: 4, minSize: 40, maxSize: 64 });
  const input = {
    outMain: OUT_MAIN,
    library: join(dir, 'library'),
    dataset: { dir: data.imagesDir, labels: data.labelsCsv, testDir: data.testDir, sampleSubmission: data.sampleSubmission },
    train: { model: 'scratch', inputSize: 16, epochs: 1, batchSize: 8, augment: false, backend: 'wasm', seed: 1 },
  };
  const r = await plainNode(['--import', './no-typescript.mjs', 'train-from-out.mjs', JSON.stringify(input)], { MASK_STUDIO_HOME: join(dir, 'home') });
  assert.equal(r.code, 0, `the built core failed:\n${r.stderr}`);
  const run = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as BuiltRun;
  assert.equal(run.status, 'done', run.error ?? r.stderr);
  assert.equal(run.backend, 'wasm', 'the wasm binaries were found from out/');
  assert.equal(run.epochs, 1);
  // val + test + submission rows of 24 labelled and 4 test images, each scored by the checkpoint
  assert.ok(run.predictions >= 4, `${run.predictions} predictions`);
  assert.ok(run.probabilities.every((p) => p >= 0 && p <= 1));
  // ONNX Runtime's native binding loads from the built code too
  assert.equal(run.onnxRuntime.error, undefined, run.onnxRuntime.error);
  assert.ok(run.onnxRuntime.providers?.some((p) => p.name === 'cpu' && p.available), JSON.stringify(run.onnxRuntime));
});

test('the guard holds in worker threads too: the source worker (it registers tsx) fails under it', async () => {
  // Without this the test above could pass on a worker that still loads TypeScript.
  const shim = join(REPO_ROOT, 'electron', 'core', 'ml', 'train', 'worker.mjs');
  const r = await plainNode(['--import', './no-typescript.mjs', 'start-worker.mjs', shim]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /no TypeScript at run time: .*train\/worker\.mjs imports 'tsx\/esm\/api'/);
});
