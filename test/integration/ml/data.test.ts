/** The pixel pipeline (real sharp): colour spaces, alpha, EXIF orientation, resize modes, the cache, augmentation. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { augmentBoxes, batchTensor, DEFAULT_AUGMENT } from '../../../electron/core/ml/augment';
import { cachedRgb, decodeRgb, loadPixels, pixelCacheDir } from '../../../electron/core/ml/pixels';
import { Rng } from '../../../electron/core/random';

let dir: string;
const at = (rgb: Uint8Array, size: number, x: number, y: number): number[] => {
  const i = (y * size + x) * 3;
  return [rgb[i] ?? -1, rgb[i + 1] ?? -1, rgb[i + 2] ?? -1];
};
const near = (a: number[], b: number[], tol = 6): boolean => a.every((v, i) => Math.abs(v - (b[i] ?? 0)) <= tol);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ms-data-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('decodeRgb', () => {
  test('grey becomes three equal channels', async () => {
    const f = join(dir, 'grey.png');
    await sharp({ create: { width: 20, height: 10, channels: 3, background: { r: 90, g: 90, b: 90 } } }).toColourspace('b-w').png().toFile(f);
    assert.equal((await sharp(f).metadata()).channels, 1);
    const rgb = await decodeRgb(f, 8, 'fill');
    assert.equal(rgb.length, 8 * 8 * 3);
    assert.ok(near(at(rgb, 8, 4, 4), [90, 90, 90], 2), String(at(rgb, 8, 4, 4)));
  });

  test('alpha is flattened on white', async () => {
    const f = join(dir, 'alpha.png');
    // left half opaque red, right half fully transparent
    const raw = Buffer.alloc(16 * 16 * 4);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) raw.set(x < 8 ? [255, 0, 0, 255] : [0, 0, 0, 0], (y * 16 + x) * 4);
    await sharp(raw, { raw: { width: 16, height: 16, channels: 4 } }).png().toFile(f);
    const rgb = await decodeRgb(f, 16, 'fill');
    assert.ok(near(at(rgb, 16, 2, 8), [255, 0, 0]), String(at(rgb, 16, 2, 8)));
    assert.ok(near(at(rgb, 16, 13, 8), [255, 255, 255]), String(at(rgb, 16, 13, 8)));
  });

  test('CMYK is converted to sRGB', async () => {
    const f = join(dir, 'cmyk.jpg');
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 0, g: 0, b: 255 } } }).toColourspace('cmyk').jpeg().toFile(f);
    assert.equal((await sharp(f).metadata()).space, 'cmyk');
    const [r, g, b] = at(await decodeRgb(f, 8, 'fill'), 8, 4, 4);
    // still a blue (printing blue is darker than sRGB's: the round trip through CMYK loses the exact shade),
    // not four channels read as three
    assert.ok((b ?? 0) > (r ?? 255) + 60 && (b ?? 0) > (g ?? 255) + 60, `${r},${g},${b}`);
  });

  test('EXIF orientation is applied (a photo is seen as a person sees it)', async () => {
    const f = join(dir, 'rotated.jpg');
    // stored 20 wide × 10 high, top half red, bottom half blue; orientation 6 = rotate 90° clockwise to view
    const raw = Buffer.alloc(20 * 10 * 3);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) raw.set(y < 5 ? [255, 0, 0] : [0, 0, 255], (y * 20 + x) * 3);
    await sharp(raw, { raw: { width: 20, height: 10, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(f);
    const rgb = await decodeRgb(f, 10, 'fill');
    // viewed: the stored top (red) is now on the right
    assert.ok(near(at(rgb, 10, 8, 5), [255, 0, 0], 40), String(at(rgb, 10, 8, 5)));
    assert.ok(near(at(rgb, 10, 1, 5), [0, 0, 255], 40), String(at(rgb, 10, 1, 5)));
  });

  test('letterbox pads, fill stretches, crop cuts', async () => {
    const f = join(dir, 'wide.png');
    await sharp({ create: { width: 40, height: 20, channels: 3, background: { r: 0, g: 200, b: 0 } } }).png().toFile(f);
    const box = await decodeRgb(f, 10, 'letterbox');
    assert.ok(near(at(box, 10, 5, 0), [0, 0, 0]), 'top row padded');
    assert.ok(near(at(box, 10, 5, 5), [0, 200, 0]));
    for (const mode of ['fill', 'crop'] as const) assert.ok(near(at(await decodeRgb(f, 10, mode), 10, 5, 0), [0, 200, 0]), mode);
  });

  test('an undecodable file is an IO error naming it', async () => {
    const f = join(dir, 'broken.jpg');
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toFile(f);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(f, Buffer.from('not an image at all'));
    await assert.rejects(decodeRgb(f, 8, 'fill'), (e: Error & { code?: string }) => e.code === 'IO' && e.message.includes('broken.jpg'));
  });
});

describe('pixel cache', () => {
  test('keyed by sha256, size and mode; read back instead of decoding', async () => {
    const f = join(dir, 'c.png');
    await sharp({ create: { width: 30, height: 30, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toFile(f);
    const cache = join(dir, 'cache');
    const src = { sha256: 'ab'.repeat(32), path: f };
    const first = await cachedRgb(cache, src, 12, 'fill');
    const file = join(pixelCacheDir(cache, 12, 'fill'), 'ab', `${src.sha256}.rgb`);
    assert.equal(statSync(file).size, 12 * 12 * 3);
    rmSync(f); // the source is gone: only the cache can answer now
    assert.deepEqual(await cachedRgb(cache, src, 12, 'fill'), first);
    await assert.rejects(cachedRgb(cache, src, 16, 'fill'), /cannot decode/);
    const many = await loadPixels(cache, [src, src], 12, 'fill');
    assert.equal(many.length, 2);
    assert.deepEqual(readdirSync(join(cache, 'pixels')), ['fill-12']);
  });
});

describe('augmentation', () => {
  test('a box with x1 > x2 mirrors the crop (horizontal flip)', () => {
    const img = tf.tensor4d([1, 2, 3, 4, 5, 6].flatMap((v) => [v, v, v]), [1, 2, 3, 3]);
    const out = tf.image.cropAndResize(img, tf.tensor2d([[0, 1, 1, 0]]), tf.tensor1d([0], 'int32'), [2, 3]);
    assert.deepEqual(Array.from(out.dataSync()).filter((_, i) => i % 3 === 0), [3, 2, 1, 6, 5, 4]);
    tf.dispose([img, out]);
  });

  test('boxes stay inside the image and cover at least minArea; the same seed gives the same batch', () => {
    const boxes = augmentBoxes(200, new Rng(5), DEFAULT_AUGMENT);
    let flips = 0;
    for (const [y1 = 0, x1 = 0, y2 = 0, x2 = 0] of boxes) {
      const w = Math.abs(x2 - x1);
      const h = y2 - y1;
      assert.ok(Math.min(x1, x2) >= 0 && Math.max(x1, x2) <= 1 + 1e-9 && y1 >= 0 && y2 <= 1 + 1e-9);
      assert.ok(w * h >= DEFAULT_AUGMENT.minArea / DEFAULT_AUGMENT.maxAspect - 1e-9, `area ${w * h}`);
      if (x1 > x2) flips++;
    }
    assert.ok(flips > 60 && flips < 140, `${flips} flips of 200`);
    const px = [new Uint8Array(8 * 8 * 3).map((_, i) => (i * 7) % 256), new Uint8Array(8 * 8 * 3).fill(100)];
    const a = batchTensor(px, [0, 1], 8, 'unit', { rng: new Rng(9), opts: DEFAULT_AUGMENT });
    const b = batchTensor(px, [0, 1], 8, 'unit', { rng: new Rng(9), opts: DEFAULT_AUGMENT });
    const plain = batchTensor(px, [0, 1], 8, 'unit');
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.notDeepEqual(a.dataSync(), plain.dataSync());
    const values = a.dataSync();
    assert.ok(values.every((v) => v >= 0 && v <= 1));
    tf.dispose([a, b, plain]);
  });
});
