/** doubts.info: what the Review queue shows behind every doubt (model, out-of-fold AUC, how many doubts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { doubtsInfo, listDoubts, saveDoubts } from '../../../electron/core/doubts/store';
import { openLibrary } from '../../../electron/core/library';
import { insertImages } from '../../integration/ml/train-helpers';
import { tempDir } from '../../helpers';

test('doubts.info is null before a computation, then the last one with its doubt count', (t) => {
  const dir = tempDir('doubts-info', t);
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  t.after(() => lib.close());
  assert.equal(doubtsInfo(lib.db), null);
  const files = ['a.jpg', 'b.jpg', 'c.jpg'].map((n) => {
    const p = join(dir, n);
    writeFileSync(p, n);
    return p;
  });
  const ids = insertImages(lib, dir, files.map((path) => ({ path, label: '1', split: 'train' })));
  const record = { model: 'inception_v3', weights: 'nsfwjs', inputSize: 224, runId: null, folds: 5, seed: 1, images: 3, thresholds: { '0': 0.7, '1': 0.8 }, oofAuc: 0.91, l2: 1, seconds: 2, calibration: null, tta: 'flip-crops' as const, faces: false };
  const doubt = (i: number, rank: number) => ({ imageId: ids[i] ?? 0, sha256: 'x', given: '1', suggested: '0', probability: 0.1 * rank, rank, expectedPrecision: null });
  saveDoubts(lib.db, record, [doubt(0, 1), doubt(1, 2)]);
  const info = doubtsInfo(lib.db);
  assert.ok(info);
  assert.deepEqual(
    { model: info.model, weights: info.weights, inputSize: info.inputSize, runId: info.runId, folds: info.folds, images: info.images, oofAuc: info.oofAuc, doubts: info.doubts },
    { model: 'inception_v3', weights: 'nsfwjs', inputSize: 224, runId: null, folds: 5, images: 3, oofAuc: 0.91, doubts: 2 },
  );
  // a new computation replaces the last
  saveDoubts(lib.db, { ...record, oofAuc: null, runId: 'run-1' }, [doubt(2, 1)]);
  assert.deepEqual([doubtsInfo(lib.db)?.oofAuc, doubtsInfo(lib.db)?.runId, doubtsInfo(lib.db)?.doubts], [null, 'run-1', 1]);
  assert.deepEqual([doubtsInfo(lib.db)?.calibration, doubtsInfo(lib.db)?.tta, listDoubts(lib.db).map((d) => d.expectedPrecision)], [null, 'flip-crops', [null]], 'not calibrated: null');

  // a calibrated computation: its summary in doubts.info, each doubt's expected precision in doubts.list
  const calibration = { method: 'refit' as const, trials: 5, flipRate: 0.05, planted: 65, recall: 0.73, precision: 0.34, doubts: 140.2, backbone: null, seconds: 90 };
  saveDoubts(lib.db, { ...record, calibration, tta: null }, [{ ...doubt(0, 1), expectedPrecision: 0.9 }, { ...doubt(1, 2), expectedPrecision: 0.45 }]);
  assert.deepEqual(doubtsInfo(lib.db)?.calibration, calibration);
  assert.equal(doubtsInfo(lib.db)?.tta, null);
  assert.equal(doubtsInfo(lib.db)?.faces, false);
  saveDoubts(lib.db, { ...record, faces: true }, [doubt(0, 1)]);
  assert.equal(doubtsInfo(lib.db)?.faces, true, 'a computation that scored the faces says so');
  saveDoubts(lib.db, { ...record, calibration, tta: null }, [{ ...doubt(0, 1), expectedPrecision: 0.9 }, { ...doubt(1, 2), expectedPrecision: 0.45 }]);
  assert.deepEqual(listDoubts(lib.db).map((d) => [d.rank, d.expectedPrecision]), [[1, 0.9], [2, 0.45]]);
  assert.throws(() => saveDoubts(lib.db, record, [{ ...doubt(0, 1), expectedPrecision: 1.5 }]), /CHECK constraint/);
  // a summary some other version wrote that this one cannot read shows as not calibrated, not as an error
  lib.db.prepare("UPDATE doubts_runs SET calibration = '{\"method\":\"oracle\"}'").run();
  assert.equal(doubtsInfo(lib.db)?.calibration, null);
});
