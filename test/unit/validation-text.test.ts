/** zod's complaints reach people as sentences: at the dispatch border (IPC, serve, tests) and in the shared text. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { z } from 'zod';
import { methods } from '../../shared/contract';
import { isAppError } from '../../shared/errors';
import { describeValidation } from '../../shared/validation-text';
import { dispatch } from '../../electron/core/api/dispatch';
import { JobRunner } from '../../electron/core/jobs/runner';
import { openLibrary } from '../../electron/core/library';
import { tempDir } from '../helpers';

function sentence(method: keyof typeof methods, input: unknown): string {
  const r = (methods[method].input as z.ZodType).safeParse(input, { reportInput: true });
  assert.equal(r.success, false, `${method} should refuse ${JSON.stringify(input)}`);
  return r.success ? '' : describeValidation(r.error.issues);
}

test('relabelling nothing says to choose an image, not what zod found', async (t) => {
  const lib = openLibrary(join(tempDir('validation', t), 'lib'), { create: true });
  t.after(() => lib.close());
  const emit = () => {};
  const ctx = { lib, jobs: new JobRunner(lib.db, emit), emit };
  await assert.rejects(dispatch(ctx, 'labels.set', { images: [], label: '1' }), (err: unknown) => {
    assert.ok(isAppError(err));
    assert.equal(err.code, 'BAD_INPUT');
    assert.equal(err.message, 'Choose at least one image.');
    return true;
  });
});

test('each kind of complaint is a sentence with the value that was sent', () => {
  assert.equal(sentence('labels.set', { images: [1], label: '' }), 'Choose a label (one of the classes): the label is empty.');
  assert.equal(sentence('ensemble.create', { runs: ['a'] }), 'Choose at least 2 runs.');
  assert.equal(sentence('split.run', { val: 2 }), "'val' must be at most 0.9 (got 2).");
  assert.equal(sentence('import.start', {}), 'Give the image folder: it is missing.');
  assert.equal(sentence('library.info', { x: 1 }), "This option is not known here: 'x'.");
  assert.match(sentence('train.start', { model: 'vgg' }), /^The model must be 'scratch', 'vgg19', .* or 'xception' \(got 'vgg'\)\.$/);
  for (const text of [sentence('images.get', { image: -3 }), sentence('train.start', { model: 'scratch', epochs: 0 })]) {
    assert.doesNotMatch(text, /Too small|expected|Invalid|>=|<=/, text);
  }
});

test('a number typed as text that is no number is quoted as typed, where zod saw NaN', () => {
  const schema = methods['train.start'].input as z.ZodType;
  const r = schema.safeParse({ model: 'scratch', epochs: Number('abc'), lr: Number(' 1e '), batchSize: 0 }, { reportInput: true });
  assert.equal(r.success, false);
  if (r.success) return;
  const typed = { epochs: 'abc', lr: ' 1e ', batchSize: '0' };
  assert.equal(
    describeValidation(r.error.issues, typed),
    "The number of epochs must be a number (got 'abc'). The batch size must be more than 0 (got 0). The learning rate must be a number (got '1e').",
  );
  // without the typed text the contract's value is all there is
  assert.match(describeValidation(r.error.issues), /^The number of epochs must be a number \(got NaN\)/);
  // Infinity parsed from 'Infinity' is no number either, and a field not typed keeps zod's value
  const inf = schema.safeParse({ model: 'scratch', epochs: Number('Infinity') }, { reportInput: true });
  assert.equal(inf.success, false);
  if (!inf.success) {
    assert.equal(describeValidation(inf.error.issues, { epochs: 'Infinity' }), "The number of epochs must be a number (got 'Infinity').");
    assert.equal(describeValidation(inf.error.issues, { lr: 'x' }), 'The number of epochs must be a number (got Infinity).');
  }
});
