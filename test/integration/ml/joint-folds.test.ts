/**
 * A frozen transfer run's folds share their base, so they predict as one network: the base once, each
 * fold's head, their mean. Its probabilities equal the folds' mean one by one; it is built once and again
 * when a fold's checkpoint changes; a scratch K-fold run (every fold's own weights) has none. Tiny: 40
 * synthetic faces, nsfwjs InceptionV3 at 75 px, 3 folds of one epoch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { exportRunModel } from '../../../electron/core/ml/inference/export-model';
import { JOINT_DIR, jointFoldsDir } from '../../../electron/core/ml/inference/joint-folds';
import { foldsPredictor, openRunPredictor } from '../../../electron/core/ml/inference/predictor';
import { loadModel } from '../../../electron/core/ml/model-io';
import { decodeRgb } from '../../../electron/core/ml/pixels';
import { foldCheckpointDirs, readCheckpointInfo, runDir } from '../../../electron/core/ml/runs/checkpoint';
import { findNsfwjs } from '../../../electron/core/ml/weights';
import { syntheticLibrary, trainInProcess, type TempLibrary } from './train-helpers';

const skip = findNsfwjs() ? false : 'the nsfwjs package is not installed';
let t: TempLibrary;
let frozen: string;
let scratch: string;
let images: string[];

before(async () => {
  if (skip) return;
  t = await syntheticLibrary('ms-joint-', { seed: 8, n: 40, testN: 0, minSize: 48, maxSize: 64 }, { seed: 1, val: 0.2, test: 0.2 });
  frozen = await trainInProcess(t.lib, { model: 'inception_v3', weights: 'nsfwjs', inputSize: 75, epochs: 1, folds: 3, tta: 'none', backend: 'wasm', seed: 2 });
  scratch = await trainInProcess(t.lib, { model: 'scratch', inputSize: 32, epochs: 1, folds: 3, tta: 'none', seed: 3 });
  images = (t.lib.db.prepare('SELECT path FROM images ORDER BY id LIMIT 12').all() as Array<{ path: string }>).map((r) => r.path);
});
after(() => t?.cleanup());

/** Each image's probability from a run's predictor (the joint network where there is one), and from its folds one by one. */
async function both(runId: string): Promise<{ joint: Float32Array; each: Float32Array }> {
  const dir = runDir(t.lib, runId);
  const { info, predictor } = await openRunPredictor(dir, runId, { engine: 'onnx' });
  const px = await Promise.all(images.map((p) => decodeRgb(p, info.inputSize, info.resize)));
  const folds = (await foldCheckpointDirs(dir)) ?? [];
  const each = await foldsPredictor(folds, info, runId, { engine: 'onnx' });
  try {
    return { joint: await predictor.run(px), each: await each.run(px) };
  } finally {
    await predictor.close();
    await each.close();
  }
}

test("a frozen run's folds predict as one network: the base once, each fold's head, the folds' mean", { skip }, async () => {
  const { joint, each } = await both(frozen);
  joint.forEach((p, i) => assert.ok(Math.abs(p - (each[i] ?? Number.NaN)) < 1e-5, `image ${i}: joint ${p} vs the folds' mean ${each[i]}`));
  assert.ok(Math.max(...each) - Math.min(...each) > 1e-3, 'the images differ, so equal figures mean something');
  const dir = join(runDir(t.lib, frozen), JOINT_DIR);
  const model = await loadModel(dir);
  const fold0 = await loadModel(join(runDir(t.lib, frozen), 'fold-0'));
  try {
    const convs = (m: typeof model): number => m.layers.filter((l) => l.getClassName() === 'Conv2D').length;
    assert.equal(convs(model), convs(fold0), 'one base, not three');
    assert.deepEqual(model.layers.filter((l) => l.name.endsWith('head_dense')).map((l) => l.name), ['fold0_head_dense', 'fold1_head_dense', 'fold2_head_dense']);
  } finally {
    model.dispose();
    fold0.dispose();
  }
});

test('the joint network is built once, and again when a fold checkpoint changes', { skip }, async () => {
  const rd = runDir(t.lib, frozen);
  const folds = (await foldCheckpointDirs(rd)) ?? [];
  const info = await readCheckpointInfo(folds[0] ?? '', frozen);
  const stamp = (): string => readFileSync(join(rd, JOINT_DIR, 'joint.json'), 'utf8');
  const before1 = stamp();
  assert.equal(await jointFoldsDir(rd, folds, info), join(rd, JOINT_DIR));
  assert.equal(stamp(), before1, 'unchanged folds: not built again');
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(folds[1] ?? '', 'weights.bin'), later, later);
  assert.equal(await jointFoldsDir(rd, folds, info), join(rd, JOINT_DIR));
  assert.notEqual(stamp(), before1, 'a changed fold: built again');
});

test('export-model writes the joint network of a frozen K-fold run, and refuses a scratch one', { skip }, async () => {
  const out = join(t.dir, 'exported');
  const r = await exportRunModel(t.lib, frozen, 'onnx', out, 'none');
  assert.equal(r.card.folds, 3);
  const { getSession, releaseSession, runBatch } = await import('../../../electron/core/ml/onnx/runtime');
  const session = await getSession(join(out, 'model.onnx'));
  try {
    const info = await readCheckpointInfo(join(runDir(t.lib, frozen), 'fold-0'), frozen);
    const px = await Promise.all(images.map((p) => decodeRgb(p, 75, info.resize)));
    const data = new Float32Array(px.length * 75 * 75 * 3);
    px.forEach((p, i) => data.set(p, i * 75 * 75 * 3));
    const exported = (await runBatch(session, data, [px.length, 75, 75, 3])).data;
    const { each } = await both(frozen);
    exported.forEach((p, i) => assert.ok(Math.abs(p - (each[i] ?? Number.NaN)) < 1e-5, `image ${i}: exported ${p} vs the folds' mean ${each[i]}`));
  } finally {
    await releaseSession(session);
  }
  await assert.rejects(exportRunModel(t.lib, scratch, 'onnx', join(t.dir, 'exported-scratch')), /K-fold run whose 3 folds each trained their own network: export needs a single-split run, or a frozen transfer K-fold run/);
});

test('a scratch K-fold run has no joint network: each fold trained its own base', { skip }, async () => {
  const { joint, each } = await both(scratch);
  joint.forEach((p, i) => assert.ok(Math.abs(p - (each[i] ?? Number.NaN)) < 1e-6, `image ${i}`));
  assert.equal(existsSync(join(runDir(t.lib, scratch), JOINT_DIR, 'model.json')), false);
  assert.deepEqual(JSON.parse(readFileSync(join(runDir(t.lib, scratch), JOINT_DIR, 'joint.json'), 'utf8')).joint, false);
});
