/**
 * nsfwjs's Keras-converted InceptionV3 base loads into our inception_v3 by layer order, shape by shape, and
 * our network with those weights computes what tfjs computes with nsfwjs's own topology (truncated at
 * mixed10, the end of the base). Runs on wasm at 139 px to stay fast.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import sharp from 'sharp';
import { buildBase, buildClassifier } from '../../../electron/core/ml/models/index';
import { findNsfwjs, loadNsfwjsInceptionV3, readNsfwjsInceptionV3 } from '../../../electron/core/ml/weights/nsfwjs';
import { loadWeightsInto } from '../../../electron/core/ml/weights/registry';
import { REPO_ROOT } from '../../helpers';

const SIZE = 139;
const IMAGES = join(REPO_ROOT, '..', 'shared', 'data', 'spot-the-mask', 'images');

before(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/** RGB in [0, 255], NHWC: a few real Spot the Mask photos when the data is here, else synthetic patterns. */
async function images(n: number): Promise<tf.Tensor4D> {
  if (existsSync(IMAGES)) {
    const files = readdirSync(IMAGES).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, n);
    const pixels = await Promise.all(
      files.map((f) => sharp(join(IMAGES, f)).rotate().removeAlpha().toColourspace('srgb').resize(SIZE, SIZE, { fit: 'fill' }).raw().toBuffer()),
    );
    return tf.tensor4d(Float32Array.from(Buffer.concat(pixels)), [files.length, SIZE, SIZE, 3]);
  }
  console.log(`# ${IMAGES} not found: synthetic images instead`);
  return tf.tidy(() => {
    const ramp = tf.linspace(0, 255, SIZE);
    const rows = ramp.reshape([1, SIZE, 1, 1]).tile([n, 1, SIZE, 3]);
    const cols = ramp.reshape([1, 1, SIZE, 1]).tile([n, SIZE, 1, 3]);
    const k = tf.range(1, n + 1).reshape([n, 1, 1, 1]);
    return rows.mul(k).add(cols.mul(k.mul(0.3))).mod(256) as tf.Tensor4D;
  });
}

interface RawLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

function isRawModel(v: unknown): v is { modelTopology: { model_config: { config: { layers: RawLayer[] } } & Record<string, unknown> } & Record<string, unknown> } {
  return typeof v === 'object' && v !== null && 'modelTopology' in v;
}

/** nsfwjs's own topology cut at mixed10, at our input size, deserialised by tfjs with tfjs's own weight decoder. */
async function nsfwjsReference(): Promise<tf.LayersModel> {
  const pkg = findNsfwjs();
  assert.ok(pkg, 'nsfwjs is installed');
  const raw: unknown = structuredClone(createRequire(import.meta.url)(join(pkg.modelDir, 'model.min.js')));
  assert.ok(isRawModel(raw));
  const cfg = raw.modelTopology.model_config.config as { layers: RawLayer[]; input_layers: unknown; output_layers: unknown };
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const keep = new Set<string>();
  const visit = (name: string): void => {
    if (keep.has(name)) return;
    keep.add(name);
    for (const node of byName.get(name)?.inbound_nodes ?? []) for (const [src] of node) visit(src);
  };
  visit('mixed10');
  cfg.layers = cfg.layers.filter((l) => keep.has(l.name));
  for (const l of cfg.layers) if (l.class_name === 'InputLayer') l.config['batch_input_shape'] = [null, SIZE, SIZE, 3];
  cfg.output_layers = [['mixed10', 0, 0]];
  const a = readNsfwjsInceptionV3();
  const data = a.data.buffer.slice(a.data.byteOffset, a.data.byteOffset + a.data.byteLength);
  const handler = tf.io.fromMemory({
    modelTopology: raw.modelTopology,
    weightSpecs: a.model.weightsManifest.flatMap((g) => g.weights),
    weightData: data,
  });
  return tf.loadLayersModel(handler, { strict: false });
}

