/**
 * `mask-studio predict` as a person runs it on real workloads: 1,000 absolute file arguments (ONNX Runtime
 * 1.30 segfaulted past ~28.9 KB of arguments), a folder with things that are not good images in it, a
 * list on stdin, a CSV out. One tiny scratch run serves every case.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PredictRow, PredictSummary } from '../../shared/contract-predict';
import { parseCsv } from '../../electron/core/csv';
import { importDataset } from '../../electron/core/dataset/import';
import { splitLibrary } from '../../electron/core/dataset/split';
import { JobRunner } from '../../electron/core/jobs/runner';
import { openLibrary, type Library } from '../../electron/core/library';
import { getRun } from '../../electron/core/ml/runs/store';
import { startTraining } from '../../electron/core/ml/train/start';
import { generateDataset, type DatasetManifest } from '../fixtures/synthetic';
import { REPO_ROOT, parseJson } from '../helpers';
import { userEnv } from './user-env';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user's shell starts it (no CI variables), with `stdin` piped in. */
function cli(args: readonly string[], stdin = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), ...args], { env: userEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('predict on real workloads', () => {
  let dir: string;
  let lib: Library;
  let libDir: string;
  let runId: string;
  let data: DatasetManifest;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mask-studio-predict-'));
    data = await generateDataset(join(dir, 'data'), { seed: 4, n: 40, testN: 4, minSize: 48, maxSize: 96 });
    libDir = join(dir, 'lib');
    lib = openLibrary(libDir, { create: true });
    await importDataset(lib.db, { dir: data.imagesDir, labels: data.labelsCsv });
    splitLibrary(lib.db, { seed: 1, val: 0.3, test: 0 });
    const runner = new JobRunner(lib.db, () => {});
    const start = startTraining(lib, runner, { model: 'scratch', inputSize: 16, epochs: 1, batchSize: 8, backend: 'wasm', seed: 1 });
    await runner.wait(start.jobId);
    runId = start.runId;
    assert.equal(getRun(lib.db, runId).status, 'done', getRun(lib.db, runId).error ?? '');
  });

  after(() => {
    lib.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('1,000 absolute file arguments: every file scored, no crash', async () => {
    const folder = join(dir, 'many', 'a-folder-name-as-long-as-the-ones-people-have', 'holiday-photos-2024');
    mkdirSync(folder, { recursive: true });
    const sources = Object.keys(data.labels).map((name) => data.paths[name] ?? '').filter((p) => p.endsWith('.jpg'));
    const files = Array.from({ length: 1000 }, (_, i) => {
      const f = join(folder, `IMG_${String(i).padStart(6, '0')}.jpg`);
      copyFileSync(sources[i % sources.length] ?? '', f);
      return f;
    });
    assert.ok(files.join(' ').length > 40_000, 'past the 28.9 KB that crashed');
    const r = await cli(['--library', libDir, '--json', 'predict', '--run', runId, '--batch', '64', ...files]);
    assert.equal(r.signal, null, `killed by ${r.signal}`);
    assert.equal(r.code, 0, r.stderr);
    const rows = parseJson<PredictRow[]>(r.stdout);
    assert.deepEqual(rows.map((row) => row.file), files);
    assert.ok(rows.every((row) => row.status === 'ok' && row.probability !== null && row.probability >= 0 && row.probability <= 1));
    assert.match(r.stderr, /scored 1000 of 1000 files/);
  });

  test('a folder, bad files and a list on stdin: one row each with its own status; --out writes the CSV', async () => {
    const folder = join(dir, 'mixed');
    mkdirSync(join(folder, 'deeper'), { recursive: true });
    const good = Object.keys(data.labels).map((name) => data.paths[name] ?? '').find((p) => p.endsWith('.jpg')) ?? '';
    copyFileSync(good, join(folder, 'deeper', 'good.jpg'));
    writeFileSync(join(folder, 'notes.txt'), 'not an image, and not named like one: skipped');
    writeFileSync(join(folder, 'text.jpg'), 'a text file named like a JPEG');
    writeFileSync(join(folder, 'empty.png'), '');
    const bytes = readFileSync(good);
    writeFileSync(join(folder, 'cut.jpg'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const listed = [join(folder, 'deeper'), join(dir, 'no-such-file.jpg'), ''].join('\r\n');
    const out = join(dir, 'out', 'predictions.csv');
    const r = await cli(['--library', libDir, '--json', 'predict', '--run', runId.slice(0, 22), folder, '--files-from', '-', '--out', out], listed);
    assert.equal(r.code, 0, r.stderr);
    const summary = parseJson<PredictSummary>(r.stdout);
    assert.deepEqual(
      [summary.files, summary.scored, summary.truncated, summary.errors, summary.skipped, summary.out],
      [6, 3, 1, 3, 1, out],
    );
    const csv = parseCsv(readFileSync(out, 'utf8'));
    assert.deepEqual(csv[0]?.fields, ['file', 'probability', 'label', 'status', 'message']);
    const files = ['cut.jpg', 'deeper/good.jpg', 'empty.png', 'text.jpg', 'deeper/good.jpg'].map((f) => join(folder, f)).concat(join(dir, 'no-such-file.jpg'));
    assert.deepEqual(csv.slice(1).map((row) => row.fields[0]), files, 'in the order given, the folder sorted, a file named twice scored twice');
    const byFile = new Map(csv.slice(1).map((row) => [row.fields[0] ?? '', row.fields]));
    const status = (f: string): string => byFile.get(f)?.[3] ?? 'missing row';
    const message = (f: string): string => byFile.get(f)?.[4] ?? '';
    assert.equal(status(join(folder, 'deeper', 'good.jpg')), 'ok');
    assert.equal(status(join(folder, 'cut.jpg')), 'truncated');
    assert.match(message(join(folder, 'cut.jpg')), /ends before its end-of-image marker/);
    assert.ok(Number(byFile.get(join(folder, 'cut.jpg'))?.[1]) > 0, 'a truncated file is still scored');
    assert.equal(status(join(folder, 'text.jpg')), 'error');
    assert.match(message(join(folder, 'text.jpg')), /not an image/);
    assert.match(message(join(folder, 'empty.png')), /empty \(0 bytes\)/);
    assert.match(message(join(dir, 'no-such-file.jpg')), /no such file/);
    for (const [, fields] of byFile) assert.doesNotMatch(fields[4] ?? '', /training|exclude/, 'predict speaks of predicting, not of training');
    assert.deepEqual(readdirSync(join(dir, 'out')), ['predictions.csv'], 'no partial file left beside it');
  });

  test('options go through the contract: a bad value names its flag, exit 2', async () => {
    for (const [flag, value, expected] of [
      ['--batch', '0', /--batch: .*>=1/],
      ['--batch', 'many', /--batch: .*number/],
      ['--engine', 'gpu', /--engine: .*"auto"\|"onnx"\|"tfjs"/],
    ] as const) {
      const r = await cli(['--library', libDir, 'predict', '--run', runId, flag, value, 'x.jpg']);
      assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
      assert.match(r.stderr, expected);
    }
    const none = await cli(['--library', libDir, 'predict', '--run', runId]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /at least one image file or folder, or --files-from LIST/);
  });
});
