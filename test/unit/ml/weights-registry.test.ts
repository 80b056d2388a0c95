import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURES, buildBase, buildClassifier } from '../../../electron/core/ml/models/index';
import { TRANSFER_MODELS } from '../../../electron/core/ml/models/types';
import { KERAS_WEIGHTS, kerasFilePath, weightsDir } from '../../../electron/core/ml/weights/catalog';
import { WeightsMismatchError } from '../../../electron/core/ml/weights/match';
import { fetchWeights, importWeights, listWeights, loadWeightsInto, weightsStatus } from '../../../electron/core/ml/weights/registry';
import { AppError } from '../../../shared/errors';
import { smallModel, writeKerasH5 } from './weights-fixtures';

let root = '';
let n = 0;
function cacheDir(): string {
  n += 1;
  return join(root, `cache-${n}`);
}

before(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'weights-registry-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const BODY = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const BODY_MD5 = createHash('md5').update(BODY).digest('hex');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/vgg19.h5`, server };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
}

/** Serves BODY with Range support, in 16 KB chunks; `hold` stops after that many bytes without ending. */
function bodyHandler(opts: { hold?: number; ranges?: string[] } = {}): Handler {
  return (req, res) => {
    const range = req.headers.range;
    opts.ranges?.push(range ?? '');
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    const start = m ? Number(m[1]) : 0;
    const headers: Record<string, string> = { 'content-length': String(BODY.length - start) };
    if (m) headers['content-range'] = `bytes ${start}-${BODY.length - 1}/${BODY.length}`;
    res.writeHead(m ? 206 : 200, headers);
    const end = opts.hold !== undefined && !m ? opts.hold : BODY.length;
    for (let i = start; i < end; i += 16_384) res.write(BODY.subarray(i, Math.min(i + 16_384, end)));
    if (end === BODY.length) res.end();
  };
}

