/**
 * evaluate's class folders: a folder named for a class in another spelling (the public mask datasets'
 * `with_mask` / `without_mask`) is matched to the library's classes without --classes; a name that could be
 * either class, or none, still asks for --classes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClassInfo } from '../../../shared/contract';
import { matchSubfolders, nameSense } from '../../../electron/core/compare/external-folder';

const cls = (name: string, displayName: string, position: number): ClassInfo => ({ name, displayName, hotkey: null, position });
const spotTheMask: [ClassInfo, ClassInfo] = [cls('0', 'no mask', 0), cls('1', 'mask', 1)];

test('names that mean the same read the same', () => {
  for (const n of ['mask', 'with_mask', 'WithMask', 'with-mask', 'Mask']) assert.equal(nameSense(n), 'mask', n);
  for (const n of ['no mask', 'without_mask', 'no-mask', 'NoMask', 'WITHOUT MASK']) assert.equal(nameSense(n), 'not mask', n);
  assert.equal(nameSense('mask_weared_incorrect'), 'mask weared incorrect');
});

test("with_mask and without_mask stand for 'mask' and 'no mask' without --classes", () => {
  assert.deepEqual(matchSubfolders('/d', ['with_mask', 'without_mask'], spotTheMask), ['without_mask', 'with_mask']);
  assert.deepEqual(matchSubfolders('/d', ['Mask', 'NoMask', 'other'], spotTheMask), ['NoMask', 'Mask']);
});

test('an exact name wins over a spelling, and two spellings of one class ask for --classes', () => {
  assert.deepEqual(matchSubfolders('/d', ['0', '1', 'with_mask', 'without_mask'], spotTheMask), ['0', '1']);
  assert.throws(() => matchSubfolders('/d', ['with_mask', 'With-Mask', 'without_mask'], spotTheMask), /--classes/);
  assert.throws(() => matchSubfolders('/d', ['cats', 'dogs'], spotTheMask), /name the subfolders that stand for them with --classes/);
});
