/**
 * `train --tta` in-process on wasm with a tiny scratch CNN: the mode is recorded on the run and reaches
 * compare (the row and the CLI's table); the run's stored probabilities are the TTA ones (predict with the
 * same mode on the same files gives them back, without TTA it does not), its recorded score is theirs, and
 * a K-fold run's test rows are the fold ensemble's TTA probabilities.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TrainInput } from '../../../shared/contract';
import { comparisonText } from '../../../electron/cli/commands/compare';
import { compareRuns } from '../../../electron/core/compare/compare';
import { exportRunModel } from '../../../electron/core/ml/inference/export-model';
import { predictRun } from '../../../electron/core/ml/inference/predict';
import { writeSubmission } from '../../../electron/core/ml/inference/submission';
import { predictOnnx } from '../../../electron/core/ml/onnx/classifier';
import { rgbPixels } from '../../../electron/core/ml/pixels';
import { getRun } from '../../../electron/core/ml/runs/store';
import { DEFAULT_TTA } from '../../../electron/core/ml/train/config';
import { binaryMetrics } from '../../../electron/core/stats/metrics';
import { assertNear, portraitLibrary, storedRows, trainInProcess, type TempLibrary } from './train-helpers';

const TINY = { model: 'scratch', inputSize: 16, epochs: 2, batchSize: 8, optimizer: 'adam', lr: 0.003, augment: false, backend: 'wasm', seed: 4 } as const;

describe('TTA on a training run (scratch, wasm, in-process)', () => {
  let t: TempLibrary;
  let flipRun = '';

  before(async () => {
    t = await portraitLibrary('ms-tta-', 46, 21);
  });
  after(() => t.cleanup());

  const train = async (input: TrainInput): Promise<string> => trainInProcess(t.lib, input);
  const stored = (id: string, split: string): ReturnType<typeof storedRows> => storedRows(t, id, split);
  const near = assertNear;

  test('--tta flip is recorded on the run, its stored probabilities are the flip ones, and compare shows it', async () => {
    const id = await train({ ...TINY, tta: 'flip' });
    flipRun = id;
    assert.equal(getRun(t.lib.db, id).config['tta'], 'flip');
    const val = stored(id, 'val');
    const files = val.map((v) => v.file);
    const own = (await predictRun(t.lib, id, files, { engine: 'tfjs' })).predictions.map((p) => p.probability ?? Number.NaN);
    const flip = (await predictRun(t.lib, id, files, { engine: 'tfjs', tta: 'flip' })).predictions.map((p) => p.probability ?? Number.NaN);
    const none = await predictRun(t.lib, id, files, { engine: 'tfjs', tta: 'none' });
    assert.equal(none.tta, 'none');
    near(own, val.map((v) => v.probability), 'predict (the run\'s own mode) vs stored val');
    near(flip, own, 'predict --tta flip vs the run\'s own');
    const plain = none.predictions.map((p) => p.probability ?? Number.NaN);
    assert.ok(plain.some((p, i) => Math.abs(p - (own[i] ?? 0)) > 1e-4), 'without TTA the probabilities must differ, else this test proves nothing');
    // the run's recorded score is the score of its stored (TTA) val probabilities
    const m = binaryMetrics(val.map((v) => (v.label === '1' ? 1 : 0)), val.map((v) => v.probability));
    assert.ok(Math.abs((getRun(t.lib.db, id).best?.valAuc ?? -1) - (m.auc ?? -2)) < 1e-9);
    const cmp = compareRuns(t.lib.db, 'val');
    assert.equal(cmp.rows.find((r) => r.id === id)?.tta, 'flip');
    const line = comparisonText(cmp).split('\n').find((l) => l.includes(id)) ?? '';
    assert.match(line, /\bflip\b/);
  });

  test('export-model: ONNX carries flip inside the graph (its probabilities are predict --tta flip), the card says which views', async () => {
    assert.ok(flipRun !== '', 'the flip run of the first test');
    const val = stored(flipRun, 'val');
    const onnx = await exportRunModel(t.lib, flipRun, 'onnx', join(t.dir, 'export-flip'));
    assert.deepEqual(onnx.card.tta, { mode: 'flip', inGraph: true, views: 'the mean over the image; its horizontal mirror' });
    const pixels = await Promise.all(val.map((v) => rgbPixels(v.file, TINY.inputSize, 'fill')));
    const { probabilities } = await predictOnnx(join(onnx.dir, 'model.onnx'), pixels, TINY.inputSize);
    near(Array.from(probabilities), val.map((v) => v.probability), 'exported ONNX vs stored val');
    const plain = await exportRunModel(t.lib, flipRun, 'onnx', join(t.dir, 'export-none'), 'none');
    assert.equal(plain.card.tta.inGraph, false);
    const p0 = await predictOnnx(join(plain.dir, 'model.onnx'), pixels, TINY.inputSize);
    assert.ok(Array.from(p0.probabilities).some((p, i) => Math.abs(p - (probabilities[i] ?? 0)) > 1e-4), 'the plain graph must differ');
    const tfjs = await exportRunModel(t.lib, flipRun, 'tfjs', join(t.dir, 'export-tfjs'));
    assert.deepEqual(tfjs.card.tta, { mode: 'flip', inGraph: false, views: 'the mean over the image; its horizontal mirror' });
  });

  test("submission: the run's own TTA by default (its stored rows); another mode scores the images again, leaving the run's rows as they were", async () => {
    assert.ok(flipRun !== '', 'the flip run of the first test');
    const sub = stored(flipRun, 'submission');
    assert.equal(sub.length, 6);
    const read = (file: string): Map<string, number> =>
      new Map(readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => { const [img, p] = l.split(','); return [img ?? '', Number(p)]; }));
    const own = await writeSubmission(t.lib, flipRun, join(t.dir, 'sub-flip.csv'));
    assert.equal(own.tta, 'flip');
    const ownRows = read(own.out);
    near(sub.map((s) => ownRows.get(basename(s.file)) ?? Number.NaN), sub.map((s) => s.probability), 'CSV (own TTA) vs stored');
    const none = await writeSubmission(t.lib, flipRun, join(t.dir, 'sub-none.csv'), { tta: 'none' });
    assert.equal(none.tta, 'none');
    const noneRows = read(none.out);
    const expected = (await predictRun(t.lib, flipRun, sub.map((s) => s.file), { engine: 'tfjs', tta: 'none' })).predictions.map((p) => p.probability ?? Number.NaN);
    near(sub.map((s) => noneRows.get(basename(s.file)) ?? Number.NaN), expected, 'CSV (--tta none) vs predict --tta none');
    assert.deepEqual(stored(flipRun, 'submission'), sub);
  });

  test('a run without --tta records the default, and compare says so', async () => {
    const id = await train({ ...TINY, seed: 5 });
    assert.equal(getRun(t.lib.db, id).config['tta'], DEFAULT_TTA);
    assert.equal(compareRuns(t.lib.db, 'val').rows.find((r) => r.id === id)?.tta, DEFAULT_TTA);
  });

  test("a 2-fold run with --tta flip: its test rows are the folds' mean of the flip probabilities", async () => {
    const id = await train({ ...TINY, seed: 6, folds: 2, tta: 'flip' });
    const test = stored(id, 'test');
    const again = await predictRun(t.lib, id, test.map((v) => v.file), { engine: 'tfjs' });
    assert.equal(again.tta, 'flip');
    near(again.predictions.map((p) => p.probability ?? Number.NaN), test.map((v) => v.probability), 'predict vs stored test');
    assert.equal(compareRuns(t.lib.db, 'test').rows.find((r) => r.id === id)?.tta, 'flip');
  });
});
