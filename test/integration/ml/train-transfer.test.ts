/**
 * Transfer learning on wasm with the real pretrained InceptionV3 that ships offline (nsfwjs), at its
 * smallest input: stage 1 extracts and caches the frozen base's features, a second run reads them from
 * the cache, and stage 2 fine-tunes the top layers and saves a checkpoint that predicts what was stored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { onnxRuntimeStatus } from '../../../electron/core/ml/inference/engine';
import { predictFiles } from '../../../electron/core/ml/inference/predict';
import { getRun, runEpochs, runPredictions } from '../../../electron/core/ml/runs/store';
import { startTraining } from '../../../electron/core/ml/train/start';
import type { RunMessage } from '../../../electron/core/ml/train/run';
import { findNsfwjs } from '../../../electron/core/ml/weights';
import { insertImages, makeFaces, splitByPosition, tempLibrary, type TempLibrary } from './train-helpers';

const nsfwjs = findNsfwjs();

describe('transfer learning: nsfwjs InceptionV3 at 75 px (wasm)', { skip: nsfwjs ? false : 'the nsfwjs package is not installed' }, () => {
  let t: TempLibrary;
  let faces: Array<{ path: string; label: '0' | '1' }>;

  before(async () => {
    t = tempLibrary('ms-transfer-');
    faces = await makeFaces(join(t.dir, 'images'), 100, 21);
    insertImages(t.lib, join(t.dir, 'images'), faces.map((f, i) => ({ ...f, split: splitByPosition(i) })));
  });
  after(() => t.cleanup());

  const train = async (input: Parameters<typeof startTraining>[2]): Promise<{ id: string; messages: RunMessage[] }> => {
    const messages: RunMessage[] = [];
    const runner = new JobRunner(t.lib.db, () => {});
    const start = startTraining(t.lib, runner, input, { onMessage: (m) => messages.push(m) });
    await runner.wait(start.jobId);
    return { id: start.runId, messages };
  };

  test('stage 1: features cached once, the head learns; a second run reuses the cache', async () => {
    const t0 = performance.now();
    const first = await train({ model: 'inception_v3', weights: 'nsfwjs', inputSize: 75, backend: 'wasm' });
    const firstSeconds = (performance.now() - t0) / 1000;
    const run = getRun(t.lib.db, first.id);
    assert.equal(run.status, 'done', run.error ?? '');
    // engine 'auto': ONNX Runtime computed the features wherever it loads
    assert.equal(run.engine, (await onnxRuntimeStatus()).loads ? 'onnx' : 'tfjs');
    assert.equal(run.weightsSource, 'nsfwjs');
    // and it trained the head too: ONNX Runtime's training graph of the head
    assert.equal(run.config['trainEngine'], (await onnxRuntimeStatus()).loads ? 'head: onnx (cpu)' : 'head: tfjs (wasm)');
    // the head trained on cached features: its examples per second are labelled so, not reported as images
    assert.equal(run.throughputBasis, 'features');
    // 60 train / 25 val cartoon faces at 75 px; chance is 0.5. Best val AUC over training seeds 0–11 and 42
    // (the default, used here; one process each): 0.780–0.853. 25 images make coarse steps, hence 0.70.
    assert.ok((run.best?.valAuc ?? 0) >= 0.7, `val AUC ${run.best?.valAuc}`);
    assert.ok(runEpochs(t.lib.db, run.id).every((e) => e.stage === 1));
    const featureDirs = readdirSync(join(t.lib.cacheDir, 'features'));
    assert.equal(featureDirs.length, 1);
    assert.match(featureDirs[0] ?? '', /^inception_v3-75-fill-[0-9a-f]{16}$/);
    // the head trained on standardised features; the saved classifier (standardisation folded into its
    // Dense layer) takes raw pixels and must give the stored probabilities
    const val = runPredictions(t.lib.db, run.id).filter((p) => p.split === 'val').slice(0, 3);
    const again = await predictFiles(t.lib, run.id, val.map((p) => faces.find((f) => basename(f.path) === p.fileName)?.path ?? ''));
    again.forEach((a, i) => assert.ok(Math.abs((a.probability ?? Number.NaN) - (val[i]?.probability ?? -1)) < 1e-3, `${a.file}: ${a.probability} vs ${val[i]?.probability}`));

    const t1 = performance.now();
    const second = await train({ model: 'inception_v3', weights: 'nsfwjs', inputSize: 75, epochs: 5, backend: 'wasm', seed: 7 });
    const secondSeconds = (performance.now() - t1) / 1000;
    assert.equal(getRun(t.lib.db, second.id).status, 'done');
    // every feature came from the cache: the first progress report of the phase already says all are done
    const firstFeatures = second.messages.find((m) => m.type === 'progress' && m.phase === 'features');
    assert.ok(firstFeatures?.type === 'progress' && firstFeatures.done === firstFeatures.total, JSON.stringify(firstFeatures));
    console.log(`nsfwjs InceptionV3 75 px: val AUC ${run.best?.valAuc?.toFixed(3)}; first run ${firstSeconds.toFixed(1)} s, cached ${secondSeconds.toFixed(1)} s`);
  });

  test('stage 2: fine-tuning the top layers; the checkpoint reproduces the stored predictions', async () => {
    const { id } = await train({
      model: 'inception_v3', weights: 'nsfwjs', inputSize: 75, epochs: 10, fineTuneLayers: 4, fineTuneEpochs: 1, batchSize: 16, backend: 'wasm',
    });
    const run = getRun(t.lib.db, id);
    assert.equal(run.status, 'done', run.error ?? '');
    // the top above the cut trained on ONNX Runtime's training graph, from the activations it cached
    if ((await onnxRuntimeStatus()).loads) assert.equal(run.config['trainEngine'], 'head: onnx (cpu), top: onnx (cpu)');
    const epochs = runEpochs(t.lib.db, id);
    assert.deepEqual([...new Set(epochs.map((e) => e.stage))], [1, 2]);
    assert.equal(epochs.filter((e) => e.stage === 2).length, 1);
    assert.ok(existsSync(join(t.lib.modelsDir, id, 'model.json')));
    const val = runPredictions(t.lib.db, id).filter((p) => p.split === 'val').slice(0, 3);
    const paths = val.map((p) => faces.find((f) => basename(f.path) === p.fileName)?.path ?? '');
    const again = await predictFiles(t.lib, id, paths);
    again.forEach((a, i) => assert.ok(Math.abs((a.probability ?? Number.NaN) - (val[i]?.probability ?? -1)) < 1e-3, `${a.file}: ${a.probability} vs ${val[i]?.probability}`));
  });
});
