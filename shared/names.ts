/**
 * Every list of names the core, the CLI and the renderer share, defined once. Schemas in the contract and
 * the code that branches on these names import them from here, so adding a model or an engine is one edit
 * that the compiler then follows everywhere.
 */

/** The six architectures, scratch first (the order the app lists them). */
/** An ensemble run's model, and its weights source: it has no weights of its own, it averages its members' probabilities. */
export const ENSEMBLE_MODEL = 'ensemble';

export const MODEL_NAMES = ['scratch', 'vgg19', 'inception_v3', 'inception_resnet_v2', 'resnet50', 'xception'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];
/** The five with a pretrained base (Keras Applications' structure and layer names). */
export const TRANSFER_MODELS = ['vgg19', 'inception_v3', 'inception_resnet_v2', 'resnet50', 'xception'] as const;
export type TransferModelName = (typeof TRANSFER_MODELS)[number];
/** Whether a model name has a pretrained base. */
export function isTransfer(name: string): name is TransferModelName {
  return (TRANSFER_MODELS as readonly string[]).includes(name);
}

/** TensorFlow.js backends a person can ask for ('tensorflow' = tfjs-node-gpu, else tfjs-node). */
export const BACKEND_PREFS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPref = (typeof BACKEND_PREFS)[number];
/** The backends `auto` tries, best first. */
export const BACKEND_CANDIDATES = ['tensorflow-gpu', 'tensorflow-cpu', 'wasm', 'cpu'] as const;
/** The backend names a run and the doctor report. */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;

/** ONNX Runtime when it loads ('auto'), or forced: scratch trains on it, transfer models compute features on it, predict runs on it. */
export const ENGINE_PREFS = ['auto', 'onnx', 'tfjs'] as const;
export type EnginePref = (typeof ENGINE_PREFS)[number];

/** Weights named by a word in `train --weights`; anything else there is a file path. */
export const NAMED_WEIGHTS = ['imagenet', 'none', 'nsfwjs'] as const;

export const EXPORT_FORMATS = ['onnx', 'tfjs'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** fill: stretch to the square (as Keras's load_img); crop: centre crop; letterbox: fit inside, pad black. */
export const RESIZE_MODES = ['fill', 'crop', 'letterbox'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * The learning rate over a stage's epochs. constant: `--lr` throughout; cosine: epoch e of E (from 0) trains at
 * lr · ½(1 + cos(π·e/E)), from `--lr` down towards 0 (no restarts, no warm-up).
 */
export const LR_SCHEDULES = ['constant', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/**
 * Test-time augmentation: the probability of an image is the mean over fixed views of it. none: the image;
 * flip: the image and its horizontal mirror; flip-crops: those two plus the centre crop at 90 % of the side
 * (scaled back up) and its mirror. Deterministic: no randomness at test time.
 */
export const TTA_MODES = ['none', 'flip', 'flip-crops'] as const;
export type TtaMode = (typeof TTA_MODES)[number];

/** How label doubts that scored the faces combine them, in words (the CLI and the studio say it alike). */
export const FACES_SCORE_TEXT = "the mean of the photo's probability and the highest of its faces'";
