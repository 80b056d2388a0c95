/**
 * A real pretrained InceptionV3 that works offline: the npm package nsfwjs (MIT) ships a Keras 2.2.4 model
 * converted to TensorFlow.js whose base is Keras's InceptionV3 (94 Conv2D + 94 BatchNormalization without
 * scale, ImageNet-pretrained, then fine-tuned on its own five classes) with a Flatten → Dense head on top.
 * It ships as UMD modules rather than files: `model.min.js` exports the model.json object and each
 * `group1-shardNof6.min.js` a base64 string of one shard; the weights are uint8-quantized. The base was
 * trained on pixels / 255, not Keras's [-1, 1], hence its own preprocessing.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../../../../shared/errors';
import type { Preprocessing } from '../models/types';
import type { LoadReport, WeightsTarget } from './match';
import { checkTfjsArtifacts, loadTfjsArtifacts, parseModelJson, topologyLayers, type TfjsArtifacts } from './tfjs-layers';

export const NSFWJS_PREPROCESSING: Preprocessing = 'unit';
const MODEL_DIR = ['dist', 'models', 'inception_v3'];

export interface NsfwjsPackage {
  root: string;
  version: string;
  modelDir: string;
}

/** Where nsfwjs is installed, or null. Its `exports` map hides the model files, so walk up from its entry. */
export function findNsfwjs(): NsfwjsPackage | null {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('nsfwjs');
  } catch {
    return null;
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const pkgPath = join(dir, 'package.json');
    if (!existsSync(pkgPath)) continue;
    const pkg: unknown = JSON.parse(readFileSync(pkgPath, 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'nsfwjs') {
      const version = 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : 'unknown';
      const modelDir = join(dir, ...MODEL_DIR);
      return existsSync(join(modelDir, 'model.min.js')) ? { root: dir, version, modelDir } : null;
    }
  }
  return null;
}

function requireNsfwjs(): NsfwjsPackage {
  const pkg = findNsfwjs();
  if (!pkg) {
    throw new AppError(
      'NOT_FOUND',
      "the 'nsfwjs' weights need the npm package nsfwjs (with dist/models/inception_v3); install it with 'npm install --save-dev nsfwjs@4.4.0'",
    );
  }
  return pkg;
}

/** The model.json object and the concatenated, still quantized shard bytes. */
export function readNsfwjsInceptionV3(): TfjsArtifacts & { version: string } {
  const pkg = requireNsfwjs();
  // The UMD wrappers are CommonJS (dist/models/package.json says so): require them by absolute path.
  const require = createRequire(import.meta.url);
  const origin = `nsfwjs@${pkg.version} inception_v3`;
  const model = parseModelJson(require(join(pkg.modelDir, 'model.min.js')), origin);
  const shards = model.weightsManifest.flatMap((g) => g.paths).map((p) => {
    const b64: unknown = require(join(pkg.modelDir, `${p}.min.js`));
    if (typeof b64 !== 'string') throw new AppError('BAD_INPUT', `${origin}: shard ${p} is not a base64 string`);
    return Buffer.from(b64, 'base64');
  });
  return { model, data: new Uint8Array(Buffer.concat(shards)), origin, version: pkg.version };
}

/** nsfwjs's head (Flatten → Dense ×3) is not part of InceptionV3: only Dense layers may be left over. */
function checkOnlyHeadLeft(a: TfjsArtifacts, report: LoadReport): void {
  const classes = new Map(topologyLayers(a.model).map((l) => [l.name, l.className]));
  const stray = report.ignoredSourceLayers.filter((n) => classes.get(n) !== 'Dense');
  if (stray.length > 0) {
    throw new AppError(
      'BAD_INPUT',
      `${a.origin}: the model has fewer layers than nsfwjs's InceptionV3 base; base layers left over: ${stray.slice(0, 5).join(', ')}`,
    );
  }
}

/**
 * Loads nsfwjs's InceptionV3 base into `target` (our inception_v3 base, or its layers) by layer order,
 * checking every shape first. Returns the load report; the ignored layers are nsfwjs's own head.
 */
export function loadNsfwjsInceptionV3(target: WeightsTarget): LoadReport {
  const a = readNsfwjsInceptionV3();
  checkOnlyHeadLeft(a, checkTfjsArtifacts(target, a, { extraSourceLayers: 'ignore' }));
  return loadTfjsArtifacts(target, a, { extraSourceLayers: 'ignore' });
}
