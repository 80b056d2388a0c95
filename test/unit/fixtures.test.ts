import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_NEAR_RADIUS } from '../../electron/core/dataset/near-duplicates';
import { dhash, hamming } from '../../electron/core/dataset/phash';
import { generateClassFolders, generateDataset, type DatasetManifest, type DefectKind } from '../fixtures/synthetic';

const ALL_KINDS: DefectKind[] = [
  'truncated', 'empty-file', 'not-an-image', 'unreadable', 'extension-mismatch', 'exact-duplicate', 'label-conflict',
  'near-duplicate', 'split-leak', 'colour-space', 'size-outlier', 'unknown-label', 'missing-file', 'duplicate-row', 'unlabelled',
];

const root = mkdtempSync(join(tmpdir(), 'mask-studio-fixtures-'));
after(() => rmSync(root, { recursive: true, force: true }));

function csvRows(path: string): Array<[string, string]> {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(header, 'image,target');
  return lines.map((l) => {
    const [image = '', target = ''] = l.split(',');
    return [image, target];
  });
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function treeDigest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full, `${rel}${name}/`);
      else out.set(`${rel}${name}`, sha(full));
    }
  };
  walk(dir, '');
  return out;
}

const decodes = (path: string): Promise<boolean> =>
  sharp(path, { failOn: 'warning' }).raw().toBuffer().then(() => true, () => false);

function fences(values: readonly number[]): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => {
    const at = (s.length - 1) * p;
    const lo = Math.floor(at);
    return (s[lo] ?? 0) + ((s[Math.ceil(at)] ?? 0) - (s[lo] ?? 0)) * (at - lo);
  };
  const iqr = q(0.75) - q(0.25);
  return [q(0.25) - 1.5 * iqr, q(0.75) + 1.5 * iqr];
}

