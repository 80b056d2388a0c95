/**
 * Calibrated doubts of a K-fold transfer run: the run's models cannot be retrained per trial, so its
 * backbone's logistic heads stand in (method 'backbone'), and the doubts, their ranks and p(given) are still
 * the run's own. Doubts of an ensemble of K-fold runs are confident learning on the mean of their unseen
 * probabilities; an ensemble with a single-split member is refused. Tiny: 60 synthetic faces, nsfwjs
 * InceptionV3 at 75 px, 3 folds of 2 epochs, and scratch CNNs of one epoch at 48 px.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeDoubts, doubtsFolds } from '../../../electron/core/doubts/compute';
import { confidentLearning } from '../../../electron/core/doubts/confident';
import { unseenProbabilities } from '../../../electron/core/doubts/from-run';
import { createEnsemble } from '../../../electron/core/compare/ensemble';
import { doubtsInfo } from '../../../electron/core/doubts/store';
import { findNsfwjs } from '../../../electron/core/ml/weights';
import { syntheticLibrary, trainInProcess, type TempLibrary } from '../ml/train-helpers';

const skip = findNsfwjs() ? false : 'the nsfwjs package is not installed';
let t: TempLibrary;
let runId: string;
let scratchFolds: string;
let scratchSingle: string;

before(async () => {
  if (skip) return;
  t = await syntheticLibrary('ms-doubts-run-', { seed: 5, n: 60, testN: 0, minSize: 48, maxSize: 64 }, { seed: 1, val: 0.2, test: 0.1 });
  runId = await trainInProcess(t.lib, { model: 'inception_v3', weights: 'nsfwjs', inputSize: 75, epochs: 2, folds: 3, tta: 'none', backend: 'wasm', seed: 2 });
  scratchFolds = await trainInProcess(t.lib, { model: 'scratch', inputSize: 48, epochs: 1, folds: 3, tta: 'none', seed: 3 });
  scratchSingle = await trainInProcess(t.lib, { model: 'scratch', inputSize: 48, epochs: 1, tta: 'none', seed: 3 });
});
after(() => t?.cleanup());

test("a K-fold transfer run's doubts are calibrated with its backbone's heads standing in", { skip }, async () => {
  const plain = await computeDoubts(t.lib, { run: runId, folds: 5, seed: 1 });
  const r = await computeDoubts(t.lib, { run: runId, folds: 5, seed: 1, calibrate: true, trials: 2, tta: 'none' });
  assert.equal(r.fromRun, runId);
  // the doubts are the run's own, calibrated or not
  const strip = (rows: typeof r.doubts): unknown[] => rows.map((d) => [d.imageId, d.rank, d.probability]);
  assert.deepEqual(strip(r.doubts), strip(plain.doubts));
  assert.ok(plain.doubts.every((d) => d.expectedPrecision === null));
  const c = r.calibration;
  assert.ok(c);
  assert.deepEqual([c.method, c.trials, c.backbone], ['backbone', 2, 'inception_v3 (nsfwjs weights, 75 px)']);
  for (const d of r.doubts) assert.ok(d.expectedPrecision !== null && d.expectedPrecision >= 0 && d.expectedPrecision <= 1, `rank ${d.rank}: ${d.expectedPrecision}`);
  const info = doubtsInfo(t.lib.db);
  assert.deepEqual([info?.runId, info?.calibration?.method, info?.tta], [runId, 'backbone', null]);
});

test('doubts of an ensemble of K-fold runs are confident learning on the mean of their unseen probabilities', { skip }, async () => {
  // the scratch member first: calibration still stands in the transfer member's backbone
  const ensemble = createEnsemble(t.lib.db, [scratchFolds, runId]);
  const r = await computeDoubts(t.lib, { run: ensemble, folds: 5, seed: 1, calibrate: true, trials: 2, tta: 'none' });
  assert.equal(r.fromRun, ensemble);
  assert.deepEqual(r.fromMembers, [scratchFolds, runId]);
  assert.equal(r.calibration?.backbone, 'inception_v3 (nsfwjs weights, 75 px)');
  // the same list from the members' own rows, averaged here
  const a = unseenProbabilities(t.lib, scratchFolds);
  const b = unseenProbabilities(t.lib, runId);
  const f = doubtsFolds(t.lib.db, 2, 1);
  const kept = f.rows.flatMap((row, i) => {
    const pa = a.get(row.id);
    const pb = b.get(row.id);
    return pa === undefined || pb === undefined ? [] : [{ id: row.id, label: f.labels[i] ?? 0, p: (pa + pb) / 2 }];
  });
  assert.equal(r.images, kept.length);
  const cl = confidentLearning(kept.map((k) => k.label), kept.map((k) => [1 - k.p, k.p]));
  assert.ok(cl.issues.length > 0, 'one epoch at 48 px doubts some labels');
  assert.deepEqual(r.doubts.map((d) => d.imageId), cl.issues.map((i) => kept[i.index]?.id));
  for (const d of r.doubts) {
    const k = kept.find((x) => x.id === d.imageId);
    assert.ok(k);
    assert.ok(Math.abs(d.probability - (k.label === 1 ? k.p : 1 - k.p)) < 1e-9, `image ${d.imageId}: p(given) ${d.probability}`);
  }
  const info = doubtsInfo(t.lib.db);
  assert.deepEqual([info?.runId, info?.model, info?.weights], [ensemble, 'ensemble of scratch + inception_v3', 'ensemble']);
});

test('an ensemble with a single-split member is refused, naming it', { skip }, async () => {
  const ensemble = createEnsemble(t.lib.db, [runId, scratchSingle]);
  await assert.rejects(computeDoubts(t.lib, { run: ensemble, folds: 5, seed: 1 }), (err: Error) => {
    assert.match(err.message, new RegExp(`${scratchSingle} is a single-split run: it scored only the validation split`));
    assert.match(err.message, /--folds 5/);
    return true;
  });
});
