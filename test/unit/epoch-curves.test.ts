/** A run's epochs as curves: a K-fold run's folds apart, each numbered from 1; a single-split run as it was. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEpoch } from '../../shared/contract';
import { epochSeries, foldShade, foldsUnknown, shade, stageSpans, trainCurves } from '../../renderer/src/lib/epoch-curves';

function epoch(n: number, fold: number | null, extra: Partial<RunEpoch> = {}): RunEpoch {
  return { epoch: n, fold, stage: 1, loss: 0.7, acc: 0.5, auc: 0.6, valLoss: 0.69, valAcc: 0.5, valAuc: 0.55, lr: 0.01, seconds: 1, imagesPerSecond: 10, ...extra };
}

describe('stageSpans', () => {
  test("a transfer run's head epochs, then its fine-tuning epochs, in the chart's numbers (a fold's own)", () => {
    const two = (n: number, fold: number | null, stage: 1 | 2): RunEpoch => epoch(n, fold, { stage });
    assert.deepEqual(stageSpans([two(1, null, 1), two(2, null, 1), two(3, null, 2), two(4, null, 2), two(5, null, 2)]), { head: [1, 2], fineTune: [3, 5] });
    assert.deepEqual(stageSpans([two(1, 1, 1), two(2, 1, 2), two(3, 1, 2), two(4, 2, 1), two(5, 2, 2), two(6, 2, 2)]), { head: [1, 1], fineTune: [2, 3] });
    assert.equal(stageSpans([two(1, null, 1), two(2, null, 1)]), null);
    assert.equal(stageSpans([]), null);
  });
});

describe('epochSeries', () => {
  test("a K-fold run's epochs (numbered on across folds) become one series per fold, each from 1", () => {
    const s = epochSeries([epoch(1, 1), epoch(2, 1), epoch(3, 1), epoch(4, 2), epoch(5, 2), epoch(6, 3)]);
    assert.deepEqual(s.map((x) => [x.fold, x.epochs.map((e) => e.n)]), [[1, [1, 2, 3]], [2, [1, 2]], [3, [1]]]);
    assert.deepEqual(s[1]?.epochs.map((e) => e.epoch), [4, 5]);
  });
  test('a single-split run is one series with its own numbers, whatever order the rows came in', () => {
    const s = epochSeries([epoch(2, null), epoch(1, null), epoch(3, null, { stage: 2 })]);
    assert.deepEqual(s.map((x) => [x.fold, x.epochs.map((e) => e.n)]), [[null, [1, 2, 3]]]);
  });
  test('an older K-fold run whose folds are not known is one series, and says so', () => {
    const old = [epoch(1, null), epoch(2, null)];
    assert.equal(epochSeries(old).length, 1);
    assert.equal(foldsUnknown(old, 3), true);
    assert.equal(foldsUnknown(old, null), false);
    assert.equal(foldsUnknown([epoch(1, 1)], 3), false);
  });
});

describe('trainCurves', () => {
  test('a 3-fold run: four metrics per fold, x the epoch of the fold, a legend entry per metric and per fold', () => {
    const config = trainCurves([epoch(1, 1), epoch(2, 1), epoch(3, 2), epoch(4, 2), epoch(5, 3), epoch(6, 3)]);
    assert.ok(config);
    const labels = config.data.datasets.map((d) => d.label);
    assert.equal(labels.length, 12);
    for (const f of [1, 2, 3]) assert.ok(labels.includes(`fold ${f} · val AUC`), labels.join(', '));
    const foldTwoLoss = config.data.datasets.find((d) => d.label === 'fold 2 · loss');
    assert.deepEqual(foldTwoLoss?.data, [{ x: 1, y: 0.7 }, { x: 2, y: 0.7 }]);
    const legend = config.options?.plugins?.legend?.labels?.generateLabels;
    assert.ok(legend);
    const chart = { isDatasetVisible: () => true } as unknown as Parameters<typeof legend>[0];
    assert.deepEqual(legend(chart).map((i) => i.text), ['loss', 'val loss', 'AUC', 'val AUC', 'fold 1', 'fold 2', 'fold 3']);
  });
  test('a single-split run: the four series as before, an epoch with no AUC has no point', () => {
    const config = trainCurves([epoch(1, null, { auc: null }), epoch(2, null)]);
    assert.deepEqual(config?.data.datasets.map((d) => d.label), ['loss', 'val loss', 'AUC', 'val AUC']);
    assert.deepEqual(config?.data.datasets[2]?.data, [{ x: 2, y: 0.6 }]);
    assert.equal(trainCurves([]), null);
  });
});

describe('fold shades', () => {
  test('from darker (first fold) to lighter (last), the metric colour between', () => {
    assert.equal(shade('#808080', 0), '#808080');
    assert.equal(shade('#808080', 1), '#ffffff');
    assert.equal(shade('#808080', -1), '#000000');
    const [a, b, c] = [1, 2, 3].map((f) => foldShade('#5aa9ff', f, 3));
    const light = (hex: string | undefined): number => Number.parseInt((hex ?? '#000000').slice(1, 3), 16);
    assert.ok(light(a) < light(b) && light(b) < light(c), `${a} ${b} ${c}`);
    assert.equal(new Set([a, b, c]).size, 3);
  });
});
