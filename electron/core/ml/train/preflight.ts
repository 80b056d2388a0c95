/**
 * Before a run does any work: will it fit? A run that trains from pixels holds every image's pixels in
 * memory and writes them to the pixel cache on disk; training holds the weights, their gradients and the
 * optimizer's state, and per batch every layer's activations with their gradients. A configuration past
 * what the machine (or the wasm backend's 4 GiB heap) holds is refused with the sizes that do fit, instead
 * of growing for minutes until the kernel kills it or the backend fails with "memory access out of bounds".
 * No TensorFlow.js here: the figures come from the tables below (test/unit/ml/train-preflight.test.ts
 * checks them against the built models).
 */
import { statfsSync } from 'node:fs';
import { freemem } from 'node:os';
import { dirname } from 'node:path';
import { AppError } from '../../../../shared/errors';
import type { ModelName } from '../../../../shared/names';

/** Sum of every layer's output elements per image, per input pixel (scratch: the built classifier; others: the base). */
export const ACTIVATIONS_PER_PIXEL: Readonly<Record<ModelName, number>> = {
  scratch: 75,
  vgg19: 330,
  resnet50: 740,
  inception_v3: 380,
  inception_resnet_v2: 960,
  xception: 705,
};

/** Parameters of the base without its top (Keras's counts); scratch's depend on the input size (below). */
export const BASE_PARAMS: Readonly<Record<Exclude<ModelName, 'scratch'>, number>> = {
  vgg19: 20_024_384,
  resnet50: 23_587_712,
  inception_v3: 21_802_784,
  inception_resnet_v2: 54_336_736,
  xception: 20_861_480,
};

/** The scratch CNN's default shape (models/scratch.ts DEFAULT_SCRATCH_OPTIONS): its flatten head grows with the input. */
const SCRATCH = { filters: [32, 64, 128], denseUnits: 128 } as const;

export function scratchParams(inputSize: number): number {
  let params = 0;
  let channels = 3;
  let side = inputSize;
  for (const f of SCRATCH.filters) {
    params += 9 * channels * f + f;
    channels = f;
    side = Math.floor(side / 2);
  }
  const flat = side * side * channels;
  return params + flat * SCRATCH.denseUnits + SCRATCH.denseUnits + SCRATCH.denseUnits + 1;
}

/**
 * Bytes a training step holds per activation element: measured on the wasm backend (tf.profile's peak over
 * one step of the scratch CNN and of VGG19, batches 4 to 32): about 5.6 to 5.9 times the forward outputs
 * (the outputs kept for the backward pass, their gradients and the convolutions' temporaries), 4 bytes each.
 */
const ACTIVATION_BYTES = 6 * 4;

export interface PlannedRun {
  model: ModelName;
  inputSize: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam';
  /** Trains from pixels (scratch; fine-tuning on TensorFlow.js): every image's pixels are held in memory. */
  fromPixels: boolean;
  /** Trains through the whole network (scratch, fine-tuning from pixels); else only a head on features. */
  trainsNetwork: boolean;
  /** Images the run decodes (every split), and how many of them the pixel cache lacks at this size. */
  images: number;
  uncached: number;
}

export interface Estimate {
  /** Pixels held in memory (0 when the run trains on features). */
  pixelBytes: number;
  /** Pixel cache the run adds on disk. */
  cacheBytes: number;
  /** Weights, gradients and optimizer state. */
  weightBytes: number;
  /** One batch's activations while training. */
  activationBytes: number;
}

export function estimateRun(p: PlannedRun): Estimate {
  const perImage = p.inputSize * p.inputSize * 3;
  const params = p.model === 'scratch' ? scratchParams(p.inputSize) : BASE_PARAMS[p.model];
  // weights, their gradients, and SGD's momentum or Adam's two moments
  const copies = p.trainsNetwork ? 2 + (p.optimizer === 'adam' ? 2 : 1) : 1;
  return {
    pixelBytes: p.fromPixels ? p.images * perImage : 0,
    cacheBytes: p.fromPixels ? p.uncached * perImage : 0,
    weightBytes: params * 4 * copies,
    activationBytes: p.trainsNetwork ? p.batchSize * p.inputSize * p.inputSize * ACTIVATIONS_PER_PIXEL[p.model] * ACTIVATION_BYTES : 0,
  };
}

