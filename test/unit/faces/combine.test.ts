/** The one rule an image's probability takes its faces by (label doubts and `train --faces` alike). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withFaceScore } from '../../../electron/core/faces/combine';
import { combineFaces } from '../../../electron/core/ml/inference/faces';

test('no face: the whole image alone; faces: the mean of the whole image and the most confident face', () => {
  assert.equal(withFaceScore(0.3, []), 0.3);
  assert.equal(withFaceScore(0.2, [0.1, 0.9, 0.5]), (0.2 + 0.9) / 2);
  assert.equal(withFaceScore(0.8, [0.1]), (0.8 + 0.1) / 2);
  // a face that could not be scored counts for nothing
  assert.equal(withFaceScore(0.4, [Number.NaN]), 0.4);
  assert.equal(withFaceScore(0.4, [Number.NaN, 0.8]), (0.4 + 0.8) / 2);
});

test('combineFaces applies it image by image, the faces in their own order', () => {
  const out = combineFaces([0.2, 0.6, 0.9], [Float32Array.of(0.5, 1), new Float32Array(0), Float32Array.of(0.1)]);
  assert.deepEqual(Array.from(out, (v) => Number(v.toFixed(6))), [0.6, 0.6, 0.5]);
});
