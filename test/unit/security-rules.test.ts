/**
 * The rules behind serve's and the desktop shell's doors, under plain Node (there is no Electron binary in
 * CI): which links may leave the app, what a page may ask main to save or choose, which paths a page may
 * name, which Host and Origin serve answers, and the tar a model download is.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DataRoots } from '../../electron/core/paths/data-roots';
import { externalLink, parseChooseRequest, parseSaveRequest, saveDialogPlan } from '../../electron/server/desktop-requests';
import { servesOriginal, VIEW_SIZE } from '../../electron/server/images';
import { allowedHosts, hostAllowed, originAllowed } from '../../electron/server/security';
import { tarEntries, tarSize, tarStream } from '../../electron/server/tar';
import { tempDir } from '../helpers';

describe('desktop shell requests', () => {
  test('only https links to allow-listed sites may be offered to the browser', () => {
    assert.equal(externalLink('https://zindi.africa/competitions/spot-the-mask'), 'https://zindi.africa/competitions/spot-the-mask');
    for (const url of [
      'http://zindi.africa/',
      'https://evil.example/',
      'https://zindi.africa.evil.example/',
      'https://user:pw@github.com/',
      'https://github.com:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'studio://app/index.html',
      'not a url',
    ]) {
      assert.equal(externalLink(url), null, url);
    }
  });

  test('shell.save takes a kind and a run id that is an id, never a path', () => {
    assert.deepEqual(parseSaveRequest({ kind: 'submission', runId: '20250101-scratch-ab12' }), { kind: 'submission', runId: '20250101-scratch-ab12' });
    assert.deepEqual(parseSaveRequest({ kind: 'model', runId: 'abc', format: 'tfjs' }), { kind: 'model', runId: 'abc', format: 'tfjs' });
    for (const bad of [
      { kind: 'submission', runId: '../../etc/passwd' },
      { kind: 'submission', runId: '%' },
      { kind: 'submission', runId: 'a/b' },
      { kind: 'submission', runId: '' },
      { kind: 'submission', runId: 'x'.repeat(200) },
      { kind: 'report', split: 'train' },
      { kind: 'report', split: 'val', path: '/tmp/x.html' },
      { kind: 'model', runId: 'abc', format: 'onnx', outDir: '/tmp' },
      { kind: 'file', path: '/etc/passwd' },
    ]) {
      assert.throws(() => parseSaveRequest(bad), /shell\.save/, JSON.stringify(bad));
    }
    assert.equal(saveDialogPlan({ kind: 'model', runId: 'abc', format: 'onnx' }, '/l/lib').defaultName, 'abc-onnx');
    assert.match(saveDialogPlan({ kind: 'report', split: 'test' }, '/l/lib').defaultName, /^mask-studio-report-lib-test-\d{8}-\d{4}\.html$/);
  });

  test('shell.choose takes only a kind: the dialog, not the page, says the path', () => {
    assert.deepEqual(parseChooseRequest({ kind: 'labels' }), { kind: 'labels' });
    assert.throws(() => parseChooseRequest({ kind: 'labels', path: '/etc/passwd' }), /shell\.choose/);
    assert.throws(() => parseChooseRequest({ kind: 'anything' }), /shell\.choose/);
  });
});

describe('data roots', () => {
  test('a path counts when its real path is a root or below one; symlinks out, .. and relative paths do not', (t) => {
    const dir = tempDir('roots', t);
    mkdirSync(join(dir, 'data', 'images'), { recursive: true });
    mkdirSync(join(dir, 'data-other'));
    mkdirSync(join(dir, 'private'));
    symlinkSync(join(dir, 'private'), join(dir, 'data', 'link'));
    const roots = new DataRoots([join(dir, 'data')], { howToAllow: 'ADD IT' });
    assert.equal(roots.check(join(dir, 'data'), 'x'), join(dir, 'data'));
    assert.equal(roots.check(join(dir, 'data', 'images'), 'x'), join(dir, 'data', 'images'));
    assert.equal(roots.check(join(dir, 'data', 'not-yet', 'labels.csv'), 'x'), join(dir, 'data', 'not-yet', 'labels.csv'));
    for (const p of [join(dir, 'data-other'), join(dir, 'data', '..', 'private'), join(dir, 'data', 'link'), join(dir, 'data', 'link', 'x.csv'), '/']) {
      assert.throws(() => roots.check(p, 'the folder'), (err: Error & { code?: string }) => err.code === 'FORBIDDEN' && /ADD IT/.test(err.message), p);
    }
    assert.throws(() => roots.check('data/images', 'the folder'), /not a full path/);
    assert.throws(() => new DataRoots([join(dir, 'missing')], { howToAllow: '' }), /does not exist/);
    roots.grant(join(dir, 'private'));
    assert.equal(roots.check(join(dir, 'data', 'link'), 'x'), join(dir, 'data', 'link'), 'once granted, the symlink target is inside');
  });
});

describe("serve's Host and Origin", () => {
  test('loopback names with the port, and the bound address when it is a specific one', () => {
    const hosts = allowedHosts(5173, '127.0.0.1');
    assert.ok(hostAllowed('127.0.0.1:5173', hosts));
    assert.ok(hostAllowed('LocalHost:5173', hosts));
    assert.ok(hostAllowed('[::1]:5173', hosts));
    for (const h of [undefined, '127.0.0.1', '127.0.0.1:5174', 'evil.example:5173', '0.0.0.0:5173', 'localhost.:5173']) assert.ok(!hostAllowed(h, hosts), String(h));
    assert.ok(hostAllowed('192.168.1.5:80', allowedHosts(80, '192.168.1.5')));
    assert.ok(hostAllowed('[fe80::1]:80', allowedHosts(80, 'fe80::1')));
    assert.ok(!hostAllowed('0.0.0.0:80', allowedHosts(80, '0.0.0.0')), 'a wildcard bind adds no name');
    assert.ok(originAllowed(undefined, hosts));
    assert.ok(originAllowed('http://localhost:5173', hosts));
    for (const o of ['null', 'https://127.0.0.1:5173', 'http://evil.example:5173', 'http://127.0.0.1:5173/x']) assert.ok(!originAllowed(o, hosts), o);
  });
});

describe('image views', () => {
  test('the original is served only when a browser shows it and it is within the view size and byte budget', () => {
    assert.ok(servesOriginal({ format: 'jpeg', bytes: 200_000, width: 1200, height: 800 }));
    assert.ok(!servesOriginal({ format: 'jpeg', bytes: 200_000, width: VIEW_SIZE + 1, height: 800 }));
    assert.ok(!servesOriginal({ format: 'png', bytes: 40_000_000, width: 2000, height: 2000 }));
    assert.ok(!servesOriginal({ format: 'tiff', bytes: 1000, width: 10, height: 10 }));
    assert.ok(!servesOriginal({ format: 'svg', bytes: 1000, width: 10, height: 10 }), 'a drawing can carry scripts');
    assert.ok(!servesOriginal({ format: 'jpeg', bytes: 1000, width: null, height: null }));
  });
});

describe('tar downloads', () => {
  test('a folder streams as a ustar archive that tar lists and extracts byte for byte, long names included', async (t) => {
    const dir = tempDir('tar', t);
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'model.onnx'), Buffer.from(Array.from({ length: 70_001 }, (_, i) => i % 251)));
    writeFileSync(join(src, 'model-card.json'), '{"a":1}\n');
    writeFileSync(join(src, 'empty.bin'), '');
    const folder = `${'r'.repeat(120)}-onnx`;
    const entries = await tarEntries(src, ['model.onnx', 'model-card.json', 'empty.bin'], folder);
    const chunks: Buffer[] = [];
    for await (const c of tarStream(entries)) chunks.push(c as Buffer);
    const archive = Buffer.concat(chunks);
    assert.equal(archive.length, tarSize(entries.map((e) => e.size)));
    const file = join(dir, 'out.tar');
    writeFileSync(file, archive);
    const listed = spawnSync('tar', ['-tf', file], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), [`${folder}/model.onnx`, `${folder}/model-card.json`, `${folder}/empty.bin`]);
    const out = join(dir, 'x');
    mkdirSync(out);
    assert.equal(spawnSync('tar', ['-xf', file, '-C', out]).status, 0);
    assert.deepEqual(readFileSync(join(out, folder, 'model.onnx')), readFileSync(join(src, 'model.onnx')));
    assert.equal(readFileSync(join(out, folder, 'model-card.json'), 'utf8'), '{"a":1}\n');
  });
});
