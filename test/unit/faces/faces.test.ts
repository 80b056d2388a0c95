import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suppress, type FaceBox } from '../../../electron/core/faces/blazeface';
import { FACE_SELECTION, faceSuffix, selectFaces } from '../../../electron/core/faces/crops';
import { withFaces } from '../../../electron/core/doubts/faces';
import { outOfFold } from '../../../electron/core/doubts/oof';
import { Rng } from '../../../electron/core/random';

const box = (x0: number, y0: number, side: number, score: number): FaceBox => ({ x0, y0, x1: x0 + side, y1: y0 + side, score });

test('suppression keeps the best of overlapping boxes; selection keeps confident faces, the best first, at most maxFaces', () => {
  const a = box(0.1, 0.1, 0.2, 0.9);
  const overlapping = box(0.12, 0.11, 0.2, 0.8);
  const apart = box(0.6, 0.6, 0.1, 0.7);
  const weak = box(0.4, 0.1, 0.1, 0.45);
  assert.deepEqual(suppress([overlapping, apart, a]), [a, apart]);
  assert.deepEqual(selectFaces([weak, overlapping, apart, a]), [a, apart], 'below the threshold or overlapping a better face: not a face');
  const many = Array.from({ length: 8 }, (_, i) => box(i * 0.12, 0, 0.1, 0.9 - i * 0.01));
  assert.deepEqual(selectFaces(many), many.slice(0, FACE_SELECTION.maxFaces));
  assert.notEqual(faceSuffix(0), faceSuffix(0, { ...FACE_SELECTION, enlarge: 2 }), 'another crop is another cache entry');
});

test('withFaces: the mean of the whole image and its most confident face, out of fold; no face, the whole image', () => {
  const rng = new Rng(3);
  const n = 60;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const folds = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 2) % 3);
  const vec = (label: number): Float32Array => Float32Array.from({ length: 4 }, (_, j) => (j === 0 ? label * 2 - 1 : 0) + rng.range(-1, 1));
  // every third image has no face, the others one or two
  const faces = labels.map((l, i) => (i % 3 === 0 ? [] : Array.from({ length: 1 + (i % 2) }, () => vec(l))));
  const whole = Float64Array.from({ length: n }, () => rng.next());
  const p = withFaces(whole, faces, labels, folds, { l2: 0.1 });
  // the face head by hand: every face with its image's label and fold
  const owner = faces.flatMap((fs, i) => fs.map(() => i));
  const inst = outOfFold(faces.flat(), owner.map((i) => labels[i] ?? 0), Int32Array.from(owner, (i) => folds[i] ?? 0), { l2: 0.1 }).probabilities;
  for (let i = 0; i < n; i++) {
    const mine = owner.flatMap((o, k) => (o === i ? [inst[k] ?? 0] : []));
    const expected = mine.length === 0 ? (whole[i] ?? 0) : ((whole[i] ?? 0) + Math.max(...mine)) / 2;
    assert.ok(Math.abs((p[i] ?? 0) - expected) < 1e-12, `image ${i}: ${p[i]} vs ${expected}`);
  }
  assert.deepEqual(withFaces(whole, labels.map(() => []), labels, folds), whole, 'no faces anywhere: the whole images');
});
