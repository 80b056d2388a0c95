/**
 * Which weights each architecture can start from, where they are, and putting them into a model.
 * Sources: `imagenet` (Keras's published no-top file, fetched or imported into the per-user cache),
 * `none` (random initialisation), a file (`.h5` or a TensorFlow.js `model.json`), and for inception_v3
 * `nsfwjs`. A source carries the preprocessing its weights were trained with.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { AppError } from '../../../../shared/errors';
import { ARCHITECTURES, HEAD_PREFIX, buildBase } from '../models/index';
import { MODEL_NAMES, TRANSFER_MODELS, isTransfer, type ModelName, type Preprocessing, type TransferModelName } from '../models/types';
import { KERAS_WEIGHTS, fetchHint, kerasFilePath, tfjsDirPath, weightsDir } from './catalog';
import { download, md5OfFile, type DownloadProgress } from './download';
import { loadH5Weights } from './h5';
import type { LoadReport } from './match';
import { NSFWJS_PREPROCESSING, findNsfwjs, loadNsfwjsInceptionV3 } from './nsfwjs';
import { loadTfjsArtifacts, readTfjsModelJson, type TfjsArtifacts } from './tfjs-layers';

export type WeightsFormat = 'h5' | 'tfjs';

const Provenance = z.object({
  source: z.enum(['fetched', 'imported']),
  from: z.string(),
  md5: z.string(),
  /** The MD5 equals Keras's published one (always for fetched files; null for model.json imports). */
  md5Verified: z.boolean().nullable(),
  bytes: z.number(),
  format: z.enum(['h5', 'tfjs']),
  at: z.string(),
  ignoredLayers: z.array(z.string()).optional(),
});
type Provenance = z.infer<typeof Provenance>;

export interface WeightsStatus {
  model: ModelName;
  /** False for scratch, which always starts from random initialisation. */
  pretrained: boolean;
  present: boolean;
  path: string | null;
  format: WeightsFormat | null;
  /** How the file got here; null when it appeared without a record (copied in by hand). */
  source: Provenance['source'] | null;
  md5: string | null;
  md5Verified: boolean | null;
  keras: { fileName: string; url: string; md5: string } | null;
  /** Offline alternatives ('nsfwjs' for inception_v3 when the package is installed). */
  alternatives: 'nsfwjs'[];
}

export interface DirOption {
  /** The weights cache; default `weightsDir()`. */
  dir?: string;
}

function requireTransfer(model: string, what: string): TransferModelName {
  if (isTransfer(model)) return model;
  throw new AppError('BAD_INPUT', `${what}: '${model}' has no pretrained weights; expected one of ${TRANSFER_MODELS.join(', ')}`);
}

function sidecarPath(format: WeightsFormat, model: TransferModelName, dir: string): string {
  return format === 'h5' ? `${kerasFilePath(model, dir)}.json` : join(tfjsDirPath(model, dir), 'provenance.json');
}

