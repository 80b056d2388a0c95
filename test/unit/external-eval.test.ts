/** The Compare view's "Score on another folder…" decisions: the runs ticked first, the form to evaluate.start's input. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompareRow } from '../../shared/contract-compare';
import { EvaluateInput } from '../../shared/contract-evaluate';
import { dropText } from '../../shared/format';
import { defaultRuns, evaluateInput, workloadText, isEvaluateResult, ownScore, type EvaluateForm } from '../../renderer/src/lib/external-eval';

function row(id: string, kind: CompareRow['kind'] = 'trained'): CompareRow {
  return {
    id, model: kind === 'trained' ? 'scratch' : 'ensemble', kind, members: [], name: null, backend: 'wasm', device: 'cpu', engine: 'tfjs', inputSize: 32, weightsSource: 'none',
    seed: 1, epochs: 2, bestEpoch: 1, count: 8, folds: null, missingFolds: [], tta: 'none', faces: false, auc: 0.5, aucCi: null, logLoss: 0.69, logLossCi: null, accuracy: 0.5, precision: 0.5, recall: 0.5,
    f1: 0.5, params: 100, seconds: 1, imagesPerSecond: 10, throughputBasis: 'pixels', best: false,
  };
}

const FORM: EvaluateForm = { folder: ' /data/ext ', runs: ['a'], classes: ['no', 'yes'], perClass: '', seed: '', tta: '', faces: '' };

describe('defaultRuns', () => {
  const rows = [row('e', 'ensemble'), row('a'), row('b'), row('c')];
  test('the selected runs in the table order, an ensemble among them', () => {
    assert.deepEqual(defaultRuns(rows, ['c', 'e', 'a']), ['e', 'a', 'c']);
  });
  test('nothing selected: the best run, an ensemble too', () => {
    assert.deepEqual(defaultRuns(rows, []), ['e']);
    assert.deepEqual(defaultRuns([], []), []);
  });
});

describe('evaluateInput', () => {
  test("the form's choices become evaluate.start's input, and the contract takes it", () => {
    const made = evaluateInput(FORM);
    assert.ok('input' in made);
    assert.deepEqual(made.input, { runs: ['a'], folder: '/data/ext', classes: ['no', 'yes'] });
    assert.ok(EvaluateInput.safeParse(made.input).success);
    const full = evaluateInput({ ...FORM, perClass: ' 20 ', seed: '7', tta: 'flip', faces: 'off' });
    assert.ok('input' in full);
    assert.deepEqual(full.input, { runs: ['a'], folder: '/data/ext', classes: ['no', 'yes'], perClass: 20, seed: 7, tta: 'flip', faces: false });
    assert.ok(EvaluateInput.safeParse(full.input).success);
    // a seed samples nothing without a sample size
    const seedOnly = evaluateInput({ ...FORM, seed: '7', faces: 'on' });
    assert.ok('input' in seedOnly);
    assert.deepEqual([seedOnly.input.seed, seedOnly.input.faces], [undefined, true]);
  });
  test('what is missing or wrong is said in words, not sent', () => {
    const problem = (form: Partial<EvaluateForm>): string => {
      const made = evaluateInput({ ...FORM, ...form });
      assert.ok('problem' in made, JSON.stringify(made));
      return made.problem;
    };
    assert.match(problem({ folder: '  ' }), /name the labelled folder/);
    assert.match(problem({ runs: [] }), /tick at least one run/);
    assert.match(problem({ classes: ['no', ''] }), /choose the subfolder that stands for each class/);
    assert.match(problem({ classes: ['yes', 'yes'] }), /'yes' cannot stand for both classes/);
    assert.match(problem({ perClass: '0' }), /'0' is not a whole number of at least 1/);
    assert.match(problem({ perClass: '2.5' }), /'2.5' is not a whole number/);
    assert.match(problem({ perClass: '5', seed: 'x' }), /seed: 'x' is not a whole number/);
  });
});

test('a result is recognised; the own score and the drop are written as the table shows them', () => {
  assert.equal(isEvaluateResult({ runs: [], classes: [], unreadable: [] }), true);
  assert.equal(isEvaluateResult({ added: 3 }), false);
  assert.equal(isEvaluateResult(null), false);
  assert.deepEqual(ownScore({ recorded: { on: 'out-of-fold', auc: 0.91234, logLoss: null } }), { auc: '0.9123', on: 'out of fold' });
  assert.deepEqual(ownScore({ recorded: { on: 'val', auc: null, logLoss: null } }), { auc: '–', on: 'val' });
  assert.equal(dropText(0.12345), '0.1235 lower');
  assert.equal(dropText(-0.01), '0.0100 higher');
  assert.equal(dropText(0), 'the same');
  assert.equal(dropText(null), '–');
});

test('the dialog says how much it will score, and suggests a sample for a large folder', () => {
  const subs = [{ name: 'with_mask', images: 2140 }, { name: 'without_mask', images: 1930 }, { name: 'extra', images: 3 }];
  assert.deepEqual(workloadText(subs, ['without_mask', 'with_mask'], '', 2), {
    text: '4,070 images (1,930 + 2,140) × 2 runs: every image of the folder, which takes a while; Images per class draws a sample (500 gives a quick check)',
    large: true,
  });
  assert.deepEqual(workloadText(subs, ['without_mask', 'with_mask'], '500', 1), { text: '1,000 images (500 + 500) × 1 run', large: false });
  // a sample larger than a class takes all of it; a small folder is not "large"
  assert.deepEqual(workloadText(subs, ['extra', 'with_mask'], '10', 1), { text: '13 images (3 + 10) × 1 run', large: false });
  assert.equal(workloadText(subs, ['extra', ''], '', 1), null);
  assert.equal(workloadText(subs, ['extra', 'extra'], '', 1), null);
});
