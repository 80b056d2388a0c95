/**
 * `serve` against someone holding the token, a foreign page, or a big request (issue 10, section 3): no path
 * from a page reaches a writer, imports read only below --data-root, traversal is a 404, a foreign Host or
 * Origin is refused, an oversized body is a clear 413 (not a reset), a big edit lets other calls through,
 * and a 20000-pixel TIFF's view is served shrunk (WebP alone cannot hold it: it was a 500).
 */
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { WebSocket } from 'ws';
import { openLibrary, type Library } from '../../electron/core/library';
import { librarySlug } from '../../electron/core/paths/exports';
import { MAX_BODY, startServer, type RunningServer } from '../../electron/server/server';
import { VIEW_SIZE } from '../../electron/server/images';
import { makeTinyDataset, type TinyDataset } from '../e2e/tiny-dataset';
import { tempDir } from '../helpers';
import { callWith, json, login, raw, wsStatus, type Reply } from '../http-helpers';

interface ErrorReply {
  ok: false;
  error: { code: string; message: string };
}

interface Fixture {
  root: string;
  data: TinyDataset;
  outside: string;
  lib: Library;
  server: RunningServer;
  cookie: string;
}

/** A served library with the tiny dataset as its only data root, and a folder beside it that is not one. */
async function setup(t: { after(fn: () => void | Promise<void>): void }, dataRoots?: string[]): Promise<Fixture> {
  const root = tempDir('serve-security', t);
  const rendererDir = join(root, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  const data = await makeTinyDataset(join(root, 'data'), 8);
  const outside = join(root, 'outside');
  mkdirSync(join(outside, 'images'), { recursive: true });
  writeFileSync(join(outside, 'secret.txt'), 'image,target\nroot:x:0:0,1\n');
  writeFileSync(join(outside, 'images', 'a.jpg'), readFileSync(join(data.imagesDir, data.files[0]?.name ?? '')));
  const lib = openLibrary(join(root, 'lib'), { create: true });
  const server = await startServer({ lib, rendererDir, port: 0, log: () => {}, dataRoots: dataRoots ?? [join(root, 'data')] });
  t.after(async () => {
    await server.close();
    lib.close();
  });
  return { root, data, outside, lib, server, cookie: await login(server) };
}

/** Runs an import through the API and waits for its job to end; returns the job.finished payload. */
async function importVia(f: Fixture, input: Record<string, string>): Promise<{ status: string; error?: { message: string } }> {
  const ws = new WebSocket(`ws://127.0.0.1:${f.server.port}/api/events`, { headers: { Cookie: f.cookie } });
  await once(ws, 'open');
  const finished = new Promise<{ status: string; error?: { message: string } }>((resolve) => {
    ws.on('message', (m: Buffer) => {
      const e = JSON.parse(m.toString()) as { name: string; payload: { status: string; error?: { message: string } } };
      if (e.name === 'job.finished') resolve(e.payload);
    });
  });
  const started = await callWith(f.server, f.cookie, 'import.start', input);
  assert.equal(started.status, 200, started.body.toString());
  const end = await finished;
  ws.close();
  return end;
}

function errorOf(reply: Reply): ErrorReply['error'] {
  return json<ErrorReply>(reply).error;
}

describe('serve: what a page may write and read', () => {
  test('no method takes a path to write: report.write, runs.export and export.run refuse one and write only into the library', async (t) => {
    const f = await setup(t);
    const victim = join(f.outside, 'victim.txt');
    writeFileSync(victim, 'keep me');
    const attempts: Array<[string, Record<string, unknown>, string]> = [
      ['report.write', { out: victim, split: 'val' }, 'out'],
      ['report.write', { out: join(f.outside, 'new', 'folder', 'r.html') }, 'out'],
      ['runs.export', { id: 'x', format: 'onnx', outDir: join(f.outside, 'model') }, 'outDir'],
      ['export.run', { outDir: join(f.outside, 'dataset') }, 'outDir'],
    ];
    for (const [method, input, key] of attempts) {
      const reply = await callWith(f.server, f.cookie, method, input);
      assert.equal(reply.status, 400, `${method} ${JSON.stringify(input)}: ${reply.body.toString()}`);
      assert.match(errorOf(reply).message, new RegExp(key), `${method} names the refused key`);
    }
    assert.equal(readFileSync(victim, 'utf8'), 'keep me');
    assert.deepEqual(readdirSync(f.outside).sort(), ['images', 'secret.txt', 'victim.txt'], 'no folder was created outside');

    // Without a path the writers write into <library>/exports/ and say where.
    const report = await callWith(f.server, f.cookie, 'report.write', { split: 'val' });
    assert.equal(report.status, 200, report.body.toString());
    const reportOut = json<{ value: { out: string } }>(report).value.out;
    assert.equal(dirname(reportOut), join(f.lib.dir, 'exports'));
    assert.match(basename(reportOut), new RegExp(`^mask-studio-report-${librarySlug(f.lib.dir)}-val-\\d{8}-\\d{4}\\.html$`));
    const exported = await callWith(f.server, f.cookie, 'export.run', {});
    assert.equal(exported.status, 200, exported.body.toString());
    const outDir = json<{ value: { outDir: string } }>(exported).value.outDir;
    assert.ok(outDir.startsWith(join(f.lib.dir, 'exports', 'dataset-')), outDir);
    // The report download is written there too (not to a temp folder) and comes as an attachment.
    const download = await raw(f.server.port, '/api/report.html?split=test', { headers: { Cookie: f.cookie } });
    assert.equal(download.status, 200);
    const saved = String(download.headers['content-disposition']).match(/^attachment; filename="(mask-studio-report-[\w.-]+-test-\d{8}-\d{4}\.html)"$/)?.[1];
    assert.ok(saved, String(download.headers['content-disposition']));
    assert.deepEqual(download.body, readFileSync(join(f.lib.dir, 'exports', saved)));
  });

  test('imports read only below --data-root: outside, through a symlink, relative, or with no root at all is refused', async (t) => {
    const f = await setup(t);
    const roots = await callWith(f.server, f.cookie, 'import.roots', {});
    assert.deepEqual(json<{ value: { roots: string[] } }>(roots).value.roots, [join(f.root, 'data')]);
    symlinkSync(f.outside, join(f.root, 'data', 'escape'));
    const refused: Array<[Record<string, string>, number, RegExp]> = [
      [{ dir: join(f.outside, 'images') }, 403, /outside the allowed folders.*--data-root/],
      [{ dir: '/' }, 403, /outside the allowed folders/],
      [{ dir: join(f.root, 'data', '..', 'outside', 'images') }, 403, /outside the allowed folders/],
      [{ dir: join(f.root, 'data', 'escape', 'images') }, 403, /outside the allowed folders/],
      [{ dir: f.data.imagesDir, labels: join(f.outside, 'secret.txt') }, 403, /labels CSV .* outside/],
      [{ dir: f.data.imagesDir, testDir: join(f.outside, 'images') }, 403, /test image folder .* outside/],
      [{ dir: f.data.imagesDir, sampleSubmission: '/etc/passwd' }, 403, /sample submission .* outside/],
      [{ dir: 'data/images' }, 400, /not a full path/],
    ];
    for (const [input, status, message] of refused) {
      const reply = await callWith(f.server, f.cookie, 'import.start', input);
      assert.equal(reply.status, status, `${JSON.stringify(input)}: ${reply.body.toString()}`);
      assert.match(errorOf(reply).message, message);
      assert.ok(!reply.body.toString().includes('root:x'), 'nothing of the file is echoed');
    }
    const weights = await callWith(f.server, f.cookie, 'train.start', { model: 'vgg19', weights: join(f.outside, 'secret.txt') });
    assert.equal(weights.status, 403, weights.body.toString());
    assert.equal(json<{ value: { images: number } }>(await callWith(f.server, f.cookie, 'library.info', {})).value.images, 0, 'nothing was imported');

    const end = await importVia(f, { dir: f.data.imagesDir, labels: f.data.labelsCsv });
    assert.equal(end.status, 'done', end.error?.message);
  });

  test('a server started without --data-root lets the page import nothing, and says what to type', async (t) => {
    const f = await setup(t, []);
    const reply = await callWith(f.server, f.cookie, 'import.start', { dir: f.data.imagesDir });
    assert.equal(reply.status, 403);
    assert.match(errorOf(reply).message, /no folder may be read from this page.*--data-root DIR/);
  });

  test('paths that climb out of the app answer 404 and leak nothing', async (t) => {
    const f = await setup(t);
    const variants = [
      '/../../../../etc/passwd',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%252e%252e/%252e%252e/etc/passwd',
      '/..\\..\\..\\etc\\passwd',
      '/%5c..%5c..%5cetc%5cpasswd',
      '/index.html%00.png',
      '/.%2e/.%2e/etc/passwd',
      `/${encodeURIComponent(join(f.outside, 'secret.txt'))}`,
      '/api/image/..%2f..%2fetc%2fpasswd',
      '/api/image/1%2f..%2f..%2fetc%2fpasswd',
      '/api/image/0x1',
      '/api/image/1e3',
      '/api/runs/..%2f..%2fetc/submission.csv',
      '/api/runs/%2e%2e/submission.csv',
      '/api/runs/x%00/submission.csv',
      '/api/runs/..%5c..%5cx/model.tar',
      '/api/runs/x/model.tar?format=..%2f..%2fetc',
      '/api/exports/mask-studio-report-val.html',
      '/lib/studio.db',
      '/api/file?path=/etc/passwd',
    ];
    for (const path of variants) {
      const res = await raw(f.server.port, path, { headers: { Cookie: f.cookie } });
      assert.equal(res.status, 404, `${path} answered ${res.status}`);
      assert.ok(!res.body.toString().includes('root:'), `${path} leaked a file`);
    }
  });
});

describe('serve: who may talk to it', () => {
  test('only loopback Host names with the served port are answered, even with the token', async (t) => {
    const f = await setup(t);
    const port = f.server.port;
    const auth = { Authorization: `Bearer ${f.server.token}` };
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`, `127.0.0.2:${port}`, '127.0.0.1']) {
      const res = await raw(port, '/', { headers: { ...auth, Host: host } });
      assert.equal(res.status, 403, `Host ${host} answered ${res.status}`);
      assert.equal(await wsStatus(`ws://127.0.0.1:${port}/api/events`, { ...auth, Host: host }), 401, `WebSocket with Host ${host}`);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      assert.equal((await raw(port, '/', { headers: { ...auth, Host: host } })).status, 200, `Host ${host}`);
    }
    // HTTP/1.0 without any Host
    const socket = connect(port, '127.0.0.1');
    socket.end(`GET / HTTP/1.0\r\nAuthorization: Bearer ${f.server.token}\r\n\r\n`);
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    await once(socket, 'close');
    assert.match(text, /^HTTP\/1\.[01] 403/);
  });

  test('a foreign Origin is refused on the WebSocket (401) and on a call (403), even with the cookie', async (t) => {
    const f = await setup(t);
    const port = f.server.port;
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`]) {
      assert.equal(await wsStatus(`ws://127.0.0.1:${port}/api/events`, { Cookie: f.cookie, Origin: origin }), 401, `WebSocket from ${origin}`);
      const call = await callWith(f.server, f.cookie, 'library.info', {}, { Origin: origin });
      assert.equal(call.status, 403, `call from ${origin}`);
    }
    assert.equal(await wsStatus(`ws://127.0.0.1:${port}/api/events`, { Cookie: f.cookie, Origin: `http://127.0.0.1:${port}` }), 'open');
    assert.equal((await callWith(f.server, f.cookie, 'library.info', {}, { Origin: `http://127.0.0.1:${port}` })).status, 200);
  });
});

