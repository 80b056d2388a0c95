/**
 * The hashes' resizes run in TypeScript (vips-resize.ts) and must give libvips's bytes exactly, so a
 * library's stored hashes and new ones stay comparable: each is checked against sharp on noise, on smooth
 * gradients and on the real grids the hashes use.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { resizeGrey, type ResizeKernel } from '../../../electron/core/dataset/vips-resize';

function image(width: number, height: number, seed: number, smooth: boolean): Uint8Array {
  const data = new Uint8Array(width * height);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const col = i % width;
    const row = Math.floor(i / width);
    data[i] = smooth ? Math.round(127.5 + 120 * Math.sin(col / 9 + seed) * Math.cos(row / 13)) : (x >>> 0) & 0xff;
  }
  return data;
}

const CASES: Array<[number, number, number, number, ResizeKernel]> = [
  [256, 256, 72, 64, 'lanczos3'], // the 64-bit hash's intermediate
  [72, 64, 9, 8, 'cubic'], // the 64-bit hash
  [256, 256, 17, 16, 'lanczos3'], // the 256-bit hash
  [301, 97, 40, 13, 'lanczos3'], // odd sizes: fractional offsets, a ceil-ed box shrink
  [50, 50, 49, 7, 'cubic'],
];

test('resizeGrey gives sharp/libvips bytes exactly', async () => {
  for (const [w, h, ow, oh, kernel] of CASES) {
    for (let seed = 1; seed <= 6; seed++) {
      const data = image(w, h, seed, seed % 2 === 0);
      const expected = await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } })
        .greyscale()
        .resize(ow, oh, { fit: 'fill', kernel })
        .raw()
        .toBuffer();
      const got = resizeGrey({ data, width: w, height: h }, ow, oh, kernel);
      assert.equal(got.width, ow);
      assert.equal(got.height, oh);
      assert.deepEqual(Buffer.from(got.data), expected, `${w}×${h} → ${ow}×${oh} ${kernel}, seed ${seed}`);
    }
  }
});

test('resizeGrey refuses to enlarge', () => {
  assert.throws(() => resizeGrey({ data: new Uint8Array(4), width: 2, height: 2 }, 3, 2), /only reduces/);
});