function readProvenance(path: string): Provenance | null {
  if (!existsSync(path)) return null;
  try {
    const parsed = Provenance.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function writeProvenance(path: string, p: Provenance): Promise<void> {
  await writeFile(path, `${JSON.stringify(p, null, 2)}\n`);
}

/** The weights file `imagenet` resolves to: Keras's `.h5` first, else an imported model.json. */
function presentFile(model: TransferModelName, dir: string): { path: string; format: WeightsFormat } | null {
  const h5 = kerasFilePath(model, dir);
  if (existsSync(h5)) return { path: h5, format: 'h5' };
  const json = join(tfjsDirPath(model, dir), 'model.json');
  return existsSync(json) ? { path: json, format: 'tfjs' } : null;
}

export function weightsStatus(model: ModelName, opts: DirOption = {}): WeightsStatus {
  const dir = opts.dir ?? weightsDir();
  const base: WeightsStatus = {
    model,
    pretrained: isTransfer(model),
    present: false,
    path: null,
    format: null,
    source: null,
    md5: null,
    md5Verified: null,
    keras: null,
    alternatives: [],
  };
  if (!isTransfer(model)) return base;
  const k = KERAS_WEIGHTS[model];
  base.keras = { fileName: k.fileName, url: k.url, md5: k.md5 };
  if (model === 'inception_v3' && findNsfwjs()) base.alternatives = ['nsfwjs'];
  const file = presentFile(model, dir);
  if (!file) return base;
  const prov = readProvenance(sidecarPath(file.format, model, dir));
  return {
    ...base,
    present: true,
    path: file.path,
    format: file.format,
    source: prov?.source ?? null,
    md5: prov?.md5 ?? null,
    md5Verified: prov?.md5Verified ?? null,
  };
}

/** Every model, scratch included (not pretrained), in the CLI's order. */
export function listWeights(opts: DirOption = {}): WeightsStatus[] {
  return MODEL_NAMES.map((m) => weightsStatus(m, opts));
}

export interface FetchOptions extends DirOption {
  onProgress?: (p: DownloadProgress & { model: TransferModelName }) => void;
  signal?: AbortSignal;
  /** Download again even when a verified copy is present. */
  force?: boolean;
  /** A mirror of Keras's file (the MD5 check still applies), or a test server with its own MD5. */
  source?: { url: string; md5?: string };
  stallTimeoutMs?: number;
}

/** Downloads Keras's no-top file into the cache, checking Keras's MD5; a no-op when a verified copy is there. */
export async function fetchWeights(model: string, opts: FetchOptions = {}): Promise<WeightsStatus> {
  const m = requireTransfer(model, 'weights fetch');
  const dir = opts.dir ?? weightsDir();
  const current = weightsStatus(m, { dir });
  if (!opts.force && current.format === 'h5' && current.md5Verified === true) return current;
  const k = KERAS_WEIGHTS[m];
  const url = opts.source?.url ?? k.url;
  const md5 = opts.source?.md5 ?? k.md5;
  const dest = kerasFilePath(m, dir);
  const { bytes } = await download({
    url,
    dest,
    md5,
    signal: opts.signal,
    stallTimeoutMs: opts.stallTimeoutMs,
    onProgress: opts.onProgress ? (p) => opts.onProgress?.({ ...p, model: m }) : undefined,
    offlineHint: `Without internet, copy ${k.fileName} from a machine that has it and run 'mask-studio weights import ${m} FILE'.`,
  });
  await writeProvenance(sidecarPath('h5', m, dir), {
    source: 'fetched',
    from: url,
    md5,
    md5Verified: md5 === k.md5,
    bytes,
    format: 'h5',
    at: new Date().toISOString(),
  });
  return weightsStatus(m, { dir });
}

/** A randomly initialised base at the smallest input the architecture takes: weights do not depend on it. */
function scratchBase(model: TransferModelName): tf.LayersModel {
  return buildBase(model, { inputSize: ARCHITECTURES[model].minInputSize, initializer: 'zeros' });
}

function md5OfArtifacts(a: TfjsArtifacts): string {
  return createHash('md5').update(JSON.stringify(a.model)).update(a.data).digest('hex');
}

export interface ImportResult {
  status: WeightsStatus;
  report: LoadReport;
}

/**
 * Validates a local `.h5` (Keras layout) or TensorFlow.js `model.json` by loading it into the architecture,
 * then copies it into the cache, where `imagenet` finds it. A model.json may carry a head after the base:
 * its trailing layers are ignored and listed in the report.
 */
export async function importWeights(model: string, file: string, opts: DirOption = {}): Promise<ImportResult> {
  const m = requireTransfer(model, 'weights import');
  const dir = opts.dir ?? weightsDir();
  const src = resolve(file);
  if (!existsSync(src)) throw new AppError('NOT_FOUND', `weights import: no file at ${src}`);
  const base = scratchBase(m);
  try {
    if (extname(src).toLowerCase() === '.json') {
      const a = await readTfjsModelJson(src);
      const report = loadTfjsArtifacts(base, a, { extraSourceLayers: 'ignore' });
      const dest = tfjsDirPath(m, dir);
      const tmp = `${dest}.tmp-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      await mkdir(tmp, { recursive: true });
      await copyFile(src, join(tmp, 'model.json'));
      for (const p of a.model.weightsManifest.flatMap((g) => g.paths)) {
        await mkdir(dirname(join(tmp, p)), { recursive: true });
        await copyFile(join(dirname(src), p), join(tmp, p));
      }
      await writeProvenance(join(tmp, 'provenance.json'), {
        source: 'imported',
        from: src,
        md5: md5OfArtifacts(a),
        md5Verified: null,
        bytes: a.data.byteLength,
        format: 'tfjs',
        at: new Date().toISOString(),
        ignoredLayers: report.ignoredSourceLayers,
      });
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
      return { status: weightsStatus(m, { dir }), report };
    }
    const report = await loadH5Weights(base, src);
    const md5 = await md5OfFile(src);
    const dest = kerasFilePath(m, dir);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${process.pid}`;
    await copyFile(src, tmp);
    await rename(tmp, dest);
    await writeProvenance(sidecarPath('h5', m, dir), {
      source: 'imported',
      from: src,
      md5,
      md5Verified: md5 === KERAS_WEIGHTS[m].md5,
      bytes: (await stat(src)).size,
      format: 'h5',
      at: new Date().toISOString(),
    });
    return { status: weightsStatus(m, { dir }), report };
  } finally {
    base.dispose();
  }
}

export type WeightsSource = 'imagenet' | 'none' | 'nsfwjs' | (string & {});

export interface LoadedWeights {
  source: 'imagenet' | 'none' | 'nsfwjs' | 'file';
  /** How images must be preprocessed for these weights. */
  preprocessing: Preprocessing;
  /** Stable identity of the values (for feature caches): `none`, `md5:<hex>`, or `nsfwjs@<version>`. */
  weightsId: string;
  path: string | null;
  report: LoadReport | null;
}

export interface LoadIntoOptions extends DirOption {
  /** Preprocessing for a file source (default: the architecture's Keras mode). */
  preprocessing?: Preprocessing;
}

/** The base's layers: the classifier's head (`head_*`) never takes saved base weights. */
function baseLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => !l.name.startsWith(HEAD_PREFIX));
}

async function loadFile(model: tf.LayersModel, path: string, format: WeightsFormat): Promise<LoadReport> {
  if (format === 'h5') return loadH5Weights(baseLayers(model), path);
  return loadTfjsArtifacts(baseLayers(model), await readTfjsModelJson(path), { extraSourceLayers: 'ignore' });
}

async function fileId(path: string, format: WeightsFormat): Promise<string> {
  if (format === 'h5') return `md5:${await md5OfFile(path)}`;
  return `md5:${md5OfArtifacts(await readTfjsModelJson(path))}`;
}

/** Puts `source`'s weights into `model` (a base from buildBase or a classifier from buildClassifier). */
export async function loadWeightsInto(
  arch: ModelName,
  model: tf.LayersModel,
  source: WeightsSource,
  opts: LoadIntoOptions = {},
): Promise<LoadedWeights> {
  const dir = opts.dir ?? weightsDir();
  const keras = ARCHITECTURES[arch].preprocessing;
  if (source === 'none') return { source: 'none', preprocessing: keras, weightsId: 'none', path: null, report: null };
  if (source === 'nsfwjs') {
    if (arch !== 'inception_v3') throw new AppError('BAD_INPUT', `the 'nsfwjs' weights are an InceptionV3; '${arch}' cannot use them`);
    const pkg = findNsfwjs();
    const report = loadNsfwjsInceptionV3(baseLayers(model));
    return { source: 'nsfwjs', preprocessing: NSFWJS_PREPROCESSING, weightsId: `nsfwjs@${pkg?.version ?? 'unknown'}`, path: pkg?.modelDir ?? null, report };
  }
  if (source === 'imagenet') {
    const m = requireTransfer(arch, 'imagenet weights');
    const status = weightsStatus(m, { dir });
    if (!status.present || status.path === null || status.format === null) {
      throw new AppError('NOT_FOUND', `no ImageNet weights for ${m} in ${dir}: ${fetchHint(m)}`);
    }
    const report = await loadFile(model, status.path, status.format);
    let md5 = status.md5;
    if (md5 === null) {
      // Copied in by hand: record what it is once, so later runs key their caches without rehashing.
      md5 = (await fileId(status.path, status.format)).slice(4);
      await writeProvenance(sidecarPath(status.format, m, dir), {
        source: 'imported',
        from: status.path,
        md5,
        md5Verified: status.format === 'h5' ? md5 === KERAS_WEIGHTS[m].md5 : null,
        bytes: status.format === 'h5' ? (await stat(status.path)).size : report.values * 4,
        format: status.format,
        at: new Date().toISOString(),
      });
    }
    return { source: 'imagenet', preprocessing: KERAS_WEIGHTS[m].preprocessing, weightsId: `md5:${md5}`, path: status.path, report };
  }
  const path = resolve(source);
  if (!existsSync(path)) {
    throw new AppError('NOT_FOUND', `weights '${source}': not imagenet, none or nsfwjs, and no file at ${path}`);
  }
  const format: WeightsFormat = extname(path).toLowerCase() === '.json' ? 'tfjs' : 'h5';
  const report = await loadFile(model, path, format);
  return { source: 'file', preprocessing: opts.preprocessing ?? keras, weightsId: await fileId(path, format), path, report };
}
