/** Calibration of the label doubts with planted flips (core/doubts/calibrate.ts): counting, seeds, processes. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { calibrate, expectedPrecisionAt, plantFlips, precisionAtRanks, trialSeeds } from '../../../electron/core/doubts/calibrate';
import { rankDoubts } from '../../../electron/core/doubts/compute';
import { Rng } from '../../../electron/core/random';
import { DoubtsInput } from '../../../shared/contract-compare';
import { seededCalibration } from '../../fixtures/doubts-calibration';

const labelsOf = (n0: number, n1: number): number[] => [...new Array<number>(n0).fill(0), ...new Array<number>(n1).fill(1)];

describe('planted flips', () => {
  test('round(rate · n) of each class, flipped, and the same set for the same seed', () => {
    const labels = labelsOf(130, 70);
    const a = plantFlips(labels, 0.05, 11);
    const perClass = [0, 1].map((c) => [...a.flipped].filter((i) => labels[i] === c).length);
    assert.deepEqual(perClass, [Math.round(0.05 * 130), Math.round(0.05 * 70)]);
    labels.forEach((l, i) => assert.equal(a.noisy[i], a.flipped.has(i) ? 1 - l : l));
    assert.deepEqual([...plantFlips(labels, 0.05, 11).flipped], [...a.flipped]);
    assert.notDeepEqual([...plantFlips(labels, 0.05, 12).flipped].sort(), [...a.flipped].sort());
    assert.throws(() => plantFlips(labels, 0, 1), /flip rate/);
    assert.throws(() => plantFlips([0, 2], 0.1, 1), /not 0 or 1/);
  });

  test('precision at each rank is the share of flips at or above it', () => {
    const p = precisionAtRanks([4, 2, 7, 1, 0], new Set([2, 7, 3]));
    assert.deepEqual(Array.from(p), [0, 1 / 2, 2 / 3, 2 / 4, 2 / 5]);
    assert.equal(expectedPrecisionAt(p, 3), 2 / 3);
    assert.equal(expectedPrecisionAt(p, 99), 2 / 5, 'a rank past the curve takes its last value');
    assert.equal(expectedPrecisionAt(new Float64Array(0), 1), null);
  });

  test('the trial seeds come from the fold seed alone', () => {
    assert.deepEqual(trialSeeds(3, 4), trialSeeds(3, 4));
    assert.notDeepEqual(trialSeeds(3, 4), trialSeeds(4, 4));
    assert.deepEqual(trialSeeds(3, 4).slice(0, 2), trialSeeds(3, 2));
  });
});

describe('calibrate', () => {
  // 160 images: the first 100 of class 0, a group of two near twins every tenth image
  const labels = labelsOf(100, 60);
  const groups = labels.map((_, i) => (i % 10 === 0 ? i + 1 : i));

  test('with probabilities that know the true labels, every planted flip is found and counted, and nothing else', async () => {
    // p(class 1) from the *original* labels: a flipped image's given label gets p 0.05, every other one 0.95
    const c = await calibrate({
      labels, groups, folds: 4, seed: 7, trials: 3, flipRate: 0.1,
      probabilities: () => Float64Array.from(labels, (l) => (l === 1 ? 0.95 : 0.05)),
      rank: (noisy, p1) => rankDoubts(noisy, p1).ranked,
    });
    const planted = Math.round(0.1 * 100) + Math.round(0.1 * 60);
    assert.deepEqual(c.trials.map((t) => [t.planted, t.doubts, t.hits]), [[planted, planted, planted], [planted, planted, planted], [planted, planted, planted]]);
    assert.equal(c.recall, 1);
    assert.equal(c.listPrecision, 1);
    assert.equal(c.precision.length, labels.length, 'one figure per rank, past the list too');
    for (let r = 1; r <= labels.length; r++) {
      const want = r <= planted ? 1 : planted / r;
      assert.ok(Math.abs((c.precision[r - 1] ?? -1) - want) < 1e-12, `rank ${r}: ${c.precision[r - 1]} ≠ ${want}`);
    }
  });

  test('probabilities that know nothing find flips at about the flip rate; every figure is in [0, 1]', async () => {
    const rng = new Rng(1);
    const c = await calibrate({
      labels, groups, folds: 4, seed: 7, trials: 4, flipRate: 0.1,
      probabilities: () => Float64Array.from(labels, () => rng.next()),
      rank: (noisy, p1) => rankDoubts(noisy, p1).ranked,
    });
    for (const v of c.precision) assert.ok(v >= 0 && v <= 1, String(v));
    assert.ok(Math.abs((c.precision.at(-1) ?? 0) - 16 / 160) < 1e-12, 'the whole ranking holds exactly the planted share');
    assert.ok(c.recall >= 0 && c.recall <= 1 && c.listPrecision >= 0 && c.listPrecision <= 1);
  });

  test('each trial refits on its own flipped labels and folds (the fold seed is the caller\'s)', async () => {
    const seen: Array<{ flippedLabels: number; folds: string }> = [];
    await calibrate({
      labels, groups, folds: 4, seed: 7, trials: 2, flipRate: 0.1,
      probabilities: (noisy, folds) => {
        seen.push({ flippedLabels: noisy.filter((l, i) => l !== labels[i]).length, folds: Array.from(folds).join('') });
        for (let i = 0; i < groups.length; i++) if (groups[i] === groups[i + 1]) assert.equal(folds[i], folds[i + 1], 'a duplicate group shares a fold');
        return Float64Array.from(noisy, () => 0.5);
      },
      rank: (noisy, p1) => rankDoubts(noisy, p1).ranked,
    });
    assert.deepEqual(seen.map((s) => s.flippedLabels), [16, 16]);
    assert.notEqual(seen[0]?.folds, seen[1]?.folds, 'folds drawn on each trial\'s own labels');
  });
});

test('a calibration is reproducible for a seed, in another process too (nothing depends on time)', async () => {
  const here = await seededCalibration(5);
  assert.equal(await seededCalibration(5), here);
  const script = fileURLToPath(new URL('../../fixtures/doubts-calibration.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--seed', '5'], { encoding: 'utf8' });
  assert.equal(out, here);
  assert.notEqual(await seededCalibration(6), here, 'another seed plants other flips');
});

test('the contract: trials and flip rate only with calibrate, within limits', () => {
  assert.deepEqual(DoubtsInput.parse({}).calibrate, false);
  assert.equal(DoubtsInput.parse({ calibrate: true, trials: 3, flipRate: 0.1 }).trials, 3);
  const bad = DoubtsInput.safeParse({ trials: 3 });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues.map((i) => [i.path.join('.'), i.message]), [['trials', 'only means something with calibrate (--calibrate)']]);
  assert.ok(!DoubtsInput.safeParse({ calibrate: true, flipRate: 0.5 }).success);
  assert.ok(!DoubtsInput.safeParse({ calibrate: true, trials: 0 }).success);
});
