/**
 * predict reads each file once: the bytes it decodes are the bytes it hands on (predict --faces hashes them,
 * finds and crops the faces from them), and a file it cannot decode is described as before.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { faceCrops } from '../../../electron/core/faces/crops';
import { decodeForPredict } from '../../../electron/core/ml/inference/predict-decode';
import { rgbPixels } from '../../../electron/core/ml/pixels';
import { tempDir } from '../../helpers';

async function photo(dir: string): Promise<string> {
  const file = join(dir, 'photo.jpg');
  const raw = Buffer.from(Array.from({ length: 80 * 60 * 3 }, (_, i) => (i * 7) % 251));
  await sharp(raw, { raw: { width: 80, height: 60, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
  return file;
}

test('a decoded file comes with its bytes when asked, and the same pixels as from its path', async (t) => {
  const file = await photo(tempDir('predict-decode', t));
  const kept = await decodeForPredict(file, 32, 'fill', true);
  assert.equal(kept.status, 'ok');
  assert.ok(kept.pixels !== null && 'bytes' in kept && kept.bytes !== undefined);
  assert.deepEqual(kept.bytes, readFileSync(file));
  assert.deepEqual(kept.pixels, await rgbPixels(file, 32, 'fill', 'warning'));
  assert.equal('bytes' in (await decodeForPredict(file, 32, 'fill')), false, 'without --faces no bytes are held');
  // faces are cropped from those bytes as from the file
  const box = [{ x0: 0.2, y0: 0.2, x1: 0.6, y1: 0.7, score: 0.9 }];
  assert.deepEqual(await faceCrops(kept.bytes, box, 24), await faceCrops(file, box, 24));
});

test('a file that is no image, or ends early, reads as it did when decoded from its path', async (t) => {
  const dir = tempDir('predict-decode-bad', t);
  const text = join(dir, 'text.jpg');
  writeFileSync(text, 'a text file named like a JPEG');
  assert.deepEqual(await decodeForPredict(text, 32, 'fill', true), {
    pixels: null,
    status: 'error',
    message: 'not an image: its first bytes match no image format (Input file contains unsupported image format)',
  });
  const file = await photo(dir);
  const cut = join(dir, 'cut.jpg');
  const bytes = readFileSync(file);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const d = await decodeForPredict(cut, 32, 'fill', true);
  assert.equal(d.status, 'truncated');
  assert.equal(d.message, `the file ends before its end-of-image marker (${Math.floor(bytes.length * 0.6)} bytes); scored on the part that decoded`);
  assert.ok('bytes' in d && d.bytes?.length === Math.floor(bytes.length * 0.6));
});
