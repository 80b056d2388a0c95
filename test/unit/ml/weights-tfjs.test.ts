import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { dequantize, loadTfjsWeights, type ManifestEntry } from '../../../electron/core/ml/weights/tfjs-layers';
import { WeightsMismatchError } from '../../../electron/core/ml/weights/match';
import { randomize, smallModel, weightValues } from './weights-fixtures';

let dir = '';
before(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'weights-tfjs-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(u.byteLength);
  copy.set(u);
  return copy.buffer;
}

interface Saved {
  topology: object;
  specs: ManifestEntry[];
  data: Uint8Array;
}

async function save(model: tf.LayersModel): Promise<Saved> {
  let saved: Saved | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const buf = a.weightData;
      if (!(buf instanceof ArrayBuffer) || !a.weightSpecs || typeof a.modelTopology !== 'object' || a.modelTopology === null) {
        throw new Error('unexpected artifacts');
      }
      saved = { topology: a.modelTopology, specs: a.weightSpecs.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype })), data: new Uint8Array(buf) };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (saved === null) throw new Error('not saved');
  return saved;
}

/** Writes model.json + one shard, with the manifest sorted by name as tensorflowjs_converter writes it. */
function writeModelJson(name: string, s: Saved, transform?: (e: ManifestEntry, values: Float32Array) => { entry: ManifestEntry; bytes: Uint8Array }): string {
  let offset = 0;
  const parts = s.specs.map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(s.data.slice(offset, offset + size * 4).buffer);
    offset += size * 4;
    return transform ? transform(e, values) : { entry: e, bytes: new Uint8Array(values.buffer) };
  });
  parts.sort((a, b) => (a.entry.name < b.entry.name ? -1 : 1));
  const folder = join(dir, name);
  rmSync(folder, { recursive: true, force: true });
  writeFileSync(join(dir, `${name}.bin`), Buffer.concat(parts.map((p) => p.bytes)));
  const json = { format: 'layers-model', modelTopology: s.topology, weightsManifest: [{ paths: [`${name}.bin`], weights: parts.map((p) => p.entry) }] };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe('TF.js layers weights', () => {
  test('dequantize agrees with tfjs-core decodeWeights for uint8, uint16, float16, float32 and int32', () => {
    const specs: tf.io.WeightsManifestEntry[] = [
      { name: 'a/kernel', shape: [3, 5], dtype: 'float32', quantization: { dtype: 'uint8', min: -1.25, scale: 0.0123 } },
      { name: 'b/kernel', shape: [7], dtype: 'float32', quantization: { dtype: 'uint16', min: 0.5, scale: 3.1e-5 } },
      { name: 'c/kernel', shape: [2, 4], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'd/kernel', shape: [6], dtype: 'float32' },
      { name: 'e/kernel', shape: [3], dtype: 'int32', quantization: { dtype: 'uint8', min: -10, scale: 0.7 } },
    ];
    const sizes = [15, 14, 16, 24, 3];
    const bytes = randomBytes(sizes.reduce((a, b) => a + b, 0), 42);
    // float32: finite values only, so NaN bit patterns do not muddy the comparison.
    new DataView(bytes.buffer).setFloat32(45, 1.5, true);
    for (let i = 0; i < 6; i++) new DataView(bytes.buffer).setFloat32(45 + 4 * i, (i - 2.5) * 0.37, true);
    const expected = tf.io.decodeWeights(toArrayBuffer(bytes), specs);
    let offset = 0;
    specs.forEach((spec, i) => {
      const n = sizes[i] ?? 0;
      const ours = dequantize(spec, bytes.subarray(offset, offset + n));
      offset += n;
      const theirs = expected[spec.name];
      assert.ok(theirs, spec.name);
      assert.deepEqual(Array.from(ours), Array.from(theirs.dataSync()), spec.name);
    });
    tf.dispose(Object.values(expected));
  });

  test('a model.json saved by tfjs, manifest sorted by name, loads by layer order with equal outputs', async () => {
    const source = smallModel();
    randomize(source, 11);
    const path = writeModelJson('plain', await save(source));
    const target = smallModel({ prefix: 'other_' });
    const report = await loadTfjsWeights(target, path);
    assert.equal(report.layers.length, 5);
    const ws = weightValues(source);
    weightValues(target).forEach((v, i) => assert.deepEqual(Array.from(v), Array.from(ws[i] ?? [])));
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3);
    const ya = source.predict(x) as tf.Tensor;
    const yb = target.predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(yb.dataSync()), Array.from(ya.dataSync()));
    tf.dispose([x, ya, yb]);
  });

  test('uint8-quantized weights are dequantized on load (q * scale + min)', async () => {
    const source = smallModel();
    randomize(source, 12);
    const expected = new Map<string, Float32Array>();
    const path = writeModelJson('quant', await save(source), (entry, values) => {
      let min = Infinity;
      let max = -Infinity;
      for (const v of values) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      const scale = max > min ? (max - min) / 255 : 1;
      const q = Uint8Array.from(values, (v) => Math.round((v - min) / scale));
      expected.set(entry.name, Float32Array.from(q, (b) => b * scale + min));
      return { entry: { ...entry, quantization: { dtype: 'uint8', min, scale } }, bytes: q };
    });
    const target = smallModel();
    await loadTfjsWeights(target, path);
    const names = source.layers.flatMap((l) => l.weights.map((w) => w.originalName));
    const got = weightValues(target);
    const ws = weightValues(source);
    assert.equal(got.length, 12);
    got.forEach((g, i) => {
      const name = names[i] ?? '';
      assert.deepEqual(Array.from(g), Array.from(expected.get(name) ?? []), name);
      const src = ws[i] ?? new Float32Array();
      const tol = (Math.max(...src) - Math.min(...src)) / 255 / 2 + 1e-6;
      g.forEach((v, j) => assert.ok(Math.abs(v - (src[j] ?? NaN)) <= tol, `${name}[${j}]: ${v} vs ${src[j]}`));
    });
  });

  test('a model.json for another architecture is refused with the layer named; missing shards are named', async () => {
    const path = writeModelJson('wide', await save(smallModel({ filters: 7 })));
    await assert.rejects(loadTfjsWeights(smallModel(), path), (err: unknown) => {
      assert.ok(err instanceof WeightsMismatchError);
      assert.equal(err.targetLayer, 'conv_a');
      assert.match(err.message, /\[3,3,3,7\]/);
      return true;
    });
    rmSync(join(dir, 'wide.bin'));
    await assert.rejects(loadTfjsWeights(smallModel(), path), /wide\.bin/);
    writeFileSync(join(dir, 'junk.json'), '{"weightsManifest": 3}');
    await assert.rejects(loadTfjsWeights(smallModel(), join(dir, 'junk.json')), /not a TensorFlow\.js layers model\.json/);
  });
});
