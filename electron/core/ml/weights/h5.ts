/**
 * Keras `.h5` weights, read with h5wasm by Keras's own rules (keras/src/legacy/saving/legacy_h5_format.py,
 * `load_weights_from_hdf5_group` and `load_attributes_from_hdf5_group`):
 * - the weights live at the root, or under `model_weights` in a whole-model file;
 * - the root attribute `layer_names` lists the layers in the model's order; when it outgrew HDF5's 64 KB
 *   object header Keras split it into `layer_names0`, `layer_names1`, …;
 * - each layer's group has `weight_names` (same splitting rule), paths relative to that group;
 * - layers without weights are skipped, the rest pair with the model's weighted layers in order (or by name).
 * Keras stores kernels as TensorFlow does (HWIO for Conv2D, [in, out] for Dense) and BatchNormalization as
 * gamma, beta, moving_mean, moving_variance (no gamma with scale=False): the layouts tfjs uses, so values
 * are copied as they are. Files saved by the Theano backend (flipped kernels) are refused.
 */
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Dataset, Group } from 'h5wasm/node';
import { AppError } from '../../../../shared/errors';
import { applyWeights, planWeights, type LoadReport, type MatchOptions, type SourceLayer, type WeightsTarget } from './match';

type H5wasm = (typeof import('h5wasm/node'))['default'];
let h5wasmLoading: Promise<H5wasm> | null = null;

/**
 * h5wasm, loaded on first use: importing it makes ~580 MB resident (its WebAssembly heap), which every
 * process that reaches this module through the weights registry paid (`predict`, a scratch run, `doubts`
 * on cached features) without ever reading an .h5 file.
 */
function loadH5wasm(): Promise<H5wasm> {
  h5wasmLoading ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return h5wasmLoading;
}

export interface KerasH5 {
  path: string;
  /** '1' when the file does not say (Keras's own default). */
  kerasVersion: string;
  backend: string | null;
  /** Where `layer_names` was found. */
  group: 'root' | 'model_weights';
  /** Every layer in `layer_names` order, weightless ones included (with no weights). */
  layers: SourceLayer[];
}

export type H5LoadOptions = Omit<MatchOptions, 'origin'>;

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 puts its signature at 0 or, after a user block, at 512, 1024, 2048…; checking first keeps libhdf5's
 * error dump off stderr for files that are not HDF5 at all. */