describe('serve: big requests', () => {
  test('a body over the limit is a 413 that says what to do, with or without Content-Length; the connection is not reset', async (t) => {
    const f = await setup(t);
    const big = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const declared = await raw(f.server.port, '/api/call', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: f.cookie, 'Content-Length': String(big.length) },
      body: big,
    });
    assert.equal(declared.status, 413);
    assert.match(errorOf(declared).message, /10,485,760 bytes; at most 1,048,576/);
    const chunked = await raw(f.server.port, '/api/call', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: f.cookie },
      chunks: Array.from({ length: 3 }, () => Buffer.alloc(MAX_BODY / 2, 0x20)),
    });
    assert.equal(chunked.status, 413);
    assert.match(errorOf(chunked).message, /1,572,864 bytes; at most 1,048,576/);
    assert.equal((await callWith(f.server, f.cookie, 'library.info', {})).status, 200, 'the server still answers');
  });

  test('labels.set refuses more than 100,000 images with the count, and a big edit lets another call finish first', async (t) => {
    const f = await setup(t);
    const end = await importVia(f, { dir: f.data.imagesDir, labels: f.data.labelsCsv });
    assert.equal(end.status, 'done');
    // 1 MiB of '1,' is 520k references: refused by number, not by size.
    const tooMany = await callWith(f.server, f.cookie, 'labels.set', { images: new Array<number>(520_000).fill(1), label: '1' });
    assert.equal(tooMany.status, 400);
    assert.match(errorOf(tooMany).message, /at most 100,000 images \(got 520,000\)/);

    // Ordering, not timing: a big edit started first must not hold the event loop until it is done.
    const names = f.data.files.filter((x) => x.name !== f.data.truncated).map((x) => x.name);
    const refs = Array.from({ length: 20_000 }, (_, i) => names[i % names.length] ?? '');
    const order: string[] = [];
    const edit = f.server.session.call('labels.set', { images: refs, label: '1' }).then((r) => {
      order.push('labels.set');
      return r;
    });
    // The other call arrives a turn of the event loop later, as a second request would: it can only finish
    // first if the edit gives turns away while it works.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const info = f.server.session.call('library.info', {}).then(() => order.push('library.info'));
    const [reply] = await Promise.all([edit, info]);
    assert.deepEqual(order, ['library.info', 'labels.set']);
    assert.ok(reply.ok, JSON.stringify(reply));
    // Each image once, however often the selection named it.
    const labelled = f.lib.db.prepare("SELECT COUNT(*) AS n FROM images WHERE label = '1'").get() as { n: number };
    const events = f.lib.db.prepare("SELECT COUNT(*) AS n FROM events WHERE source = 'user'").get() as { n: number };
    assert.equal(labelled.n, names.length);
    assert.ok(events.n <= names.length, `${events.n} events for ${names.length} images`);
  });
});

