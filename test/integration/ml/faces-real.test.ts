/**
 * The face detector on real Spot the Mask photos (../shared/data/spot-the-mask), when present: a close-up
 * in a mask, two people on a stage, a person in sunglasses and a cap. What a person sees in each photo is
 * written beside it; the detector must find those faces, where they are, and the crops must be the size asked.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type * as tf from '@tensorflow/tfjs';
import { detectFaces, loadBlazeface, type FaceBox } from '../../../electron/core/faces/blazeface';
import { faceCrops, selectFaces } from '../../../electron/core/faces/crops';
import { realData } from '../../helpers';
import { useWasm } from './train-helpers';

const data = realData();
const photo = (name: string): string => ('dir' in data ? join(data.dir, 'images', name) : name);
const centre = (b: FaceBox): [number, number] => [(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2];

describe('BlazeFace on real photos', { skip: 'skip' in data ? data.skip : false }, () => {
  let model: tf.GraphModel;
  before(async () => {
    await useWasm();
    model = await loadBlazeface();
  });

  test('a woman in a surgical mask, close up: one face, around the middle of the photo', async () => {
    const faces = selectFaces(await detectFaces(model, photo('vszafuemtbxcbdkwiconlqqgehnpek.jpg')));
    assert.equal(faces.length, 1, JSON.stringify(faces));
    const [cx, cy] = centre(faces[0] as FaceBox);
    assert.ok(cx > 0.25 && cx < 0.5 && cy > 0.3 && cy < 0.65, `centre ${cx}, ${cy}`);
  });

  test('two people on a stage, one at each side: two faces, left and right', async () => {
    const faces = selectFaces(await detectFaces(model, photo('vclmsjxnzxnycmysozzvofxmelueoy.jpg')));
    assert.equal(faces.length, 2, JSON.stringify(faces));
    const xs = faces.map((f) => centre(f)[0]).sort((a, b) => a - b);
    assert.ok((xs[0] ?? 1) < 0.3 && (xs[1] ?? 0) > 0.7, `centres ${xs.join(', ')}`);
  });

  test('a woman in sunglasses and a cap: one face; its crops are squares of the size asked', async () => {
    const path = photo('gngoauwyvtrnomekbcbhqmrfcubent.jpg');
    const faces = selectFaces(await detectFaces(model, path));
    assert.equal(faces.length, 1, JSON.stringify(faces));
    const crops = await faceCrops(path, faces, 96);
    assert.deepEqual(crops.map((c) => c.length), [96 * 96 * 3]);
    assert.ok(new Set(crops[0]).size > 50, 'a crop of the photo, not a blank square');
  });
});
