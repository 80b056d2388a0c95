import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { endsEarly, formatOfExtension, notItsOwn, scanBuffer, sniffFormat } from '../../../electron/core/dataset/scan';
import { mapPool } from '../../../electron/core/dataset/walk';

async function photo(): Promise<Buffer> {
  const px = Buffer.alloc(160 * 120 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7919) % 251;
  return sharp(px, { raw: { width: 160, height: 120, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

test('a truncated JPEG passes metadata() but not the full decode, also when many decode at once', async () => {
  const jpeg = await photo();
  const cut = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
  assert.equal((await sharp(cut).metadata()).format, 'jpeg', 'the header alone looks fine');
  assert.ok(endsEarly(cut, 'jpeg'));
  assert.ok(!endsEarly(jpeg, 'jpeg'));
  // libvips has one error buffer: under concurrency the message can be the generic one, the status must not change.
  const results = await mapPool(Array.from({ length: 40 }, (_, i) => i), 8, (i) => scanBuffer(i % 2 ? Buffer.from(cut) : jpeg));
  results.forEach((r, i) => assert.equal(r.decodeStatus, i % 2 ? 'truncated' : 'ok', `${i}: ${r.decodeError}`));
  assert.equal(results[0]!.width, 160);
  assert.match(results[0]!.phash ?? '', /^[0-9a-f]{16}$/);
  assert.match(results[0]!.phashFine ?? '', /^[0-9a-f]{64}$/);
});

test('empty, not an image, corrupt PNG, format sniffing', async () => {
  assert.equal((await scanBuffer(Buffer.alloc(0))).decodeStatus, 'empty');
  const text = await scanBuffer(Buffer.from('this is a text file, not a photo'));
  assert.equal(text.decodeStatus, 'not-an-image');
  assert.equal(text.magic, null);
  const png = await sharp({ create: { width: 64, height: 48, channels: 4, background: '#ff000080' } }).png().toBuffer();
  const scanned = await scanBuffer(png);
  assert.deepEqual([scanned.decodeStatus, scanned.format, scanned.hasAlpha], ['ok', 'png', true]);
  const bad = Buffer.from(png);
  bad[bad.length - 20] = bad[bad.length - 20]! ^ 0xff;
  assert.equal((await scanBuffer(bad)).decodeStatus, 'unreadable');
  assert.equal(sniffFormat(png), 'png');
  assert.equal(sniffFormat(await photo()), 'jpeg');
  assert.equal(formatOfExtension('JPG'), 'jpeg');
  assert.equal(formatOfExtension('txt'), null);
});

test("a decoder's message handed to the wrong file (libvips's one error buffer) is recognised, so it never decides the status", () => {
  // seen in CI: a corrupt PNG imported beside a truncated JPEG was reported "VipsJpeg: premature end of JPEG image"
  assert.equal(notItsOwn('VipsJpeg: premature end of JPEG image', 'png', false), true);
  assert.equal(notItsOwn('vipspng: libpng read error', 'jpeg', true), true);
  // a JPEG or PNG whose end marker is there did not end early, whatever the words say
  assert.equal(notItsOwn('VipsJpeg: premature end of JPEG image', 'jpeg', false), true);
  // its own words stay
  assert.equal(notItsOwn('VipsJpeg: premature end of JPEG image', 'jpeg', true), false);
  assert.equal(notItsOwn('vipspng: libpng read error', 'png', false), false);
  assert.equal(notItsOwn('gifload: truncated GIF', 'gif', false), false);
  assert.equal(notItsOwn('Input buffer contains unsupported image format', null, false), false);
});
