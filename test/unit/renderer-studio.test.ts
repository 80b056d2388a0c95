/** The page's pure decisions behind issue 11: the train-all queue, run colours, what Review offers. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, ImageRow, RunInfo, TrainModelInfo } from '../../shared/contract';
import { runColours } from '../../renderer/src/lib/compare-names';
import { actionsFor, bulkQuestion, ensembleExplainer, explainRunFor, strongDoubt } from '../../renderer/src/lib/findings';
import type { CompareRow, DoubtRow, DoubtsInfo } from '../../shared/contract-compare';
import { planQueue, queueLabel, weightsFor, weightsLabel } from '../../renderer/src/lib/train-plan';
import { plural } from '../../renderer/src/lib/format';
import { formOf } from '../../renderer/src/lib/train-form';

function info(model: TrainModelInfo['model'], best: TrainModelInfo['best'], opts: { imagenet?: boolean; nsfwjs?: boolean; min?: number } = {}): TrainModelInfo {
  const pretrained = model !== 'scratch';
  return {
    model,
    pretrained,
    defaultInputSize: 224,
    minInputSize: opts.min ?? 32,
    sources: pretrained
      ? [
          { weights: 'imagenet', available: opts.imagenet ?? false, reason: opts.imagenet ? null : `no ImageNet weights for ${model}: mask-studio weights fetch ${model}` },
          { weights: 'nsfwjs', available: opts.nsfwjs ?? false, reason: opts.nsfwjs ? null : 'not an InceptionV3' },
          { weights: 'none', available: true, reason: null },
        ]
      : [{ weights: 'none', available: true, reason: null }],
    best,
    reason: best === null ? `no pretrained weights here: mask-studio weights fetch ${model}` : null,
    help: best === null ? `no pretrained weights here: mask-studio weights fetch ${model}, or copy the file offline` : null,
  };
}

const INFOS: TrainModelInfo[] = [
  info('scratch', 'none'),
  info('vgg19', null),
  info('inception_v3', 'nsfwjs', { nsfwjs: true, min: 75 }),
  info('inception_resnet_v2', null, { min: 75 }),
  info('resnet50', 'imagenet', { imagenet: true }),
  info('xception', null, { min: 71 }),
];
const ALL = INFOS.map((i) => i.model);

describe('planQueue: "train all and compare"', () => {
  test('queues every model with weights and skips each other one with its reason, not stopping at the first', () => {
    const { queue, skipped } = planQueue(INFOS, ALL, 'best', '', null);
    assert.deepEqual(queue, [{ model: 'scratch' }, { model: 'inception_v3', weights: 'nsfwjs' }, { model: 'resnet50', weights: 'imagenet' }]);
    assert.deepEqual(skipped.map((s) => s.model), ['vgg19', 'inception_resnet_v2', 'xception']);
    for (const s of skipped) {
      assert.match(s.reason, new RegExp(`mask-studio weights fetch ${s.model}`));
      assert.match(s.help ?? '', /offline/);
    }
  });

  test('an input size below a model minimum skips that model and says the numbers', () => {
    const { queue, skipped } = planQueue(INFOS, ['scratch', 'inception_v3'], 'best', '', 32);
    assert.deepEqual(queue, [{ model: 'scratch' }]);
    assert.equal(skipped[0]?.reason, 'needs an input size of at least 75 px; the input size is 32 px');
  });

  test('the weights choice: ImageNet, nsfwjs, none, a file', () => {
    assert.deepEqual(planQueue(INFOS, ALL, 'imagenet', '', null).queue.map((q) => q.model), ['scratch', 'resnet50']);
    assert.deepEqual(planQueue(INFOS, ALL, 'nsfwjs', '', null).queue.map((q) => q.model), ['scratch', 'inception_v3']);
    assert.equal(planQueue(INFOS, ALL, 'none', '', null).queue.length, 6);
    assert.deepEqual(weightsFor(INFOS[1] as TrainModelInfo, 'file', ' /w/vgg.h5 '), { weights: '/w/vgg.h5' });
    assert.ok('skip' in weightsFor(INFOS[1] as TrainModelInfo, 'file', '  '));
    // scratch ignores the choice: it always starts from random weights
    assert.deepEqual(weightsFor(INFOS[0] as TrainModelInfo, 'imagenet', ''), {});
  });

  test("the queue bar's models to go are the ones after the model training now (the queue's head)", () => {
    const queue = [{ model: 'vgg19' }, { model: 'resnet50', weights: 'imagenet' }, { model: 'xception', weights: 'imagenet' }] as const;
    assert.equal(queueLabel({ model: 2, models: 4 }, queue), 'queue: model 2 of 4 (resnet50, xception to go)');
    assert.equal(queueLabel({ model: 4, models: 4 }, queue.slice(2)), 'queue: model 4 of 4 (the last)');
  });

  test('weights read as people say them', () => {
    assert.equal(weightsLabel('imagenet'), 'ImageNet');
    assert.equal(weightsLabel('none'), 'random init');
    assert.equal(weightsLabel('/data/w/resnet.h5'), 'resnet.h5');
  });
});

describe('runColours', () => {
  const ids = ['20261205-090847-inception_v3-6024', '20261205-091500-scratch-aaaa', '20261205-092000-ensemble-bbbb'];
  test('a run keeps its colour however the table is ranked or filtered', () => {
    const a = runColours(ids);
    const b = runColours([...ids].reverse());
    for (const id of ids) assert.equal(a.get(id), b.get(id));
    assert.equal(new Set(a.values()).size, ids.length, 'runs made one after another differ');
    // a later run does not recolour the earlier ones
    const c = runColours([...ids, '20261205-100000-scratch-cccc']);
    for (const id of ids) assert.equal(c.get(id), a.get(id));
  });
});

describe('Review actions', () => {
  const f = (kind: Finding['kind'], imageIds: number[], detail: Record<string, unknown> = {}): Finding => ({
    id: 1, key: 'k', kind, severity: 'warning', images: [], imageIds, imageCount: imageIds.length, message: '', detail, facts: [], status: 'open',
  });
  test('a shortcut or a missing file offers neither relabel nor exclude', () => {
    assert.deepEqual(actionsFor(f('shortcut', [1, 2, 3]), ['0', '1']), { relabel: [], exclude: false, accept: false });
    assert.deepEqual(actionsFor(f('missing-file', [4]), ['0', '1']), { relabel: [], exclude: false, accept: false });
    assert.deepEqual(actionsFor(f('unknown-label', []), ['0', '1']), { relabel: [], exclude: false, accept: false });
  });
  test('a label doubt is accepted, not relabelled by one key to the suggested class', () => {
    assert.deepEqual(actionsFor(f('label-doubt', [7], { given: '1', suggested: '0' }), ['0', '1']), { relabel: [], exclude: true, accept: true });
    assert.deepEqual(actionsFor(f('label-doubt', [7], { given: '1', suggested: '0' }), ['0', '1', '2']).relabel, ['2']);
    assert.deepEqual(actionsFor(f('size-outlier', [7]), ['0', '1']), { relabel: ['0', '1'], exclude: true, accept: false });
  });
  test("a label doubt's suggestion is highlighted only on strong evidence; a weak or uncalibrated doubt highlights neither button", () => {
    const info = (oofAuc: number | null): DoubtsInfo => ({
      model: 'm', weights: 'imagenet', inputSize: 96, runId: null, folds: 5, images: 100, oofAuc, doubts: 6, createdAt: '', tta: null, faces: false, calibration: null,
    });
    const doubt = (probability: number, expectedPrecision: number | null, rank = 1): DoubtRow => ({
      imageId: 7, relPath: '7.jpg', given: '1', suggested: '0', probability, rank, findingId: 1, expectedPrecision,
    });
    // the walk's rank-1 doubt: p(given) 0.021, precision 0.8 at its rank, AUC 0.98
    assert.match(strongDoubt(doubt(0.021, 0.8), info(0.98)) ?? '', /^strong evidence: p\(given\) = 0\.021/);
    assert.equal(strongDoubt(doubt(0.19, 0.8, 2), info(0.98)), null, 'p(given) 0.19 is not a strong doubt');
    assert.equal(strongDoubt(doubt(0.021, 0.6), info(0.98)), null, 'most doubts at this rank were wrong in the calibration');
    assert.equal(strongDoubt(doubt(0.021, null), info(0.98)), null, 'uncalibrated: nothing says how often it is right');
    assert.equal(strongDoubt(doubt(0.021, 0.9), info(0.7)), null, 'a weak model');
    assert.equal(strongDoubt(doubt(0.021, 0.9), info(null)), null);
    assert.equal(strongDoubt(undefined, info(0.98)), null);
  });
  const row = (id: number, split: ImageRow['split'], width = 100): ImageRow => ({
    id, path: `/d/${id}.jpg`, relPath: `${id}.jpg`, fileName: `${id}.jpg`, bytes: 1000, sha256: String(id), format: 'jpeg', width, height: width,
    channels: 3, space: 'srgb', hasAlpha: false, orientation: null, decodeStatus: 'ok', decodeError: null, phash: null,
    label: split === 'submission' ? null : '1', split, excluded: false, excludeReason: null, missing: false,
  });
  test('a submission (unlabelled test) image is never relabelled, nor excluded when nothing else would be', () => {
    // a colour-space finding on a test image: nothing to label, and excluding drops its submission row
    assert.deepEqual(actionsFor(f('colour-space', [7]), ['0', '1'], [row(7, 'submission')]), { relabel: [], exclude: false, accept: false });
    assert.deepEqual(actionsFor(f('colour-space', [7]), ['0', '1'], [row(7, 'train')]), { relabel: ['0', '1'], exclude: true, accept: false });
    // a labelled image and its test duplicate: the labelled copy may go, no label is set on the group
    assert.deepEqual(actionsFor(f('exact-duplicate', [7, 8]), ['0', '1'], [row(7, 'submission', 200), row(8, 'train')]), { relabel: [], exclude: true, accept: false });
    // the keeper is the labelled image: the only other member is a test image, so there is nothing to exclude
    assert.deepEqual(actionsFor(f('exact-duplicate', [7, 8]), ['0', '1'], [row(7, 'submission'), row(8, 'train', 200)]), { relabel: [], exclude: false, accept: false });
    // a group larger than the evidence shows: exclude stays offered (the decision reads every member)
    assert.equal(actionsFor({ ...f('near-duplicate', [1, 2, 3]), imageCount: 40 }, ['0', '1'], [row(1, 'submission'), row(2, 'submission')]).exclude, true);
  });
  test("a label doubt's Grad-CAM comes from the doubts' run, else the library's best finished run (real data: none was offered)", () => {
    const run = (id: string, model: string, valAuc: number | null, status: RunInfo['status'] = 'done'): RunInfo => ({
      id, model, config: {}, backend: 'wasm', device: '', engine: '', status, startedAt: '', finishedAt: null, seconds: null, params: null, splitSeed: 1,
      dataHash: '', trainImages: 0, valImages: 0, weightsSource: 'none', inputSize: 75, best: valAuc === null ? null : { epoch: 1, valAuc, valLogLoss: 0.5 },
      imagesPerSecond: null, throughputBasis: null, error: null, folds: null, faces: false,
    });
    const info = (runId: string | null): DoubtsInfo => ({ model: 'inception_v3', weights: 'nsfwjs', inputSize: 299, runId, folds: 5, images: 1302, oofAuc: 0.928, doubts: 90, createdAt: '', tta: 'flip-crops', faces: false, calibration: null });
    const runs = [run('s', 'scratch', 0.656), run('i', 'inception_v3', 0.72), run('e', 'ensemble', 0.9), run('r', 'resnet50', 0.99, 'running'), run('n', 'vgg19', null)];
    // Review's "Find label doubts" names no run: the best finished, non-ensemble run shows where it looks
    assert.deepEqual(explainRunFor(info(null), runs), { runId: 'i', source: 'best' });
    assert.deepEqual(explainRunFor(null, runs), { runId: 'i', source: 'best' });
    assert.deepEqual(explainRunFor(info('s'), runs), { runId: 's', source: 'own' });
    // doubts from an ensemble of K-fold runs: its best member (not the library's best run), else the library's best
    const withMembers = runs.map((r) => (r.id === 'e' ? { ...r, config: { members: ['s', 'n'] } } : r));
    assert.deepEqual(explainRunFor(info('e'), withMembers), { runId: 's', source: 'member' });
    assert.deepEqual(explainRunFor(info('e'), runs), { runId: 'i', source: 'best' });
    assert.equal(explainRunFor(info(null), [run('e', 'ensemble', 0.9)]), null);
    // a K-fold run's doubts look through its own folds (the held-out fold's map); the best of an ensemble's K-fold members
    const kfold = { ...run('k', 'scratch', 0.95), folds: { k: 5, finished: [1, 2, 3, 4, 5] } };
    assert.deepEqual(explainRunFor(info('k'), [...runs, kfold]), { runId: 'k', source: 'own' });
    assert.deepEqual(explainRunFor(info('e'), [...withMembers.map((r) => (r.id === 'e' ? { ...r, config: { members: ['k', 's'] } } : r)), kfold]), { runId: 'k', source: 'member' });
    assert.deepEqual(explainRunFor(info(null), [...runs, kfold]), { runId: 'k', source: 'best' });
  });
  test('more than one image is asked first; one is not', () => {
    assert.equal(bulkQuestion(1, 'Relabel', ''), null);
    assert.deepEqual(bulkQuestion(59, 'Relabel', 'as “no mask”'), { title: 'Relabel 59 images?', confirm: 'Relabel 59 images as “no mask”' });
  });
  test('counts read in the singular when there is one', () => {
    assert.equal(plural(1, 'image'), '1 image');
    assert.equal(plural(1302, 'image'), '1,302 images');
  });
});

describe("Train's form from a running job's settings (a reloaded page)", () => {
  test('what the job asked fills the form; what it left out is the default, as an empty field reads', () => {
    assert.deepEqual(formOf({ model: 'resnet50', weights: 'imagenet', epochs: 7, lr: 0.001, inputSize: 96, folds: 7, tta: 'flip-crops', faces: true, backend: 'wasm', augment: true }), {
      model: 'resnet50',
      weightsChoice: 'imagenet',
      weightsFile: '',
      epochs: '7',
      batchSize: '',
      lr: '0.001',
      inputSize: '96',
      backend: 'wasm',
      augment: true,
      folds: '7',
      tta: 'flip-crops',
      faces: true,
    });
    const file = formOf({ model: 'vgg19', weights: '/w/vgg.h5' });
    assert.deepEqual([file.weightsChoice, file.weightsFile, file.epochs, file.backend, file.augment, file.tta, file.faces], ['file', '/w/vgg.h5', '', 'auto', false, '', false]);
    assert.equal(formOf({ model: 'scratch' }).augment, true);
  });
});

test("an ensemble's heatmap is its best-scoring member's; a run's own is its own", () => {
  const row = (id: string, kind: CompareRow['kind'], auc: number | null, members: string[] = []): Pick<CompareRow, 'id' | 'kind' | 'members' | 'auc'> => ({ id, kind, auc, members });
  const rows = [row('e', 'ensemble', 0.99, ['a', 'b']), row('a', 'trained', 0.9), row('b', 'trained', 0.95), row('c', 'trained', 0.97)] as CompareRow[];
  assert.equal(ensembleExplainer(rows[0] as CompareRow, rows), 'b', 'the better member, not the best run in the table');
  assert.equal(ensembleExplainer(rows[1] as CompareRow, rows), null);
  // members not in the table (another split's comparison): the first
  assert.equal(ensembleExplainer(row('f', 'ensemble', null, ['x', 'y']) as CompareRow, rows), 'x');
});
