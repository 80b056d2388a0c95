/**
 * The same seed gives the same model whatever order the rows were inserted in: the same generated files are
 * imported into two libraries, one file at a time and many at once (import writes rows in the order its
 * workers finish, so the row ids differ), split and trained with the same seeds in a worker thread as the
 * CLI does (augmentation and dropout on). Every prediction must be bit for bit the same, and so must what
 * else a seed drives over the rows: the comparison's bootstrap intervals and the doubts' folds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRuns } from '../../electron/core/compare/compare';
import { importDataset } from '../../electron/core/dataset/import';
import { splitLibrary } from '../../electron/core/dataset/split';
import { doubtsFolds } from '../../electron/core/doubts/compute';
import { JobRunner } from '../../electron/core/jobs/runner';
import { openLibrary, type Library } from '../../electron/core/library';
import { getRun, runEpochs, runPredictions, trainingSet } from '../../electron/core/ml/runs/store';
import { startTraining } from '../../electron/core/ml/train/start';
import { generateDataset, type DatasetManifest } from '../fixtures/synthetic';

const SEED = 5;

async function train(lib: Library): Promise<string> {
  const runner = new JobRunner(lib.db, () => {});
  const start = startTraining(lib, runner, { model: 'scratch', inputSize: 24, epochs: 2, batchSize: 16, augment: true, backend: 'wasm', seed: SEED });
  await runner.wait(start.jobId);
  const run = getRun(lib.db, start.runId);
  assert.equal(run.status, 'done', run.error ?? '');
  return run.id;
}

/** Probabilities keyed by the file's path inside the dataset (row ids differ between the libraries). */
function predictionsByFile(lib: Library, runId: string): Map<string, number> {
  const rel = new Map((lib.db.prepare('SELECT id, rel_path FROM images').all() as Array<{ id: number; rel_path: string }>).map((r) => [r.id, r.rel_path]));
  return new Map(runPredictions(lib.db, runId).map((p) => [`${p.split}:${rel.get(p.imageId) ?? '?'}`, p.probability]));
}

describe('determinism: the same seed on the same files trains the same model', () => {
  let dir: string;
  let data: DatasetManifest;
  const libs: Library[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mask-studio-determinism-'));
    // sizes and formats vary, so under concurrency the small files overtake the big ones
    data = await generateDataset(join(dir, 'data'), { seed: 9, n: 160, testN: 8, minSize: 48, maxSize: 320, pngShare: 0.3 });
    const input = { dir: data.imagesDir, labels: data.labelsCsv, testDir: data.testDir, sampleSubmission: data.sampleSubmission };
    for (const [name, concurrency] of [['one-at-a-time', 1], ['many-at-once', 16]] as const) {
      const lib = openLibrary(join(dir, name), { create: true });
      libs.push(lib);
      await importDataset(lib.db, input, { concurrency });
      splitLibrary(lib.db, { seed: 1, val: 0.25, test: 0.1 });
    }
  });

  after(() => {
    for (const lib of libs) lib.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the two imports inserted the rows in different orders (what the rest must not depend on)', () => {
    const order = (lib: Library): string[] => (lib.db.prepare('SELECT sha256 FROM images ORDER BY id').all() as Array<{ sha256: string }>).map((r) => r.sha256);
    const [a, b] = libs as [Library, Library];
    assert.deepEqual([...order(a)].sort(), [...order(b)].sort(), 'the same files');
    assert.notDeepEqual(order(a), order(b), 'a concurrent import finishes files out of order');
  });

  test('training set, data hash, epochs and every prediction are bit-identical; so are the bootstrap intervals', async () => {
    const [a, b] = libs as [Library, Library];
    const setA = trainingSet(a.db);
    const setB = trainingSet(b.db);
    assert.equal(setA.dataHash, setB.dataHash);
    for (const split of ['train', 'val', 'test', 'submission'] as const) {
      assert.deepEqual(setA[split].map((i) => i.sha256), setB[split].map((i) => i.sha256), `${split}: the same rows in the same order`);
    }
    const runA = await train(a);
    const runB = await train(b);
    const epochs = (lib: Library, id: string) => runEpochs(lib.db, id).map((e) => [e.epoch, e.loss, e.acc, e.auc, e.valLoss, e.valAuc]);
    assert.deepEqual(epochs(b, runB), epochs(a, runA));
    const pa = predictionsByFile(a, runA);
    const pb = predictionsByFile(b, runB);
    assert.ok(pa.size > 40, `${pa.size} predictions`);
    assert.deepEqual([...pb].sort(), [...pa].sort());
    const ci = (lib: Library) => compareRuns(lib.db, 'val').rows.map((r) => [r.auc, r.aucCi, r.logLoss, r.logLossCi]);
    assert.deepEqual(ci(b), ci(a));
  });

  test("the doubts' folds follow the images, not the row ids", () => {
    const folds = (lib: Library): Array<[string, number]> => {
      const f = doubtsFolds(lib.db, 5, 3);
      return f.rows.map((r, i) => [r.sha256, f.folds[i] ?? -1]);
    };
    const [a, b] = libs as [Library, Library];
    const fa = folds(a);
    assert.equal(new Set(fa.map(([, f]) => f)).size, 5);
    assert.deepEqual(folds(b), fa);
  });
});
