/**
 * Where the doubts' features come from: the frozen, pretrained base of a transfer architecture, run once
 * per image and cached on disk exactly as transfer training caches it (same key: architecture, input size,
 * resize mode, weights identity), so doubts after training, or training after doubts, extract nothing.
 *
 * The scratch CNN has no pretrained base whose features mean anything before training; K-fold scratch
 * training would cost K full trainings. Doubts therefore refuse it and say which backbone to use.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import type { ImageSource, ResizeMode } from '../ml/pixels';
import { getRun } from '../ml/runs/store';
import { ARCHITECTURES, TRANSFER_MODELS, isTransfer, type TransferModelName } from '../ml/models';
import type { Engine } from '../ml/inference/engine';
import type { FeatureExtractor } from '../ml/feature-extractor';
import type { FeatureCache, FeatureKey } from '../ml/inference/features';
import type { BackendPref } from '../ml/train/config';
import { fetchHint, findNsfwjs, weightsStatus } from '../ml/weights';
import { ttaViews, type TtaMode, type TtaView } from '../ml/inference/tta';

/** Length of the pooled feature vector of each base (Keras's include_top=False + GlobalAveragePooling2D). */
export const FEATURE_SIZE: Record<TransferModelName, number> = {
  vgg19: 512,
  inception_v3: 2048,
  inception_resnet_v2: 1536,
  resnet50: 2048,
  xception: 2048,
};

export interface Backbone {
  model: TransferModelName;
  /** imagenet | nsfwjs | a weights file. */
  weights: string;
  inputSize: number;
  resize: ResizeMode;
  /** The training run it was taken from (--run), else null. */
  runId: string | null;
}

export interface BackboneRequest {
  run?: string | undefined;
  model?: string | undefined;
  weights?: string | undefined;
  inputSize?: number | undefined;
  weightsDir?: string | undefined;
}

const USE_TRANSFER = "use a transfer backbone: '--model inception_v3' (the nsfwjs weights work offline) or '--run ID' of a transfer run";

/** The backbone a request names; the default is InceptionV3 with the weights at hand (ImageNet, else nsfwjs). */
export function resolveBackbone(db: Db, req: BackboneRequest): Backbone {
  if (req.run !== undefined && req.model !== undefined) throw new AppError('BAD_INPUT', 'doubts take --run ID or --model NAME, not both');
  if (req.run !== undefined) {
    const run = getRun(db, req.run);
    if (!isTransfer(run.model)) {
      throw new AppError('BAD_INPUT', `run ${run.id} is the ${run.model} model, which has no pretrained base to take features from; ${USE_TRANSFER}`);
    }
    if (run.weightsSource === 'none') {
      throw new AppError('BAD_INPUT', `run ${run.id} trained ${run.model} from random weights: its frozen base says nothing; ${USE_TRANSFER}`);
    }
    // The run's pretrained base, never its fine-tuned checkpoint: fine-tuned layers have learnt the training
    // labels (the wrong ones included), and confident learning needs probabilities no label has shaped
    // except through the out-of-fold heads.
    const resize = run.config['resize'];
    return {
      model: run.model,
      weights: run.weightsSource,
      inputSize: req.inputSize ?? run.inputSize ?? ARCHITECTURES[run.model].defaultInputSize,
      resize: resize === 'crop' || resize === 'letterbox' ? resize : 'fill',
      runId: run.id,
    };
  }
  const model = req.model ?? 'inception_v3';
  if (!isTransfer(model)) {
    throw new AppError(
      'BAD_INPUT',
      model === 'scratch' ? `the scratch CNN has no pretrained base; ${USE_TRANSFER}` : `unknown model '${model}'; expected one of ${TRANSFER_MODELS.join(', ')}`,
    );
  }
  const spec = ARCHITECTURES[model];
  const inputSize = req.inputSize ?? spec.defaultInputSize;
  if (inputSize < spec.minInputSize) throw new AppError('BAD_INPUT', `${model} needs an input size of at least ${spec.minInputSize} px; received ${inputSize}`);
  let weights = req.weights;
  if (weights === undefined) {
    const dir = req.weightsDir !== undefined ? { dir: req.weightsDir } : {};
    if (weightsStatus(model, dir).present) weights = 'imagenet';
    else if (model === 'inception_v3' && findNsfwjs()) weights = 'nsfwjs';
    else throw new AppError('NOT_FOUND', `no pretrained weights for ${model}: ${fetchHint(model)}${model === 'inception_v3' ? '' : "; or use '--model inception_v3' (the nsfwjs weights work offline)"}`);
  }
  if (weights === 'none') throw new AppError('BAD_INPUT', `doubts need pretrained weights; random ones say nothing. ${USE_TRANSFER}`);
  return { model, weights, inputSize, resize: 'fill', runId: null };
}

/** The cache key's weights identity without loading the weights, where it is known up front. */
function knownWeightsId(b: Backbone, weightsDir: string | undefined): string | null {
  if (b.weights === 'nsfwjs') {
    const pkg = findNsfwjs();
    return pkg ? `nsfwjs@${pkg.version}` : null;
  }
  if (b.weights === 'imagenet') {
    const s = weightsStatus(b.model, weightsDir !== undefined ? { dir: weightsDir } : {});
    return s.md5 !== null ? `md5:${s.md5}` : null;
  }
  return null;
}