function hasHdf5Signature(path: string): boolean {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, buf, 0, 8, offset);
      if (buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

function isTypedArray(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function asStringList(value: unknown, what: string): string[] {
  if (typeof value === 'string') return [value.replace(/\0+$/, '')];
  if (Array.isArray(value)) {
    return value.map((v) => {
      if (typeof v !== 'string') throw new AppError('BAD_INPUT', `${what} holds a ${typeof v}, expected strings`);
      return v.replace(/\0+$/, '');
    });
  }
  // Keras writes an empty float64 array for a layer without weights.
  if (isTypedArray(value) && value.length === 0) return [];
  throw new AppError('BAD_INPUT', `${what} is not a list of strings`);
}

/** `load_attributes_from_hdf5_group`: the attribute itself, or its chunks name0, name1, … in order. */
export function readAttributeList(obj: Group, name: string, where: string): string[] | null {
  const attrs = obj.attrs;
  const whole = attrs[name];
  if (whole) return asStringList(whole.value, `${where} attribute '${name}'`);
  if (!attrs[`${name}0`]) return null;
  const out: string[] = [];
  for (let i = 0, chunk = attrs[`${name}0`]; chunk; i++, chunk = attrs[`${name}${i}`]) {
    out.push(...asStringList(chunk.value, `${where} attribute '${name}${i}'`));
  }
  return out;
}

function scalarString(obj: Group, name: string): string | null {
  const attr = obj.attrs[name];
  if (!attr) return null;
  const v = attr.value;
  return typeof v === 'string' ? v.replace(/\0+$/, '') : null;
}

function toFloat32(ds: Dataset, origin: string): Float32Array {
  const v = ds.value;
  if (v instanceof Float32Array) return v;
  if (v instanceof Float64Array) return Float32Array.from(v);
  throw new AppError('BAD_INPUT', `${origin}: dataset ${ds.path} has type ${JSON.stringify(ds.dtype)}; only float32/float64 weights load`);
}

function readLayers(h5wasm: H5wasm, weightsGroup: Group, names: string[], origin: string): SourceLayer[] {
  return names.map((layerName) => {
    const g = weightsGroup.get(layerName);
    if (!(g instanceof h5wasm.Group)) {
      throw new AppError('BAD_INPUT', `${origin}: layer '${layerName}' is listed in layer_names but has no group`);
    }
    const weightNames = readAttributeList(g, 'weight_names', `layer '${layerName}'`) ?? [];
    return {
      name: layerName,
      weights: weightNames.map((wn) => {
        const ds = g.get(wn);
        if (!(ds instanceof h5wasm.Dataset)) {
          throw new AppError('BAD_INPUT', `${origin}: weight '${wn}' of layer '${layerName}' is missing from the file`);
        }
        return { name: wn, shape: (ds.shape ?? []).map(Number), read: () => toFloat32(ds, origin) };
      }),
    };
  });
}

/**
 * Opens a Keras weights file and hands its description to `fn` while the file is open (the layers' `read`
 * work only inside `fn`). Refuses what is not HDF5, has no `layer_names`, or came from Theano.
 */
export async function withKerasH5<T>(path: string, fn: (h5: KerasH5) => T): Promise<T> {
  const full = resolve(path);
  const origin = basename(full);
  if (!existsSync(full)) throw new AppError('NOT_FOUND', `weights file not found: ${full}`);
  if (!hasHdf5Signature(full)) throw new AppError('BAD_INPUT', `${origin} is not an HDF5 file (no HDF5 signature)`);
  const h5wasm = await loadH5wasm();
  const file = new h5wasm.File(full, 'r');
  if (file.file_id < 0n) throw new AppError('BAD_INPUT', `${origin}: HDF5 could not open the file (damaged or truncated?)`);
  try {
    let group: Group = file;
    let where: KerasH5['group'] = 'root';
    let names = readAttributeList(file, 'layer_names', 'root');
    if (names === null) {
      const mw = file.get('model_weights');
      if (mw instanceof h5wasm.Group) {
        group = mw;
        where = 'model_weights';
        names = readAttributeList(mw, 'layer_names', 'model_weights');
      }
    }
    if (names === null) {
      // Keras 3's `.weights.h5` keeps variables under layers/<name>/vars/<i>, without layer_names.
      const keras3 = file.get('layers') instanceof h5wasm.Group || file.get('_layer_checkpoint_dependencies') instanceof h5wasm.Group;
      throw new AppError(
        'BAD_INPUT',
        `${origin} is not a Keras weights file: no 'layer_names' attribute at the root or in 'model_weights'` +
          (keras3 ? " (it looks like Keras 3's .weights.h5 format; save with the legacy HDF5 format, e.g. model.save('x.h5'))" : ''),
      );
    }
    const backend = scalarString(group, 'backend');
    if (backend === 'theano') {
      throw new AppError(
        'BAD_INPUT',
        `${origin} was saved by Keras's Theano backend, whose convolution kernels are flipped; use the TensorFlow-ordered file (…_tf_dim_ordering_tf_kernels…)`,
      );
    }
    const h5: KerasH5 = {
      path: full,
      kerasVersion: scalarString(group, 'keras_version') ?? '1',
      backend,
      group: where,
      layers: readLayers(h5wasm, group, names, origin),
    };
    return fn(h5);
  } finally {
    file.close();
  }
}

/** Loads a Keras `.h5` into `target` (a model, or the list of layers that form the base). */
export async function loadH5Weights(target: WeightsTarget, path: string, opts: H5LoadOptions = {}): Promise<LoadReport> {
  return withKerasH5(path, (h5) => applyWeights(target, h5.layers, { ...opts, origin: basename(h5.path) }));
}

/** What `loadH5Weights` would do, reading shapes only: a cheap validation of a file against an architecture. */
export async function checkH5Weights(target: WeightsTarget, path: string, opts: H5LoadOptions = {}): Promise<LoadReport> {
  return withKerasH5(path, (h5) => planWeights(target, h5.layers, { ...opts, origin: basename(h5.path) }).report);
}