describe('serve: image views', () => {
  test('a 20000-pixel-wide TIFF is shown shrunk to the view size, from the library cache', async (t) => {
    const f = await setup(t);
    await sharp({ create: { width: 20_000, height: 1_500, channels: 3, background: { r: 180, g: 90, b: 30 } } })
      .tiff({ compression: 'lzw' })
      .toFile(join(f.data.imagesDir, 'huge.tif'));
    const end = await importVia(f, { dir: f.data.imagesDir, labels: f.data.labelsCsv });
    assert.equal(end.status, 'done');
    const row = json<{ value: { id: number; width: number; decodeStatus: string } }>(await callWith(f.server, f.cookie, 'images.get', { image: 'huge.tif' })).value;
    assert.equal(row.width, 20_000);
    assert.equal(row.decodeStatus, 'ok');
    const view = await raw(f.server.port, `/api/image/${row.id}`, { headers: { Cookie: f.cookie } });
    assert.equal(view.status, 200, view.body.toString().slice(0, 200));
    assert.equal(view.headers['content-type'], 'image/webp');
    const meta = await sharp(view.body).metadata();
    assert.equal(meta.width, VIEW_SIZE);
    assert.equal(meta.height, Math.round((1_500 * VIEW_SIZE) / 20_000));
    const cached = readdirSync(join(f.lib.cacheDir, 'thumbnails'), { recursive: true }).map(String);
    assert.ok(cached.some((name) => name.endsWith(`-${VIEW_SIZE}.webp`)), cached.join(', '));
    const again = await raw(f.server.port, `/api/image/${row.id}`, { headers: { Cookie: f.cookie } });
    assert.deepEqual(again.body, view.body);
    assert.ok(existsSync(join(f.data.imagesDir, 'huge.tif')), 'the original is untouched');
  });
});