export interface Machine {
  /** Memory the system can give the run now (MemAvailable, or the cgroup's limit if lower). */
  memoryBytes: number;
  /** The tensor heap's own ceiling: 4 GiB on wasm (32-bit addresses); null where tensors live in system memory. */
  tensorHeapBytes: number | null;
  backend: string;
  /** Free space where the cache goes; null when it cannot be read. */
  diskFreeBytes: number | null;
}

/** The wasm backend's maximum memory (tfjs-backend-wasm: 65536 pages of 64 KiB), less what its own code uses. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3 * 0.95;
/** What the process needs besides the run (Node, TensorFlow.js, sharp, SQLite). */
const BASELINE_BYTES = 600 * 1024 ** 2;
/** Share of the free memory or disk a run may plan to use: the rest is the machine's. */
const HEADROOM = 0.85;

function existingAncestor(dir: string): string {
  let d = dir;
  for (;;) {
    try {
      statfsSync(d);
      return d;
    } catch {
      const up = dirname(d);
      if (up === d) return d;
      d = up;
    }
  }
}

export function currentMachine(cacheDir: string, wasm: boolean, backend: string): Machine {
  const limit = process.constrainedMemory?.() ?? 0;
  const available = freemem();
  let disk: number | null = null;
  try {
    const s = statfsSync(existingAncestor(cacheDir));
    disk = s.bavail * s.bsize;
  } catch {
    disk = null;
  }
  return {
    memoryBytes: limit > 0 && limit < available ? limit : available,
    tensorHeapBytes: wasm ? WASM_HEAP_BYTES : null,
    backend,
    diskFreeBytes: disk,
  };
}

const gb = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(bytes < 10 * 1024 ** 3 ? 1 : 0)} GB`;

/** Why the run does not fit, or null when it does. */
export function doesNotFit(p: PlannedRun, m: Machine): string | null {
  const e = estimateRun(p);
  const tensors = e.weightBytes + e.activationBytes;
  if (m.tensorHeapBytes !== null && tensors > m.tensorHeapBytes) {
    return `needs about ${gb(tensors)} of tensor memory (weights and optimizer ${gb(e.weightBytes)}, activations of a batch ${gb(e.activationBytes)}) and the ${m.backend} backend holds at most ${gb(m.tensorHeapBytes)}`;
  }
  const memory = e.pixelBytes + tensors + BASELINE_BYTES;
  if (memory > m.memoryBytes * HEADROOM) {
    const pixels = e.pixelBytes > 0 ? `pixels of ${p.images} images ${gb(e.pixelBytes)}, ` : '';
    return `needs about ${gb(memory)} of memory (${pixels}tensors ${gb(tensors)}) and ${gb(m.memoryBytes)} are free`;
  }
  if (m.diskFreeBytes !== null && e.cacheBytes > m.diskFreeBytes * HEADROOM) {
    return `would write a ${gb(e.cacheBytes)} pixel cache and the disk has ${gb(m.diskFreeBytes)} free`;
  }
  return null;
}

/** The largest value in [lo, hi] for which `fits` holds (it holds for small values and not past some point), or null. */
function largest(lo: number, hi: number, fits: (v: number) => boolean): number | null {
  if (!fits(lo)) return null;
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = Math.ceil((a + b) / 2);
    if (fits(mid)) a = mid;
    else b = mid - 1;
  }
  return a;
}

/** Refuses a run that cannot fit, saying what does (a smaller batch, a smaller input size). */
export function preflight(p: PlannedRun, m: Machine, minInputSize: number): void {
  const why = doesNotFit(p, m);
  if (why === null) return;
  const batch = largest(1, p.batchSize, (b) => doesNotFit({ ...p, batchSize: b }, m) === null);
  const exact = largest(minInputSize, p.inputSize, (s) => doesNotFit({ ...p, inputSize: s }, m) === null);
  // a round size to type: the largest multiple of 8 that fits, if there is one above the minimum
  const size = exact === null ? null : Math.floor(exact / 8) * 8 >= minInputSize ? Math.floor(exact / 8) * 8 : exact;
  const fits: string[] = [];
  if (batch !== null) fits.push(`--batch ${batch} at ${p.inputSize} px`);
  if (size !== null) fits.push(`--input-size ${size} at batch ${p.batchSize}`);
  const hint = fits.length > 0 ? `; what fits: ${fits.join(', or ')}` : '; no batch or input size fits this machine with this model';
  throw new AppError('BAD_INPUT', `${p.model} at ${p.inputSize} px, batch ${p.batchSize} ${why}${hint}`);
}