describe('weights catalog and cache', () => {
  test("Keras's five no-top files: official URLs, MD5s, and the preprocessing each architecture uses", () => {
    assert.deepEqual(Object.keys(KERAS_WEIGHTS).sort(), [...TRANSFER_MODELS].sort());
    for (const m of TRANSFER_MODELS) {
      const k = KERAS_WEIGHTS[m];
      assert.match(k.url, /^https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/[a-z0-9_]+\//);
      assert.ok(k.url.endsWith(`/${k.fileName}`));
      assert.match(k.fileName, /_weights_tf_dim_ordering_tf_kernels_notop\.h5$/);
      assert.match(k.md5, /^[0-9a-f]{32}$/);
      assert.equal(k.preprocessing, ARCHITECTURES[m].preprocessing, m);
    }
    assert.equal(KERAS_WEIGHTS.resnet50.url, 'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5');
  });

  test('the cache folder follows MASK_STUDIO_WEIGHTS_DIR, else the data folder', () => {
    assert.equal(weightsDir({ MASK_STUDIO_WEIGHTS_DIR: '/tmp/x/w' }), '/tmp/x/w');
    assert.ok(weightsDir({}).endsWith(join('weights')));
  });

  test('listWeights: every model, scratch not pretrained, nothing present in an empty cache, nsfwjs offered', () => {
    const list = listWeights({ dir: cacheDir() });
    assert.deepEqual(list.map((s) => s.model), ['scratch', 'vgg19', 'inception_v3', 'inception_resnet_v2', 'resnet50', 'xception']);
    assert.equal(list[0]?.pretrained, false);
    assert.ok(list.every((s) => !s.present && s.path === null));
    assert.deepEqual(list.find((s) => s.model === 'inception_v3')?.alternatives, ['nsfwjs']);
    assert.equal(list.find((s) => s.model === 'xception')?.keras?.md5, 'b0042744bf5b25fce3cb969f33bebb97');
  });
});

describe('fetchWeights', () => {
  test('downloads with progress and an MD5 check into <cache>/<model>/<Keras file name>', async () => {
    const { url, server } = await serve(bodyHandler());
    const dir = cacheDir();
    const seen: number[] = [];
    try {
      const status = await fetchWeights('vgg19', { dir, source: { url, md5: BODY_MD5 }, onProgress: (p) => seen.push(p.receivedBytes) });
      assert.equal(status.present, true);
      assert.equal(status.path, kerasFilePath('vgg19', dir));
      assert.equal(status.source, 'fetched');
      assert.equal(status.md5, BODY_MD5);
      assert.equal(status.md5Verified, false, "not Keras's file, so not verified against Keras's MD5");
      assert.deepEqual(readFileSync(kerasFilePath('vgg19', dir)), BODY);
      assert.equal(seen.at(-1), BODY.length);
      assert.ok(seen.every((v, i) => i === 0 || v >= (seen[i - 1] ?? 0)));
    } finally {
      await close(server);
    }
  });

  test('a download whose MD5 differs is refused and removed', async () => {
    const { url, server } = await serve(bodyHandler());
    const dir = cacheDir();
    try {
      await assert.rejects(fetchWeights('resnet50', { dir, source: { url } }), /MD5 [0-9a-f]{32}, not Keras's published 4d473c1dd8becc155b73f8504c6f6626/);
      assert.equal(existsSync(kerasFilePath('resnet50', dir)), false);
      assert.equal(existsSync(`${kerasFilePath('resnet50', dir)}.part`), false);
    } finally {
      await close(server);
    }
  });

  test('no network: a clear IO error that names the offline import command', async () => {
    const { url, server } = await serve(bodyHandler());
    await close(server);
    await assert.rejects(fetchWeights('xception', { dir: cacheDir(), source: { url } }), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'IO');
      assert.match(err.message, /could not download xception_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
      assert.match(err.message, /ECONNREFUSED/);
      assert.match(err.message, /mask-studio weights import xception FILE/);
      return true;
    });
  });

  test('HTTP errors and stalled servers are reported, not hung on', async () => {
    const notFound = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const stalled = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
    });
    try {
      await assert.rejects(fetchWeights('vgg19', { dir: cacheDir(), source: { url: notFound.url } }), /HTTP 404.*mask-studio weights import vgg19/);
      await assert.rejects(fetchWeights('vgg19', { dir: cacheDir(), source: { url: stalled.url }, stallTimeoutMs: 200 }), /no data for 200 ms/);
    } finally {
      await close(notFound.server);
      await close(stalled.server);
    }
  });

  test('cancel keeps the partial file; the next fetch resumes it with a Range request', async () => {
    const ranges: string[] = [];
    const { url, server } = await serve(bodyHandler({ hold: 100_000, ranges }));
    const dir = cacheDir();
    const part = `${kerasFilePath('vgg19', dir)}.part`;
    try {
      const ac = new AbortController();
      await assert.rejects(
        fetchWeights('vgg19', {
          dir,
          source: { url, md5: BODY_MD5 },
          signal: ac.signal,
          // The first report comes with the first chunk; the server then still has more to send.
          onProgress: () => ac.abort(),
        }),
        (err: unknown) => err instanceof AppError && err.code === 'CANCELLED',
      );
      assert.ok(statSync(part).size > 0 && statSync(part).size < BODY.length);
      const status = await fetchWeights('vgg19', { dir, source: { url, md5: BODY_MD5 } });
      assert.equal(status.md5, BODY_MD5);
      assert.deepEqual(readFileSync(kerasFilePath('vgg19', dir)), BODY);
      assert.match(ranges.at(-1) ?? '', /^bytes=\d+-$/);
      assert.equal(existsSync(part), false);
    } finally {
      await close(server);
    }
  });

  test('scratch has nothing to fetch', async () => {
    await assert.rejects(fetchWeights('scratch', { dir: cacheDir() }), /'scratch' has no pretrained weights/);
  });
});