describe('generateDataset with defects (default size, seed 1)', () => {
  let m: DatasetManifest;
  const one = (kind: DefectKind, detail?: RegExp): string[] => {
    const found = m.planted.filter((p) => p.kind === kind && (detail === undefined || detail.test(p.detail)));
    assert.equal(found.length, 1, `${kind} ${detail ?? ''}`);
    return found[0]?.files ?? [];
  };
  const path = (name: string): string => {
    const p = m.paths[name];
    assert.ok(p !== undefined, `${name} was written`);
    return p;
  };

  before(async () => {
    const t0 = performance.now();
    m = await generateDataset(join(root, 'a'), { defects: true });
    console.log(`generateDataset(defects) took ${(performance.now() - t0).toFixed(0)} ms`);
  });

  test('same seed gives the same bytes, another seed does not', async () => {
    await generateDataset(join(root, 'b'), { defects: true });
    const a = treeDigest(join(root, 'a'));
    assert.deepEqual(treeDigest(join(root, 'b')), a);
    assert.ok(a.size > 150);
    await generateDataset(join(root, 'c'), { defects: true, seed: 2, n: 20, testN: 4 });
    const c = new Set(treeDigest(join(root, 'c')).values());
    const shared = [...a.entries()].filter(([, h]) => c.has(h)).map(([rel]) => rel.split('/').pop() ?? '');
    const constant = m.planted.filter((p) => p.kind === 'empty-file' || p.kind === 'not-an-image').flatMap((p) => p.files);
    assert.deepEqual(shared.sort(), constant.sort(), 'only the empty file and the text file are shared');
  });

  test('Zindi layout: labels.csv, sample_submission.csv, images/ and test_images/', () => {
    const rows = csvRows(m.labelsCsv);
    const images = new Set(readdirSync(m.imagesDir));
    const tests = readdirSync(m.testDir).sort();
    assert.ok(images.size >= 130 && tests.length >= 30);
    assert.deepEqual(csvRows(m.sampleSubmission).map(([img]) => img).sort(), tests);
    assert.deepEqual([...m.test].sort(), tests);
    const valid = rows.filter(([img, t]) => images.has(img) && (t === '0' || t === '1'));
    assert.deepEqual(Object.fromEntries(valid.map(([img, t]) => [img, Number(t)])), m.labels);
    const classes = Object.values(m.truth);
    const share = classes.filter((c) => c === 1).length / classes.length;
    assert.ok(share > 0.4 && share < 0.6, `mask share ${share}`);
    for (const name of [...images, ...tests]) assert.match(name, /^[a-z]{20}\.(jpg|png)$/);
    const exts = [...images].map((n) => n.slice(-3));
    assert.ok(exts.filter((e) => e === 'png').length >= 10 && exts.filter((e) => e === 'jpg').length >= 100);
  });

  test('every defect kind is planted', () => {
    assert.deepEqual([...new Set(m.planted.map((p) => p.kind))].sort(), [...ALL_KINDS].sort());
  });

  test('broken files: truncated, empty, not an image, unreadable', async () => {
    const [truncated = ''] = one('truncated');
    const meta = await sharp(path(truncated)).metadata();
    assert.equal(meta.format, 'jpeg', 'metadata() alone passes the truncated JPEG');
    await assert.rejects(sharp(path(truncated), { failOn: 'warning' }).raw().toBuffer(), /premature end/i);
    await assert.rejects(dhash(sharp(path(truncated), { failOn: 'warning' })), 'the dHash decode rejects it too');

    const [empty = ''] = one('empty-file');
    assert.equal(statSync(path(empty)).size, 0);

    const [text = ''] = one('not-an-image');
    assert.match(readFileSync(path(text), 'utf8'), /not an image/);
    await assert.rejects(sharp(path(text)).metadata());

    const [broken = ''] = one('unreadable');
    assert.equal((await sharp(path(broken)).metadata()).format, 'png', 'the header is intact');
    await assert.rejects(sharp(path(broken), { failOn: 'warning' }).raw().toBuffer());
    for (const f of [truncated, empty, text, broken]) assert.ok(!m.clean.includes(f) && !(f in m.truth));
  });

  test('extension mismatch, colour spaces, size outlier', async () => {
    const [mismatch = ''] = one('extension-mismatch');
    assert.ok(mismatch.endsWith('.jpg'));
    assert.equal((await sharp(path(mismatch)).metadata()).format, 'png');
    assert.ok(await decodes(path(mismatch)));

    const cmyk = await sharp(path(one('colour-space', /CMYK/)[0] ?? '')).metadata();
    assert.equal(cmyk.space, 'cmyk');
    assert.equal(cmyk.format, 'jpeg');
    const grey = await sharp(path(one('colour-space', /grey/)[0] ?? '')).metadata();
    assert.equal(grey.channels, 1);
    assert.equal(grey.space, 'b-w');
    const rgbaPath = path(one('colour-space', /RGBA/)[0] ?? '');
    const rgba = await sharp(rgbaPath).metadata();
    assert.equal(rgba.format, 'png');
    assert.equal(rgba.channels, 4);
    const { data } = await sharp(rgbaPath).extractChannel(3).raw().toBuffer({ resolveWithObject: true });
    assert.ok(data.some((v) => v < 255) && data.some((v) => v === 255));
    for (const p of m.planted.filter((x) => x.kind === 'colour-space')) assert.ok(await decodes(path(p.files[0] ?? '')));

    const [wide = ''] = one('size-outlier');
    const wm = await sharp(path(wide)).metadata();
    assert.deepEqual([wm.width, wm.height], [3000, 200]);
    // The IQR rule over the other labelled images flags it, and nothing clean, on width, height and aspect.
    const clean = await Promise.all(
      m.clean.filter((f) => !m.test.includes(f)).map(async (f) => sharp(path(f)).metadata()),
    );
    for (const [what, get] of [
      ['width', (x: { width: number; height: number }) => x.width],
      ['height', (x: { width: number; height: number }) => x.height],
      ['aspect', (x: { width: number; height: number }) => x.width / x.height],
    ] as const) {
      const [lo, hi] = fences(clean.map(get));
      assert.ok(clean.every((x) => get(x) >= lo && get(x) <= hi), `no clean ${what} outlier`);
      // 200 px is an ordinary height: the image is an outlier by its width and its aspect.
      if (what !== 'height') assert.ok(get(wm) < lo || get(wm) > hi, `the planted image is a ${what} outlier`);
    }
  });

  test('duplicates: exact copies (same and different label), near copies in the labelled and test sets', async () => {
    const [a = '', aCopy = ''] = one('exact-duplicate');
    assert.equal(sha(path(a)), sha(path(aCopy)));
    assert.equal(m.labels[a], m.labels[aCopy]);
    const [b = '', bCopy = ''] = one('label-conflict');
    assert.equal(sha(path(b)), sha(path(bCopy)));
    assert.ok(m.labels[b] !== undefined && m.labels[bCopy] !== undefined && m.labels[b] !== m.labels[bCopy]);

    const [c = '', cCopy = ''] = one('near-duplicate');
    const [d = '', dCopy = ''] = one('split-leak');
    assert.equal(m.labels[c], m.labels[cCopy]);
    assert.ok(m.labels[d] !== undefined && m.labels[dCopy] === undefined && m.test.includes(dCopy));
    assert.ok(path(dCopy).startsWith(m.testDir) && path(d).startsWith(m.imagesDir));
    for (const [orig, copy] of [[c, cCopy], [d, dCopy]] as const) {
      assert.notEqual(sha(path(orig)), sha(path(copy)));
      const [mo, mc] = await Promise.all([sharp(path(orig)).metadata(), sharp(path(copy)).metadata()]);
      assert.equal(mc.width, Math.round(mo.width * 0.7));
      assert.equal(mc.format, 'jpeg');
      const distance = hamming(await dhash(sharp(path(orig))), await dhash(sharp(path(copy))));
      assert.ok(distance <= DEFAULT_NEAR_RADIUS, `70 %/q60 copy at ${distance} > ${DEFAULT_NEAR_RADIUS}`);
    }
  });

  test('CSV defects: missing file, unknown target, duplicated row, unlabelled image', () => {
    const rows = csvRows(m.labelsCsv);
    const unknown = m.planted.filter((p) => p.kind === 'unknown-label');
    assert.equal(unknown.length, 1);
    const [ghost = ''] = one('missing-file', /does not exist/);
    assert.ok(rows.some(([img]) => img === ghost) && !existsSync(join(m.imagesDir, ghost)) && !(ghost in m.paths));
    const yes = unknown.find((p) => /'yes'/.test(p.detail))?.files[0] ?? '';
    assert.deepEqual(rows.filter(([img]) => img === yes), [[yes, 'yes']]);
    assert.ok(existsSync(path(yes)) && !(yes in m.labels));

    const [dup = ''] = one('duplicate-row');
    const dupRows = rows.filter(([img]) => img === dup);
    assert.equal(dupRows.length, 2);
    assert.deepEqual(dupRows[0], dupRows[1]);
    assert.equal(rows.length - new Set(rows.map(([img]) => img)).size, 1, 'exactly one duplicated row');

    const [orphan = ''] = one('unlabelled');
    assert.ok(existsSync(path(orphan)) && path(orphan).startsWith(m.imagesDir));
    assert.ok(!rows.some(([img]) => img === orphan) && !m.test.includes(orphan));
  });

  test('clean images decode, are unique, and no two different faces are within the near radius', async () => {
    const planted = new Set(m.planted.flatMap((p) => p.files));
    assert.ok(m.clean.length > 130 && m.clean.every((f) => !planted.has(f)));
    const cleanSha = m.clean.map((f) => sha(path(f)));
    assert.equal(new Set(cleanSha).size, cleanSha.length);
    for (const f of m.clean) assert.ok(await decodes(path(f)), `${f} decodes`);
    // Every decodable face once: the planted copies stand for their originals, so they are left out.
    const copies = new Set(m.planted.filter((p) => /duplicate|conflict|leak/.test(p.kind)).map((p) => p.files[1]));
    const faces = Object.keys(m.truth).filter((f) => !copies.has(f));
    const hashes = await Promise.all(faces.map((f) => dhash(sharp(path(f)))));
    let min = 64;
    for (let i = 0; i < hashes.length; i++) {
      for (let j = i + 1; j < hashes.length; j++) min = Math.min(min, hamming(hashes[i] ?? 0n, hashes[j] ?? 0n));
    }
    console.log(`${faces.length} different faces: closest pair ${min} bits apart (radius ${DEFAULT_NEAR_RADIUS})`);
    assert.ok(min > DEFAULT_NEAR_RADIUS);
  });

  test('without `shortcut` the format does not predict the label; with it, PNG means mask', async () => {
    const pngShare = (mf: DatasetManifest, cls: 0 | 1): number => {
      const names = Object.keys(mf.labels).filter((f) => mf.labels[f] === cls && mf.clean.includes(f));
      return names.filter((f) => f.endsWith('.png')).length / names.length;
    };
    assert.ok(Math.abs(pngShare(m, 1) - pngShare(m, 0)) < 0.03, `${pngShare(m, 1)} vs ${pngShare(m, 0)}`);
    assert.ok(!m.planted.some((p) => p.kind === 'shortcut'));
    const s = await generateDataset(join(root, 's'), { shortcut: true, n: 60, testN: 4, seed: 3 });
    assert.ok(pngShare(s, 1) >= 0.35 && pngShare(s, 0) <= 0.05, `${pngShare(s, 1)} vs ${pngShare(s, 0)}`);
    const planted = s.planted.find((p) => p.kind === 'shortcut');
    assert.ok(planted && planted.files.length > 10 && planted.files.every((f) => f.endsWith('.png')));
    for (const f of planted.files) assert.equal((await sharp(s.paths[f] ?? '').metadata()).format, 'png');
  });
});

test('generateClassFolders writes mask/ and no_mask/', async () => {
  const dir = join(root, 'folders');
  const { classes } = await generateClassFolders(dir, { n: 16, seed: 4 });
  assert.deepEqual(readdirSync(dir).sort(), ['mask', 'no_mask']);
  assert.equal(classes.mask.length, 8);
  assert.equal(classes.no_mask.length, 8);
  assert.deepEqual(readdirSync(join(dir, 'mask')).map((f) => `mask/${f}`).sort(), classes.mask);
  for (const rel of [...classes.mask, ...classes.no_mask]) assert.ok(await decodes(join(dir, rel)));
});