describe('nsfwjs InceptionV3 base → our inception_v3', () => {
  test('loads by layer order, every shape checked, layers in the same places as Keras 2 named them', () => {
    const base = buildBase('inception_v3', { inputSize: 75, initializer: 'zeros' });
    const report = loadNsfwjsInceptionV3(base);
    assert.equal(report.layers.length, 188);
    assert.deepEqual(report.ignoredSourceLayers, ['dense_1', 'dense_2', 'dense_3']);
    assert.equal(report.values, base.countParams());
    assert.equal(report.layers.filter((l) => l.target.startsWith('conv2d')).length, 94);
    // Keras 2 numbered from _1, Keras 3 (our names) from no suffix: the k-th conv/BN must pair with the k-th.
    const keras3 = (n: string): string => n.replace(/_(\d+)$/, (_m, d: string) => (d === '1' ? '' : `_${Number(d) - 1}`));
    for (const l of report.layers) assert.equal(l.target, keras3(l.source), `pair ${l.source} → ${l.target}`);
    const convs = report.layers.filter((l) => l.target.startsWith('conv2d'));
    assert.deepEqual(convs[0]?.shapes, [[3, 3, 3, 32]]);
    const bns = report.layers.filter((l) => l.target.startsWith('batch_normalization'));
    assert.ok(bns.every((l) => l.shapes.length === 3), 'BN without scale: beta, moving_mean, moving_variance');
    base.dispose();
  });

  test('our base with the loaded weights computes what nsfwjs computes, and its features vary', async () => {
    const x = await images(3);
    const ours = buildBase('inception_v3', { inputSize: SIZE });
    loadNsfwjsInceptionV3(ours);
    const ref = await nsfwjsReference();
    const input = tf.tidy(() => x.div(255));
    const a = ours.predict(input) as tf.Tensor;
    const b = ref.predict(input) as tf.Tensor;
    assert.deepEqual(a.shape, [3, 3, 3, 2048]);
    assert.deepEqual(b.shape, a.shape);
    const [maxDiff, maxAbs] = tf.tidy(() => [a.sub(b).abs().max().dataSync()[0] ?? NaN, b.abs().max().dataSync()[0] ?? NaN]);
    console.log(`# mixed10 at ${SIZE} px: max |ours - nsfwjs| = ${maxDiff.toExponential(2)}, max |activation| = ${maxAbs.toFixed(2)}`);
    assert.ok(maxAbs > 0, 'activations are not all zero');
    assert.ok(maxDiff <= 1e-4 * Math.max(1, maxAbs), `max |ours - nsfwjs| = ${maxDiff} (max ${maxAbs})`);

    const feats = tf.tidy(() => a.mean([1, 2]));
    const values = feats.dataSync();
    assert.ok(values.every(Number.isFinite), 'finite features');
    const [perImageStd, perFeatureStd] = tf.tidy(() => [
      tf.moments(feats, 0).variance.sqrt().mean().dataSync()[0] ?? 0,
      tf.moments(feats, 1).variance.sqrt().mean().dataSync()[0] ?? 0,
    ]);
    assert.ok(perImageStd > 1e-3, `features differ between images (mean std ${perImageStd})`);
    assert.ok(perFeatureStd > 1e-3, `features differ between dimensions (mean std ${perFeatureStd})`);
    tf.dispose([x, input, a, b, feats]);
    ours.dispose();
    ref.dispose();
  });

  test("loadWeightsInto(…, 'nsfwjs') fills a classifier's base, leaves its head, and says pixels/255", async () => {
    const clf = buildClassifier('inception_v3', { inputSize: 75 });
    const head = clf.getLayer('head_dense').getWeights().map((w) => Array.from(w.dataSync()));
    const loaded = await loadWeightsInto('inception_v3', clf, 'nsfwjs');
    assert.equal(loaded.source, 'nsfwjs');
    assert.equal(loaded.preprocessing, 'unit');
    assert.match(loaded.weightsId, /^nsfwjs@4\.4\.0$/);
    assert.equal(loaded.report?.layers.length, 188);
    assert.deepEqual(clf.getLayer('head_dense').getWeights().map((w) => Array.from(w.dataSync())), head);
    await assert.rejects(loadWeightsInto('vgg19', buildBase('vgg19', { inputSize: 32, initializer: 'zeros' }), 'nsfwjs'), /InceptionV3/);
    clf.dispose();
  });
});
