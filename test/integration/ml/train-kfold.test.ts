/**
 * `train --folds K` in-process on wasm with a tiny scratch CNN: folds stratified, twins together and the same
 * in any process; every labelled image scored out of fold exactly once; the run's score is that out-of-fold
 * AUC; its test predictions are the mean of the folds'; a cancelled run keeps its finished folds and names
 * the missing ones; compare labels the run by its K and the images its score rests on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { JobRunner } from '../../../electron/core/jobs/runner';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { batchTensor } from '../../../electron/core/ml/augment';
import { explainFiles } from '../../../electron/core/ml/explain/explain-files';
import { predictFiles } from '../../../electron/core/ml/inference/predict';
import { loadModel } from '../../../electron/core/ml/model-io';
import { decodeRgb } from '../../../electron/core/ml/pixels';
import { chooseBackend } from '../../../electron/core/ml/backend/train-backend';
import { getRun, runEpochs, runPredictions, trainingSet } from '../../../electron/core/ml/runs/store';
import { planFolds } from '../../../electron/core/ml/train/kfold';
import { startTraining } from '../../../electron/core/ml/train/start';
import type { RunMessage } from '../../../electron/core/ml/train/run';
import { compareRuns } from '../../../electron/core/compare/compare';
import { binaryMetrics } from '../../../electron/core/stats/metrics';
import { computeDoubts } from '../../../electron/core/doubts/compute';
import { doubtsInfo } from '../../../electron/core/doubts/store';
import { insertImages, makeFaces, splitByPosition, tempLibrary, type TempLibrary } from './train-helpers';

const TINY = { model: 'scratch', inputSize: 16, epochs: 2, batchSize: 8, optimizer: 'adam', lr: 0.003, augment: false, backend: 'wasm', seed: 4, folds: 3 } as const;

describe('K-fold training (scratch, wasm, in-process)', () => {
  let t: TempLibrary;
  let twins: [number, number];
  let fullRun: { id: string; messages: RunMessage[] } | null = null;

  before(async () => {
    t = tempLibrary('ms-kfold-');
    const faces = await makeFaces(join(t.dir, 'images'), 40, 13);
    const first = faces[0];
    if (!first) throw new Error('no faces');
    // a byte-identical twin in the other split: K-fold must put it in its original's fold
    const twin = join(t.dir, 'images', 'twin.png');
    copyFileSync(first.path, twin);
    const ids = insertImages(t.lib, join(t.dir, 'images'), [
      ...faces.map((f, i) => ({ ...f, split: splitByPosition(i) })),
      { path: twin, label: first.label, split: 'val' as const },
    ]);
    twins = [ids[0] ?? -1, ids[ids.length - 1] ?? -1];
  });
  after(() => t.cleanup());

  /** The out-of-fold rows stored when each checkpoint of a fold after the first was saved: what a kill then would leave. */
  const valIdsAtCheckpoints: Array<{ finished: number; ids: number[] }> = [];
  /** The training's job.progress reports, as the page and the CLI get them. */
  const reports: Array<{ phase: string; done: number; total: number }> = [];
  const train = async (cancelAfterFolds?: number): Promise<{ id: string; messages: RunMessage[] }> => {
    const messages: RunMessage[] = [];
    reports.length = 0;
    const runner = new JobRunner(t.lib.db, (e) => {
      const p = e.payload;
      if ('phase' in p && 'total' in p) reports.push({ phase: p.phase, done: p.done, total: p.total });
    });
    let finished = 0;
    const holder: { jobId: string | null } = { jobId: null };
    const start = startTraining(t.lib, runner, TINY, {
      inProcess: true,
      initBackend: chooseBackend,
      onMessage: (m) => {
        messages.push(m);
        if (m.type === 'checkpoint' && finished > 0) {
          const ids = (t.lib.db.prepare("SELECT image_id AS id FROM predictions WHERE run_id = ? AND split = 'val' ORDER BY image_id").all(start.runId) as Array<{ id: number }>).map((r) => r.id);
          valIdsAtCheckpoints.push({ finished, ids });
        }
        if (m.type === 'finished' && ++finished === cancelAfterFolds && holder.jobId !== null) runner.cancel(holder.jobId);
      },
    });
    holder.jobId = start.jobId;
    await runner.wait(start.jobId).catch(() => undefined);
    return { id: start.runId, messages };
  };

  test('folds are stratified, keep twins together and are the same from the same seed', () => {
    const set = trainingSet(t.lib.db);
    const a = planFolds(t.lib.db, set, 3, 4);
    const b = planFolds(t.lib.db, trainingSet(t.lib.db), 3, 4);
    assert.deepEqual([...a.fold], [...b.fold]);
    assert.equal(a.labelled.length, set.train.length + set.val.length);
    const foldOf = (id: number): number => a.fold[a.labelled.findIndex((it) => it.id === id)] ?? -1;
    assert.equal(foldOf(twins[0]), foldOf(twins[1]));
    for (let f = 0; f < 3; f++) {
      const members = a.labelled.filter((_, i) => a.fold[i] === f);
      const pos = members.filter((m) => m.label === 1).length;
      assert.ok(pos >= 4 && members.length - pos >= 4, `fold ${f}: ${pos} of ${members.length} positive`);
    }
  });

  test('a 3-fold run: out-of-fold scores cover every labelled image once, test is the folds\' mean', async () => {
    const { id, messages } = await train();
    fullRun = { id, messages };
    const run = getRun(t.lib.db, id);
    assert.equal(run.status, 'done', run.error ?? '');
    const set = trainingSet(t.lib.db);
    const labelled = [...set.train, ...set.val];
    const preds = runPredictions(t.lib.db, id);
    const oof = preds.filter((p) => p.split === 'val');
    assert.deepEqual(oof.map((p) => p.imageId).sort((x, y) => x - y), labelled.map((it) => it.id).sort((x, y) => x - y));
    const label = new Map(labelled.map((it) => [it.id, it.label]));
    const m = binaryMetrics(oof.map((p) => label.get(p.imageId) ?? -1), oof.map((p) => p.probability));
    assert.equal(run.best?.valAuc, m.auc);
    assert.equal(run.best?.epoch, null);
    assert.deepEqual(run.folds, { k: 3, finished: [1, 2, 3] });
    // the bar counts the whole run: each fold's training goes on from where the last one stopped, to a total
    // of three folds' steps (it restarted at 0 of one fold's, and its ETA read "1 s left" with folds to go)
    const training = reports.filter((r) => r.phase.endsWith(': train'));
    assert.deepEqual([...new Set(training.map((r) => r.phase))], ['fold 1/3: train', 'fold 2/3: train', 'fold 3/3: train']);
    training.slice(1).forEach((r, i) => assert.ok(r.done >= (training[i]?.done ?? 0), `${r.phase} ${r.done}/${r.total} after ${training[i]?.done}`));
    const last = training.at(-1);
    assert.ok(last !== undefined && last.total > 0 && last.total % 3 === 0, JSON.stringify(last));
    assert.equal(last.done, last.total);
    // each epoch says its fold (numbered on across folds): the curves are drawn one line per fold
    const epochs = runEpochs(t.lib.db, id);
    assert.deepEqual(epochs.map((e) => [e.epoch, e.fold]), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 3], [6, 3]]);
    // each fold's final predictions: the run's test rows are their mean
    const foldTests = messages.flatMap((msg) => (msg.type === 'predictions' ? [msg.rows.filter((r) => r.split === 'test')] : []));
    assert.equal(foldTests.length, 3);
    for (const p of preds.filter((q) => q.split === 'test')) {
      const mean = foldTests.reduce((s, rows) => s + (rows.find((r) => r.imageId === p.imageId)?.probability ?? Number.NaN), 0) / 3;
      assert.ok(Math.abs(p.probability - mean) < 1e-9, `image ${p.imageId}: ${p.probability} vs mean ${mean}`);
    }
    assert.equal(preds.filter((q) => q.split === 'test').length, set.test.length);
    for (let f = 0; f < 3; f++) assert.ok(existsSync(join(t.lib.modelsDir, id, `fold-${f}`, 'model.json')), `fold ${f} checkpoint`);
    // predict on files averages the three checkpoints: the stored test probabilities again
    const tests = preds.filter((q) => q.split === 'test');
    const paths = tests.map((q) => join(t.dir, 'images', q.fileName));
    const again = await predictFiles(t.lib, id, paths);
    again.forEach((a, i) => assert.ok(Math.abs((a.probability ?? Number.NaN) - (tests[i]?.probability ?? -1)) < 1e-4, `${a.file}: ${a.probability}`));
    const row = compareRuns(t.lib.db, 'val').rows.find((r) => r.id === id);
    assert.equal(row?.folds, 3);
    assert.equal(row?.count, labelled.length);
    assert.deepEqual(row?.missingFolds, []);
    // while a later fold trained, its checkpoints stored no rows: a kill then leaves the finished folds' alone
    const plan = planFolds(t.lib.db, set, 3, 4);
    assert.ok(valIdsAtCheckpoints.length > 0, 'later folds saved checkpoints');
    for (const c of valIdsAtCheckpoints) {
      const finishedIds = plan.labelled.filter((_, i) => (plan.fold[i] ?? 9) < c.finished).map((it) => it.id).sort((x, y) => x - y);
      assert.deepEqual(c.ids, finishedIds, `after ${c.finished} finished folds`);
    }
  });

  test('doubts from a K-fold run use only probabilities of models that never saw the image', async () => {
    assert.ok(fullRun, 'the 3-fold run of the test before');
    const { id, messages } = fullRun;
    const plan = planFolds(t.lib.db, trainingSet(t.lib.db), 3, 4);
    // which fold sent each out-of-fold row: the folds run in order, each ends with one 'finished'
    let fold = 0;
    const scoredBy = new Map<number, number>();
    for (const m of messages) {
      if (m.type === 'finished') fold++;
      if (m.type === 'checkpoint' || m.type === 'predictions') for (const r of m.rows) if (r.split === 'val') scoredBy.set(r.imageId, fold);
    }
    plan.labelled.forEach((it, i) => assert.equal(scoredBy.get(it.id), plan.fold[i], `image ${it.id} scored by the fold that held it out`));
    const report = await computeDoubts(t.lib, { run: id, folds: 5, seed: 1 });
    assert.equal(report.fromRun, id);
    assert.equal(report.backbone, null);
    const stored = new Map(runPredictions(t.lib.db, id).filter((p) => p.split === 'val' || p.split === 'test').map((p) => [p.imageId, p.probability]));
    assert.equal(report.images, stored.size);
    for (const d of report.doubts) {
      const p1 = stored.get(d.imageId);
      assert.ok(p1 !== undefined, `doubt ${d.imageId} has an unseen probability`);
      assert.ok(Math.abs(d.probability - (d.given === '1' ? p1 : 1 - p1)) < 1e-9, `doubt ${d.imageId}: p(given) ${d.probability}`);
    }
    assert.equal(doubtsInfo(t.lib.db)?.runId, id);
    assert.deepEqual(report.doubts.map((d) => d.expectedPrecision), report.doubts.map(() => null), 'not calibrated');
    // a scratch run has no backbone whose heads could stand in for its models in a calibration: refused, and
    // the doubts just stored stay
    await assert.rejects(computeDoubts(t.lib, { run: id, folds: 5, seed: 1, calibrate: true }), /cannot calibrate the doubts of run .+: .*scratch model, which has no pretrained base/);
    assert.equal(doubtsInfo(t.lib.db)?.doubts, report.doubts.length);
  });

  test("Grad-CAM of a K-fold run: a labelled image through the fold that held it out, any other through the folds' mean", async () => {
    assert.ok(fullRun, 'the 3-fold run of the test before');
    const { id } = fullRun;
    const set = trainingSet(t.lib.db);
    const plan = planFolds(t.lib.db, set, 3, 4);
    const info = { inputSize: TINY.inputSize, preprocessing: 'unit' as const };
    const foldP = async (f: number, path: string): Promise<number> => {
      const model = await loadModel(join(t.lib.modelsDir, id, `fold-${f}`));
      try {
        const px = await decodeRgb(path, info.inputSize, 'fill');
        return (model.predict(batchTensor([px], [0], info.inputSize, info.preprocessing)) as tf.Tensor).dataSync()[0] ?? Number.NaN;
      } finally {
        model.dispose();
      }
    };
    const pathOf = (imageId: number): string => (t.lib.db.prepare('SELECT path FROM images WHERE id = ?').get(imageId) as { path: string }).path;
    // one labelled image of each fold: its map and probability are its own fold's, not another's
    for (let f = 0; f < 3; f++) {
      const item = plan.labelled.find((_, i) => plan.fold[i] === f);
      assert.ok(item);
      const [r] = await explainFiles(t.lib, id, [pathOf(item.id)]);
      assert.ok(r);
      assert.match(r.through ?? '', new RegExp(`^fold ${f + 1} of 3, which held this image out and never trained on it$`));
      const own = await foldP(f, pathOf(item.id));
      assert.ok(Math.abs(r.probability - own) < 1e-4, `fold ${f + 1}: explain ${r.probability} vs its fold ${own}`);
      const other = await foldP((f + 1) % 3, pathOf(item.id));
      assert.ok(Math.abs(own - other) > 1e-4, 'the folds differ on the image, so the check above can fail');
    }
    // a test image (no fold held it out, none trained on it): the three folds' mean, as predict scores it
    const test0 = set.test[0];
    assert.ok(test0);
    const [m] = await explainFiles(t.lib, id, [pathOf(test0.id)]);
    assert.ok(m);
    assert.match(m.through ?? '', /^the mean of 3 folds' maps: the run never trained on this image$/);
    const mean = ((await foldP(0, pathOf(test0.id))) + (await foldP(1, pathOf(test0.id))) + (await foldP(2, pathOf(test0.id)))) / 3;
    assert.ok(Math.abs(m.probability - mean) < 1e-4, `explain ${m.probability} vs the folds' mean ${mean}`);
    assert.ok((await sharp(m.png).metadata()).format === 'png');
  });

  test('a run cancelled after its first fold keeps it and says which folds are missing', async () => {
    const { id } = await train(1);
    const run = getRun(t.lib.db, id);
    assert.equal(run.status, 'cancelled');
    assert.match(run.error ?? '', /folds 2, 3 of 3 missing/);
    assert.deepEqual(run.folds, { k: 3, finished: [1] });
    assert.ok(run.best !== null && run.best.valAuc !== undefined, 'the finished fold is scored');
    const plan = planFolds(t.lib.db, trainingSet(t.lib.db), 3, 4);
    const fold0 = plan.labelled.filter((_, i) => plan.fold[i] === 0).map((it) => it.id).sort((x, y) => x - y);
    const oof = runPredictions(t.lib.db, id).filter((p) => p.split === 'val').map((p) => p.imageId).sort((x, y) => x - y);
    assert.deepEqual(oof, fold0);
    const row = compareRuns(t.lib.db, 'val').rows.find((r) => r.id === id);
    assert.deepEqual(row?.missingFolds, [2, 3]);
    assert.equal(row?.count, fold0.length);
  });
});
