/** The Compare view's run names: a name, else the model, told apart by seed, then by the id's tail. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompareRow } from '../../shared/contract-compare';
import { RUN_COLOURS, runColours, runLabels, shortRunName } from '../../renderer/src/lib/compare-names';

function row(id: string, model: string, seed: number | null, extra: Partial<CompareRow> = {}): CompareRow {
  return {
    id, model, kind: 'trained', members: [], name: null, backend: 'wasm', device: 'cpu', engine: 'tfjs', inputSize: 32, weightsSource: 'none',
    seed, epochs: 2, bestEpoch: 1, count: 8, folds: null, missingFolds: [], tta: 'none', faces: false, auc: 0.5, aucCi: null, logLoss: 0.69, logLossCi: null, accuracy: 0.5, precision: 0.5, recall: 0.5,
    f1: 0.5, params: 100, seconds: 1, imagesPerSecond: 10, throughputBasis: 'pixels', best: false, ...extra,
  };
}

describe('runLabels', () => {
  test('a model alone keeps its name; a given name wins', () => {
    const names = runLabels([row('a-1', 'scratch', 1), row('b-2', 'vgg19', 1, { name: 'my vgg' })]);
    assert.deepEqual([...names.values()], ['scratch', 'my vgg']);
  });
  test('runs of one model are told apart by seed, reruns of one seed by the id tail', () => {
    const names = runLabels([row('x-aaaa', 'scratch', 1), row('x-bbbb', 'scratch', 2), row('x-cccc', 'scratch', 2)]);
    assert.deepEqual([...names.values()], ['scratch · seed 1', 'scratch · seed 2 · bbbb', 'scratch · seed 2 · cccc']);
  });
  test('an ensemble is named by its size', () => {
    const names = runLabels([row('e-1', 'ensemble', null, { kind: 'ensemble', members: ['a', 'b', 'c'] })]);
    assert.equal(names.get('e-1'), 'ensemble of 3');
  });
});

test('a run named by its id alone keeps its model whole: model and random tail, never a cut through a word', () => {
  assert.equal(shortRunName('20261206-202713-inception_v3-c160'), 'inception_v3 · c160');
  assert.equal(shortRunName('20261206-213944-scratch-a19a'), 'scratch · a19a');
  assert.equal(shortRunName('my-ensemble'), 'my-ensemble');
});

test('twenty runs get twenty colours, the palette first, in the order the runs were made', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `20261207-${String(100000 + i)}-scratch-${(0xa000 + i).toString(16)}`);
  const colours = runColours([...ids].reverse());
  assert.equal(new Set(colours.values()).size, 20);
  assert.deepEqual(ids.slice(0, RUN_COLOURS.length).map((id) => colours.get(id)), RUN_COLOURS);
  assert.ok(ids.every((id) => /^#[0-9a-f]{6}$/.test(colours.get(id) ?? '')), 'hex, as the charts shade per fold');
});
