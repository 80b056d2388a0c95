/**
 * `train --faces` in-process on wasm with a tiny scratch CNN on synthetic portraits (BlazeFace finds their
 * faces): the run's stored rows are the mean of the whole image's probability and its highest face's, scored
 * by the checkpoint that scored the image (a K-fold run's held-out fold, never one that trained on it); predict
 * gives them back, --no-faces gives the whole images'; compare and the run say so; a second scoring changes
 * nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainInput } from '../../../shared/contract';
import { comparisonText } from '../../../electron/cli/commands/compare';
import { compareRuns } from '../../../electron/core/compare/compare';
import { createEnsemble } from '../../../electron/core/compare/ensemble';
import { FaceFinder } from '../../../electron/core/faces/crops';
import { withFaceScore } from '../../../electron/core/faces/combine';
import { faceScores } from '../../../electron/core/ml/inference/faces';
import { predictRun } from '../../../electron/core/ml/inference/predict';
import { openPredictor } from '../../../electron/core/ml/inference/predictor';
import { withTta } from '../../../electron/core/ml/inference/tta';
import { foldDir, readCheckpointInfo, runDir } from '../../../electron/core/ml/runs/checkpoint';
import { recordedFaces } from '../../../electron/core/ml/runs/faces-record';
import { getRun, listRuns, trainingSet } from '../../../electron/core/ml/runs/store';
import { planFolds } from '../../../electron/core/ml/train/kfold';
import { scoreRunFaces } from '../../../electron/core/ml/train/run-faces';
import { binaryMetrics } from '../../../electron/core/stats/metrics';
import { assertNear, portraitLibrary, storedRows, trainInProcess, type TempLibrary } from './train-helpers';

const TINY = { model: 'scratch', inputSize: 16, epochs: 2, batchSize: 8, optimizer: 'adam', lr: 0.003, augment: false, backend: 'wasm', seed: 4, tta: 'none' } as const;

describe('train --faces (scratch, wasm, in-process, synthetic portraits)', () => {
  let t: TempLibrary;

  before(async () => {
    t = await portraitLibrary('ms-faces-', 46, 23);
  });
  after(() => t.cleanup());

  const train = async (input: TrainInput): Promise<string> => {
    const id = await trainInProcess(t.lib, input);
    assert.equal(getRun(t.lib.db, id).error, null, 'the faces were scored');
    return id;
  };
  const stored = (id: string, split: string): ReturnType<typeof storedRows> => storedRows(t, id, split);
  const near = assertNear;

  test('a single run: stored rows are predict --faces, the whole image\'s with --no-faces differ, the score is theirs, compare says faces', async () => {
    // while its faces are scored the run reads as running (compare and evaluate wait for the scores it keeps)
    const during: Array<[string, string]> = [];
    const id = await trainInProcess(t.lib, { ...TINY, faces: true }, (e) => {
      if (e.name !== 'job.progress' || !('phase' in e.payload) || !/face/.test(e.payload.phase)) return;
      for (const r of listRuns(t.lib.db)) during.push([r.id, r.status]);
    });
    assert.equal(getRun(t.lib.db, id).error, null, 'the faces were scored');
    const mine = during.filter(([r]) => r === id).map(([, s]) => s);
    assert.ok(mine.length > 0, 'face scoring reported progress');
    assert.deepEqual([...new Set(mine)], ['running']);
    assert.equal(getRun(t.lib.db, id).status, 'done');
    const faces = recordedFaces(getRun(t.lib.db, id).config);
    assert.ok(faces !== null, 'facesScored recorded');
    assert.equal(faces.rows, 46 - 40 + stored(id, 'val').length + stored(id, 'test').length);
    assert.ok(faces.images >= faces.rows / 2, `faces found in ${faces.images} of ${faces.rows} images`);
    const rows = [...stored(id, 'val'), ...stored(id, 'test'), ...stored(id, 'submission')];
    const files = rows.map((r) => r.file);
    const withFaces = await predictRun(t.lib, id, files, { engine: 'tfjs' });
    assert.equal(withFaces.faces, true, "predict scores faces by default on a run scored with them");
    near(withFaces.predictions.map((p) => p.probability ?? Number.NaN), rows.map((r) => r.probability), 'predict (faces) vs stored');
    const whole = (await predictRun(t.lib, id, files, { engine: 'tfjs', faces: false })).predictions.map((p) => p.probability ?? Number.NaN);
    assert.ok(whole.some((p, i) => Math.abs(p - (rows[i]?.probability ?? 0)) > 1e-4), 'the whole images alone must differ, else this test proves nothing');
    const val = stored(id, 'val');
    const m = binaryMetrics(val.map((v) => (v.label === '1' ? 1 : 0)), val.map((v) => v.probability));
    assert.ok(Math.abs((getRun(t.lib.db, id).best?.valAuc ?? -1) - (m.auc ?? -2)) < 1e-9, 'the run\'s score is its face-scored val rows\'');
    const cmp = compareRuns(t.lib.db, 'val');
    assert.equal(cmp.rows.find((r) => r.id === id)?.faces, true);
    assert.match(comparisonText(cmp).split('\n').find((l) => l.includes(id)) ?? '', /none \+ faces/);
    // a second scoring changes nothing
    const again = await scoreRunFaces(t.lib, id);
    assert.deepEqual(again, faces);
    assert.deepEqual([...stored(id, 'val'), ...stored(id, 'test'), ...stored(id, 'submission')], rows);
  });

  test('a 2-fold run: each out-of-fold row\'s faces are scored by the fold that held the image out, not the other', async () => {
    const input = { ...TINY, seed: 6, folds: 2 } as const;
    const plain = await train(input);
    const id = await train({ ...input, faces: true });
    const run = getRun(t.lib.db, id);
    const plan = planFolds(t.lib.db, trainingSet(t.lib.db), 2, 6);
    const foldOf = new Map(plan.labelled.map((it, i) => [it.id, plan.fold[i] ?? -1]));
    const whole = new Map(stored(plain, 'val').map((r) => [r.imageId, r.probability]));
    const val = stored(id, 'val');
    const paths = new Map((t.lib.db.prepare('SELECT id, path, sha256 FROM images').all() as Array<{ id: number; path: string; sha256: string }>).map((r) => [r.id, r]));
    const byFold = async (f: number): Promise<Float32Array[]> => {
      const dir = foldDir(runDir(t.lib, run.id), f);
      const p = await openPredictor(dir, await readCheckpointInfo(dir, run.id), run.id, { engine: 'tfjs' });
      const finder = new FaceFinder(t.lib.cacheDir);
      try {
        const sources = val.map((v) => paths.get(v.imageId) ?? { path: '', sha256: '' });
        return (await faceScores(finder, sources, TINY.inputSize, withTta('none', TINY.inputSize, (imgs) => p.run(imgs)))).faces;
      } finally {
        finder.dispose();
        await p.close();
      }
    };
    const [f0, f1] = [await byFold(0), await byFold(1)];
    let differs = 0;
    val.forEach((v, i) => {
      const f = foldOf.get(v.imageId);
      const own = f === 0 ? f0[i] : f1[i];
      const other = f === 0 ? f1[i] : f0[i];
      const w = whole.get(v.imageId) ?? Number.NaN;
      near([v.probability], [withFaceScore(w, own ?? [])], `val image ${v.imageId} (fold ${f})`);
      if (Math.abs(v.probability - withFaceScore(w, other ?? [])) > 1e-4) differs++;
    });
    assert.ok(differs > 0, 'the other fold scores some face differently, else this test proves nothing');
  });

  test('an ensemble scored faces when all its members did, not when one did not', () => {
    const runs = compareRuns(t.lib.db, 'val').rows.filter((r) => r.kind === 'trained');
    const withFaces = runs.filter((r) => r.faces).map((r) => r.id);
    const without = runs.filter((r) => !r.faces).map((r) => r.id);
    assert.ok(withFaces.length >= 2 && without.length >= 1, `${withFaces.length} runs with faces, ${without.length} without`);
    const all = createEnsemble(t.lib.db, withFaces.slice(0, 2));
    const mixed = createEnsemble(t.lib.db, [withFaces[0] ?? '', without[0] ?? '']);
    const rows = compareRuns(t.lib.db, 'val').rows;
    assert.equal(rows.find((r) => r.id === all)?.faces, true);
    assert.equal(rows.find((r) => r.id === mixed)?.faces, false);
  });
});
