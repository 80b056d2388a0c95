/**
 * TensorFlow.js layers-format weights (`model.json` + binary shards, as tensorflowjs_converter writes them
 * from Keras or `model.save()` does) read into our models by Keras's layer-order rule. The layer order is
 * the topology's; the manifest lists weights by name (alphabetically for converted Keras models), so each
 * layer's weights are put back in Keras's creation order. Quantized weights are dequantized here as
 * tfjs-core's io `decodeWeights` does: uint8/uint16 → `q * scale + min`, float16 → float32.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../../../../shared/errors';
import { applyWeights, planWeights, type LoadReport, type MatchOptions, type SourceLayer, type WeightsTarget } from './match';

const Quantization = z.object({
  dtype: z.enum(['uint8', 'uint16', 'float16']),
  min: z.number().optional(),
  scale: z.number().optional(),
});

const ManifestEntry = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.string(),
  quantization: Quantization.optional(),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

const LayerJson = z.object({
  class_name: z.string(),
  name: z.string().optional(),
  config: z.object({ name: z.string().optional() }).passthrough(),
});

const ModelConfig = z.object({
  class_name: z.string(),
  config: z.union([z.object({ layers: z.array(LayerJson) }).passthrough(), z.array(LayerJson)]),
});

export const TfjsModelJson = z.object({
  modelTopology: z.union([z.object({ model_config: ModelConfig }).passthrough(), ModelConfig]),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()), weights: z.array(ManifestEntry) })),
});
export type TfjsModelJson = z.infer<typeof TfjsModelJson>;

export interface TopologyLayer {
  name: string;
  className: string;
}

export function parseModelJson(json: unknown, origin: string): TfjsModelJson {
  const parsed = TfjsModelJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown';
    throw new AppError('BAD_INPUT', `${origin} is not a TensorFlow.js layers model.json (${where})`);
  }
  return parsed.data;
}

/** The topology's layers in the model's order (Keras's `model.layers`). */
export function topologyLayers(model: TfjsModelJson): TopologyLayer[] {
  const topo = model.modelTopology;
  const cfg = 'model_config' in topo ? topo.model_config : topo;
  const layers = Array.isArray(cfg.config) ? cfg.config : cfg.config.layers;
  return layers.map((l, i) => ({ name: l.config.name ?? l.name ?? `layer_${i}`, className: l.class_name }));
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function entryBytes(e: ManifestEntry): number {
  const size = e.shape.reduce((a, b) => a * b, 1);
  const per = BYTES[e.quantization ? e.quantization.dtype : e.dtype];
  if (per === undefined) throw new AppError('BAD_INPUT', `weight '${e.name}' has unsupported dtype ${e.dtype}`);
  return size * per;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** One weight's bytes (little-endian, as tfjs writes them) → float32 values. */
export function dequantize(e: ManifestEntry, bytes: Uint8Array): Float32Array {
  const size = e.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(size);
  const q = e.quantization;
  if (q === undefined) {
    if (e.dtype === 'float32') for (let i = 0; i < size; i++) out[i] = view.getFloat32(i * 4, true);
    else if (e.dtype === 'int32') for (let i = 0; i < size; i++) out[i] = view.getInt32(i * 4, true);
    else throw new AppError('BAD_INPUT', `weight '${e.name}' has dtype ${e.dtype}, which cannot become float32`);
    return out;
  }
  if (q.dtype === 'float16') {
    for (let i = 0; i < size; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
    return out;
  }
  if (q.min === undefined || q.scale === undefined) {
    throw new AppError('BAD_INPUT', `weight '${e.name}' is ${q.dtype}-quantized without min and scale`);
  }
  const { min, scale } = q;
  if (q.dtype === 'uint8') for (let i = 0; i < size; i++) out[i] = bytes[i] * scale + min;
  else for (let i = 0; i < size; i++) out[i] = view.getUint16(i * 2, true) * scale + min;
  // tfjs rounds dequantized int32 weights.
  if (e.dtype === 'int32') for (let i = 0; i < size; i++) out[i] = Math.round(out[i]);
  return out;
}

/** Keras's creation order inside a layer; names not listed keep the manifest's order after these. */
const WEIGHT_RANK = ['kernel', 'depthwise_kernel', 'pointwise_kernel', 'recurrent_kernel', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'bias'];

function rank(shortName: string): number {
  const r = WEIGHT_RANK.indexOf(shortName);
  return r < 0 ? WEIGHT_RANK.length : r;
}

/**
 * The topology's layers with their weights, ready for `applyWeights`. `data` is every shard of every group,
 * concatenated in manifest order (what tfjs's loaders do).
 */
export function tfjsSourceLayers(model: TfjsModelJson, data: Uint8Array, origin: string): SourceLayer[] {
  const entries = model.weightsManifest.flatMap((g) => g.weights);
  const spans: { entry: ManifestEntry; start: number; end: number }[] = [];
  let offset = 0;
  for (const entry of entries) {
    const n = entryBytes(entry);
    spans.push({ entry, start: offset, end: offset + n });
    offset += n;
  }
  if (offset !== data.byteLength) {
    throw new AppError('BAD_INPUT', `${origin}: the manifest describes ${offset} bytes of weights but the shards hold ${data.byteLength}`);
  }
  const byLayer = new Map<string, typeof spans>();
  const layers = topologyLayers(model);
  const names = new Set(layers.map((l) => l.name));
  for (const span of spans) {
    const slash = span.entry.name.lastIndexOf('/');
    // Nested names (outer/inner/kernel) belong to the longest topology layer name that prefixes them.
    let owner = slash < 0 ? '' : span.entry.name.slice(0, slash);
    while (owner !== '' && !names.has(owner)) owner = owner.includes('/') ? owner.slice(0, owner.lastIndexOf('/')) : '';
    if (owner === '') continue;
    byLayer.set(owner, [...(byLayer.get(owner) ?? []), span]);
  }
  return layers.map((layer) => {
    const spansOf = [...(byLayer.get(layer.name) ?? [])];
    const short = (n: string): string => n.slice(n.lastIndexOf('/') + 1).replace(/:0$/, '');
    spansOf.sort((a, b) => rank(short(a.entry.name)) - rank(short(b.entry.name)));
    return {
      name: layer.name,
      weights: spansOf.map(({ entry, start, end }) => ({
        name: entry.name,
        shape: entry.shape,
        read: () => dequantize(entry, data.subarray(start, end)),
      })),
    };
  });
}

export interface TfjsArtifacts {
  model: TfjsModelJson;
  data: Uint8Array;
  origin: string;
}

/** Reads a `model.json` and the shard files its manifest names (beside it). */
export async function readTfjsModelJson(path: string): Promise<TfjsArtifacts> {
  const full = resolve(path);
  const origin = basename(full);
  if (!existsSync(full)) throw new AppError('NOT_FOUND', `model.json not found: ${full}`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(full, 'utf8'));
  } catch (err) {
    throw new AppError('BAD_INPUT', `${origin} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const model = parseModelJson(json, origin);
  const shardPaths = model.weightsManifest.flatMap((g) => g.paths).map((p) => join(dirname(full), p));
  const missing = shardPaths.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new AppError('NOT_FOUND', `${origin}: weight shard${missing.length > 1 ? 's' : ''} missing beside it: ${missing.map((p) => basename(p)).join(', ')}`);
  }
  const shards = await Promise.all(shardPaths.map((p) => readFile(p)));
  return { model, data: new Uint8Array(Buffer.concat(shards)), origin };
}

export type TfjsLoadOptions = Omit<MatchOptions, 'origin'>;

export function loadTfjsArtifacts(target: WeightsTarget, a: TfjsArtifacts, opts: TfjsLoadOptions = {}): LoadReport {
  return applyWeights(target, tfjsSourceLayers(a.model, a.data, a.origin), { ...opts, origin: a.origin });
}

export function checkTfjsArtifacts(target: WeightsTarget, a: TfjsArtifacts, opts: TfjsLoadOptions = {}): LoadReport {
  return planWeights(target, tfjsSourceLayers(a.model, a.data, a.origin), { ...opts, origin: a.origin }).report;
}

export async function loadTfjsWeights(target: WeightsTarget, modelJsonPath: string, opts: TfjsLoadOptions = {}): Promise<LoadReport> {
  return loadTfjsArtifacts(target, await readTfjsModelJson(modelJsonPath), opts);
}