describe('importWeights and loadWeightsInto', () => {
  test('a file for another architecture is refused with the first differing layer and not copied', async () => {
    const path = join(root, 'small.h5');
    await writeKerasH5(path, smallModel());
    const dir = cacheDir();
    await assert.rejects(importWeights('vgg19', path, { dir }), (err: unknown) => {
      assert.ok(err instanceof WeightsMismatchError);
      assert.equal(err.sourceLayer, 'conv_a');
      assert.equal(err.targetLayer, 'block1_conv1');
      return true;
    });
    assert.equal(weightsStatus('vgg19', { dir }).present, false);
  });

  test("an imported Keras .h5 becomes the 'imagenet' source: base weights equal the file's, head untouched", async () => {
    const source = buildBase('vgg19', { inputSize: 32 });
    const path = join(root, 'vgg19-notop.h5');
    await writeKerasH5(path, source, { chunks: 2 });
    const dir = cacheDir();
    const { status, report } = await importWeights('vgg19', path, { dir });
    assert.equal(report.layers.length, 16);
    assert.equal(status.present, true);
    assert.equal(status.source, 'imported');
    assert.equal(status.md5Verified, false);
    assert.equal(status.md5, createHash('md5').update(readFileSync(path)).digest('hex'));

    const clf = buildClassifier('vgg19', { inputSize: 48 });
    const head = Array.from(clf.getLayer('head_dense').getWeights()[0]?.dataSync() ?? []);
    const loaded = await loadWeightsInto('vgg19', clf, 'imagenet', { dir });
    assert.equal(loaded.source, 'imagenet');
    assert.equal(loaded.preprocessing, 'caffe');
    assert.equal(loaded.weightsId, `md5:${status.md5}`);
    for (const name of ['block1_conv1', 'block5_conv4']) {
      const want = source.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
      assert.deepEqual(clf.getLayer(name).getWeights().map((w) => Array.from(w.dataSync())), want, name);
    }
    assert.deepEqual(Array.from(clf.getLayer('head_dense').getWeights()[0]?.dataSync() ?? []), head);

    const fromFile = await loadWeightsInto('vgg19', buildBase('vgg19', { inputSize: 32, initializer: 'zeros' }), path);
    assert.equal(fromFile.source, 'file');
    assert.equal(fromFile.weightsId, loaded.weightsId);

    // The same weights as a TensorFlow.js model.json (+ shard) import into another cache.
    const jsonDir = join(root, 'vgg19-tfjs');
    await source.save(
      tf.io.withSaveHandler(async (a) => {
        if (!(a.weightData instanceof ArrayBuffer) || !a.weightSpecs) throw new Error('unexpected artifacts');
        mkdirSync(jsonDir, { recursive: true });
        writeFileSync(join(jsonDir, 'w.bin'), Buffer.from(a.weightData));
        const manifest = [{ paths: ['w.bin'], weights: a.weightSpecs }];
        writeFileSync(join(jsonDir, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: manifest }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const dir2 = cacheDir();
    const imported = await importWeights('vgg19', join(jsonDir, 'model.json'), { dir: dir2 });
    assert.equal(imported.status.format, 'tfjs');
    assert.equal(imported.status.source, 'imported');
    const viaJson = buildBase('vgg19', { inputSize: 32, initializer: 'zeros' });
    const loadedJson = await loadWeightsInto('vgg19', viaJson, 'imagenet', { dir: dir2 });
    assert.equal(loadedJson.weightsId, `md5:${imported.status.md5}`);
    const want = source.getLayer('block3_conv2').getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(viaJson.getLayer('block3_conv2').getWeights().map((w) => Array.from(w.dataSync())), want);
    viaJson.dispose();
    source.dispose();
    clf.dispose();
  });

  test("'none' leaves the model, missing imagenet weights name the commands, unknown sources are refused", async () => {
    const dir = cacheDir();
    const base = buildBase('resnet50', { inputSize: 32, initializer: 'zeros' });
    const none = await loadWeightsInto('resnet50', base, 'none', { dir });
    assert.deepEqual({ source: none.source, preprocessing: none.preprocessing, weightsId: none.weightsId }, { source: 'none', preprocessing: 'caffe', weightsId: 'none' });
    await assert.rejects(loadWeightsInto('resnet50', base, 'imagenet', { dir }), (err: unknown) => {
      assert.ok(err instanceof AppError && err.code === 'NOT_FOUND');
      assert.match(err.message, /mask-studio weights fetch resnet50/);
      assert.match(err.message, /mask-studio weights import resnet50 FILE/);
      return true;
    });
    await assert.rejects(loadWeightsInto('resnet50', base, join(root, 'nope.h5'), { dir }), /not imagenet, none or nsfwjs/);
    base.dispose();
  });
});
