/**
 * kill -9 of `train` mid-run at a seeded epoch: the run reads as interrupted at once (not "running"
 * behind a dead pid), keeps its epochs, its best checkpoint and that checkpoint's scores, and can be
 * compared, submitted, averaged into an ensemble and deleted; the next `train` completes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunInfo } from '../../shared/contract';
import type { CompareRow } from '../../shared/contract-compare';
import { generateDataset } from '../fixtures/synthetic';
import { parseJson, runCli, tempDir } from '../helpers';
import { assertKilled, killAtProgress, readRows, seededPoint } from './harness';

test('a training run killed at a seeded epoch is interrupted with its work kept, and usable', async (t) => {
  const dir = tempDir('kill-train', t);
  const data = await generateDataset(join(dir, 'data'), { seed: 4, n: 80, testN: 8, minSize: 40, maxSize: 56 });
  const lib = join(dir, 'lib');
  const cli = async (...args: string[]) => {
    const r = await runCli(['--library', lib, ...args]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await cli('import', data.imagesDir, '--labels', data.labelsCsv, '--test-dir', data.testDir, '--sample-submission', data.sampleSubmission);
  await cli('split', '--seed', '1');
  const train = ['--library', lib, 'train', '--model', 'scratch', '--input-size', '24', '--batch', '8', '--backend', 'wasm', '--seed', '1'];

  const epoch = seededPoint(21, 3, 5);
  const killed = await killAtProgress([...train, '--epochs', '40', '--patience', '40'], 1, (p) => (p.metrics?.['epoch'] ?? 0) >= epoch);
  assertKilled(killed, `train (killed in epoch ${epoch})`);

  const runs = parseJson<RunInfo[]>(await cli('runs', '--json'));
  assert.equal(runs.length, 1);
  const run = runs[0] as RunInfo;
  assert.equal(run.status, 'interrupted', 'read as interrupted at once, though nothing ran since the kill');
  assert.match(run.error ?? '', /interrupted/);
  const epochs = readRows<{ n: number }>(lib, `SELECT COUNT(*) AS n FROM epochs WHERE run_id = '${run.id}'`)[0]?.n ?? 0;
  assert.ok(epochs >= epoch - 1 && epochs < 40, `${epochs} epochs kept (killed in epoch ${epoch})`);
  assert.ok(run.best && run.best.epoch !== null && run.best.epoch <= epochs, 'the best checkpoint is kept');
  assert.ok(existsSync(join(lib, 'models', run.id, 'model.json')));
  assert.deepEqual(readRows(lib, "SELECT kind, status FROM jobs WHERE kind = 'train'"), [{ kind: 'train', status: 'interrupted' }]);

  const compared = parseJson<{ runs: CompareRow[] }>(await cli('compare', '--json'));
  assert.deepEqual(compared.runs.map((r) => [r.id, r.bestEpoch]), [[run.id, run.best.epoch]], 'compared on its checkpoint’s validation scores');

  const out = join(dir, 'submission.csv');
  await cli('submission', '--run', run.id, '--out', out);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 1 + 8, 'a row per sample image, scored with the checkpoint');

  const next = parseJson<RunInfo>(await cli('--json', ...train.slice(2), '--epochs', '3'));
  assert.equal(next.status, 'done');
  const ensemble = parseJson<{ runId: string; val: CompareRow | null }>(await cli('--json', 'ensemble', '--runs', `${run.id},${next.id}`));
  assert.ok(ensemble.val && ensemble.val.count > 0, 'the interrupted run is averaged with a finished one');
  const onTest = parseJson<{ runs: CompareRow[]; skipped: Array<{ id: string }> }>(await cli('compare', '--split', 'test', '--json'));
  assert.ok(onTest.runs.some((r) => r.id === run.id), 'scored on the test split with its checkpoint when asked');

  await cli('runs', 'delete', run.id);
  assert.ok(!existsSync(join(lib, 'models', run.id)));
  assert.deepEqual(readRows(lib, "SELECT id FROM runs WHERE status = 'running' UNION ALL SELECT id FROM jobs WHERE status = 'running'"), []);
});