export interface BackboneFeatures {
  features: Float32Array[];
  /** Images whose features (of the image itself, the first view) were already cached. */
  cached: number;
  /** What computed the missing ones: 'onnx' | 'tfjs', or 'cache' when nothing was computed. */
  engine: string;
  /** Why 'auto' fell back to TensorFlow.js, if it did. */
  fallback: string | null;
}

export interface FeatureOptions {
  engine?: Engine;
  /** TensorFlow.js backend for building the base (ONNX Runtime then runs it); default auto. */
  backend?: BackendPref;
  weightsDir?: string | undefined;
  /**
   * Test-time views whose features are averaged (default: the image alone). Each view's features are cached
   * beside the image's own, under the key a `--tta` training run uses, so either one extracts them once.
   */
  tta?: TtaMode | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: (done: number, total: number) => void;
}

const featureKey = (b: Backbone, weightsId: string): FeatureKey => ({
  architecture: b.model,
  inputSize: b.inputSize,
  resize: b.resize,
  weightsHash: createHash('sha256').update(weightsId).digest('hex'),
});

/** The element-wise mean of each image's views (one array of rows per view, all in source order). */
function meanOfViews(perView: readonly Float32Array[][]): Float32Array[] {
  const first = perView[0] ?? [];
  if (perView.length === 1) return first;
  return first.map((row, i) => {
    const out = new Float32Array(row.length);
    for (const view of perView) {
      const v = view[i] as Float32Array;
      for (let j = 0; j < out.length; j++) out[j] = (out[j] ?? 0) + (v[j] ?? 0);
    }
    for (let j = 0; j < out.length; j++) out[j] = (out[j] ?? 0) / perView.length;
    return out;
  });
}

/** Features for every source, in order; TensorFlow.js and the base load only when something is missing. */
export async function backboneFeatures(cacheDir: string, b: Backbone, sources: readonly ImageSource[], opts: FeatureOptions = {}): Promise<BackboneFeatures> {
  const { extractFeatures } = await import('../ml/inference/features');
  const views = ttaViews(opts.tta ?? 'none');
  const suffix = (v: TtaView): string => (v.name === '' ? '' : `.${v.name}`);
  const total = views.length * sources.length;
  const cache = await knownFeatureCache(cacheDir, b, opts.weightsDir);
  if (cache !== null) {
    const hits = await Promise.all(views.map((v) => Promise.all(sources.map((s) => cache.get(s.sha256, suffix(v))))));
    if (hits.every((view) => view.every((h) => h !== null))) {
      opts.onProgress?.(total, total);
      return { features: meanOfViews(hits.map((view) => view.filter((h) => h !== null))), cached: sources.length, engine: 'cache', fallback: null };
    }
  }
  return withBackboneExtractor(cacheDir, b, opts, async (extractor, cache, fallback) => {
    const perView: Float32Array[][] = [];
    let cached = 0;
    for (const [k, view] of views.entries()) {
      const r = await extractFeatures(extractor, cache, cacheDir, sources, {
        resize: b.resize,
        ...(view.name !== '' ? { view } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (done) => opts.onProgress?.(k * sources.length + done, total),
      });
      perView.push(r.features);
      if (k === 0) cached = r.cached;
    }
    return { features: meanOfViews(perView), cached, engine: extractor.info.engine, fallback };
  });
}

/** The feature cache of a backbone whose weights identity is known without loading them; else null. */
export async function knownFeatureCache(cacheDir: string, b: Backbone, weightsDir: string | undefined): Promise<FeatureCache | null> {
  const known = knownWeightsId(b, weightsDir);
  if (known === null) return null;
  const { FeatureCache } = await import('../ml/inference/features');
  return new FeatureCache(cacheDir, featureKey(b, known), FEATURE_SIZE[b.model]);
}

/**
 * Runs `fn` with the backbone's frozen base on a feature extractor (ONNX Runtime unless told, TensorFlow.js
 * where it cannot load) and the feature cache of its weights; both are released after.
 */
export async function withBackboneExtractor<T>(
  cacheDir: string,
  b: Backbone,
  opts: FeatureOptions,
  fn: (extractor: FeatureExtractor, cache: FeatureCache, fallback: string | null) => Promise<T>,
): Promise<T> {
  const [{ buildBase }, { loadWeightsInto }, { createFeatureExtractor }, { chooseBackend }, { FeatureCache }] = await Promise.all([
    import('../ml/models'),
    import('../ml/weights'),
    import('../ml/inference/engine'),
    import('../ml/backend/train-backend'),
    import('../ml/inference/features'),
  ]);
  await chooseBackend(opts.backend ?? 'auto');
  // zeros: every weight is overwritten by the load, drawing ~22M random numbers first is wasted time
  const base = buildBase(b.model, { inputSize: b.inputSize, pooling: 'avg', initializer: 'zeros' });
  try {
    const loaded = await loadWeightsInto(b.model, base, b.weights, opts.weightsDir !== undefined ? { dir: opts.weightsDir } : {});
    const choice = await createFeatureExtractor(opts.engine ?? 'auto', base, loaded.preprocessing);
    try {
      return await fn(choice.extractor, new FeatureCache(cacheDir, featureKey(b, loaded.weightsId), choice.extractor.featureSize), choice.fallback);
    } finally {
      await choice.extractor.dispose();
    }
  } finally {
    base.dispose();
  }
}
