/**
 * `mask-studio serve`'s door: nothing without the token (page, assets, calls, images, the WebSocket), the
 * token moved into an HttpOnly SameSite=Strict cookie, only the library's own images served, and a call,
 * an import job and its events working with the token.
 */
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { openLibrary } from '../../electron/core/library';
import { startServer } from '../../electron/server/server';
import { makeTinyDataset } from '../e2e/tiny-dataset';
import { tempDir } from '../helpers';
import { callWith, login, raw, wsStatus } from '../http-helpers';

async function setup(t: { after(fn: () => void | Promise<void>): void }) {
  const root = tempDir('server', t);
  const rendererDir = join(root, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.js'), 'outside the renderer and the library');
  symlinkSync(join(root, 'secret.js'), join(rendererDir, 'assets', 'link.js'));
  const data = await makeTinyDataset(join(root, 'data'), 8);
  const lib = openLibrary(join(root, 'lib'), { create: true });
  const server = await startServer({ lib, rendererDir, port: 0, log: () => {}, dataRoots: [join(root, 'data')] });
  t.after(async () => {
    await server.close();
    lib.close();
  });
  return { root, data, lib, server };
}

describe('mask-studio serve', () => {
  test('refuses every request without the token, and with a wrong one', async (t) => {
    const { server } = await setup(t);
    assert.equal(server.host, '127.0.0.1');
    assert.ok(server.url.startsWith(`http://127.0.0.1:${server.port}/?token=`));
    for (const path of ['/', '/index.html', '/assets/app.js', '/api/image/1', '/api/image/1?size=thumb', '/api/call']) {
      assert.equal((await raw(server.port, path)).status, 401, `GET ${path}`);
      assert.equal((await raw(server.port, `${path}${path.includes('?') ? '&' : '?'}token=wrong`)).status, 401, `GET ${path} with a wrong token`);
    }
    const post = await raw(server.port, '/api/call', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"method":"library.info","input":{}}' });
    assert.equal(post.status, 401);
    const forged = await raw(server.port, '/api/call', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: `mask_studio_${server.port}=${'x'.repeat(server.token.length)}` },
      body: '{"method":"library.info","input":{}}',
    });
    assert.equal(forged.status, 401);
    assert.equal(await wsStatus(`ws://127.0.0.1:${server.port}/api/events`), 401);
    assert.equal(await wsStatus(`ws://127.0.0.1:${server.port}/api/events?token=nope`), 401);
  });

  test('moves the token into an HttpOnly SameSite=Strict cookie and serves the page with it', async (t) => {
    const { server } = await setup(t);
    const first = await raw(server.port, `/?token=${server.token}`);
    assert.equal(first.status, 303);
    assert.equal(first.headers['location'], '/');
    const cookie = String(first.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const page = await raw(server.port, '/', { headers: { Cookie: cookie.split(';')[0] ?? '' } });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.match(page.body.toString(), /<title>studio<\/title>/);
    const bearer = await raw(server.port, '/assets/app.js', { headers: { Authorization: `Bearer ${server.token}` } });
    assert.equal(bearer.status, 200);
  });

  test('a call works with the token; errors keep their code', async (t) => {
    const { server, lib } = await setup(t);
    const cookie = await login(server);
    const info = await callWith(server, cookie, 'library.info', {});
    assert.equal(info.status, 200);
    const doc = JSON.parse(info.body.toString()) as { ok: boolean; value: { path: string; images: number } };
    assert.equal(doc.ok, true);
    assert.equal(doc.value.path, lib.dir);
    const unknown = await callWith(server, cookie, 'no.such', {});
    assert.equal(unknown.status, 404);
    assert.deepEqual((JSON.parse(unknown.body.toString()) as { error: { code: string } }).error.code, 'UNKNOWN_METHOD');
    const bad = await callWith(server, cookie, 'images.get', { image: -3 });
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.body.toString()) as { error: { code: string } }).error.code, 'BAD_INPUT');
    const form = await raw(server.port, '/api/call', { method: 'POST', headers: { 'Content-Type': 'text/plain', Cookie: cookie }, body: 'method=library.info' });
    assert.equal(form.status, 415);
  });

  test('imports through a job with events on the WebSocket, then serves only the library images', async (t) => {
    const { server, data, lib, root } = await setup(t);
    const cookie = await login(server);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events`, { headers: { Cookie: cookie } });
    await once(ws, 'open');
    const events: Array<{ name: string; payload: { jobId?: string; status?: string } }> = [];
    const finished = new Promise<void>((resolve) => {
      ws.on('message', (m: Buffer) => {
        const e = JSON.parse(m.toString()) as { name: string; payload: { jobId?: string; status?: string } };
        events.push(e);
        if (e.name === 'job.finished') resolve();
      });
    });
    const started = await callWith(server, cookie, 'import.start', { dir: data.imagesDir, labels: data.labelsCsv });
    const jobId = (JSON.parse(started.body.toString()) as { value: { jobId: string } }).value.jobId;
    await finished;
    ws.close();
    const end = events.find((e) => e.name === 'job.finished');
    assert.equal(end?.payload.jobId, jobId);
    assert.equal(end?.payload.status, 'done');
    assert.ok(events.some((e) => e.name === 'library.changed'));

    const list = JSON.parse((await callWith(server, cookie, 'images.list', { filter: { search: data.files[1]?.name ?? '' } })).body.toString()) as {
      value: { rows: Array<{ id: number; path: string }> };
    };
    const row = list.value.rows[0];
    assert.ok(row);
    const full = await raw(server.port, `/api/image/${row.id}`, { headers: { Cookie: cookie } });
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-type'], 'image/jpeg');
    assert.deepEqual(full.body, readFileSync(row.path));

    const thumb = await raw(server.port, `/api/image/${row.id}?size=thumb`, { headers: { Cookie: cookie } });
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers['content-type'], 'image/webp');
    const cached = readdirSync(join(lib.cacheDir, 'thumbnails'), { recursive: true }).map(String).filter((f) => f.endsWith('.webp'));
    assert.equal(cached.length, 1, 'one thumbnail written to the library cache');
    const cachedFile = join(lib.cacheDir, 'thumbnails', cached[0] ?? '');
    const mtime = statSync(cachedFile).mtimeMs;
    const again = await raw(server.port, `/api/image/${row.id}?size=thumb`, { headers: { Cookie: cookie } });
    assert.deepEqual(again.body, thumb.body);
    assert.equal(statSync(cachedFile).mtimeMs, mtime, 'the second request reads the cache');

    const secret = join(root, 'secret.js');
    const refused = [
      '/api/image/999999',
      '/api/image/0',
      '/api/image/-1',
      `/api/image/${encodeURIComponent(secret)}`,
      '/api/image/..%2F..%2F..%2Fetc%2Fpasswd',
      '/api/image/1/../../../etc/passwd',
      '/../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      `/${encodeURIComponent(secret)}`,
      '/assets/link.js',
      '/api/file?path=/etc/passwd',
    ];
    for (const path of refused) {
      const res = await raw(server.port, path, { headers: { Cookie: cookie } });
      assert.ok(res.status === 404 || res.status === 403, `${path} answered ${res.status}`);
      assert.ok(!res.body.toString().includes('outside the renderer') && !res.body.toString().includes('root:'), `${path} leaked a file`);
    }
    const broken = JSON.parse((await callWith(server, cookie, 'images.get', { image: data.truncated })).body.toString()) as { value: { id: number } };
    assert.equal((await raw(server.port, `/api/image/${broken.value.id}`, { headers: { Cookie: cookie } })).status, 404, 'an undecodable file is not served');
  });

  test('refuses a WebSocket from another origin even with the cookie', async (t) => {
    const { server } = await setup(t);
    const cookie = await login(server);
    assert.equal(await wsStatus(`ws://127.0.0.1:${server.port}/api/events`, { Cookie: cookie, Origin: 'http://evil.example' }), 401);
    assert.equal(await wsStatus(`ws://127.0.0.1:${server.port}/api/events`, { Cookie: cookie, Origin: `http://127.0.0.1:${server.port}` }), 'open');
  });
});
