/**
 * `npm run bench -- infer [--models a,b] [--sizes 128,default] [--threads N] [--no-spin] [--batch N] [--seconds S]
 * [--no-tfjs]`:
 * frozen-base feature extraction (raw pixels → pooled features) per architecture, ONNX Runtime beside
 * TensorFlow.js (wasm) in one run: images/s and achieved GFLOP/s, with numpy's matmul GFLOP/s measured in
 * the same run as the machine's ceiling. Weights are random (speed does not depend on them).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { FeatureExtractor, ImageBatch } from '../../electron/core/ml/feature-extractor';
import { TfjsFeatureExtractor } from '../../electron/core/ml/features';
import { ARCHITECTURES, buildBase, countFlops, TRANSFER_MODELS } from '../../electron/core/ml/models/index';
import type { ModelName } from '../../electron/core/ml/models/types';
import { OPSET } from '../../electron/core/ml/onnx/export';
import { OnnxFeatureExtractor } from '../../electron/core/ml/onnx/extractor';
import { defaultThreads, onnxruntimeProviders, releaseSessions } from '../../electron/core/ml/onnx/runtime';
import { seededRandom } from '../../electron/core/ml/onnx/random-weights';

interface Args {
  models: ModelName[];
  sizes: Array<number | 'default'>;
  threads: number;
  batch: number;
  seconds: number;
  tfjs: boolean;
  spinning: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const models = (get('--models')?.split(',') ?? [...TRANSFER_MODELS]).map((m) => {
    if (!(m in ARCHITECTURES)) throw new Error(`unknown model '${m}'`);
    return m as ModelName;
  });
  const sizes = (get('--sizes') ?? '128,default').split(',').map((s) => (s === 'default' ? 'default' : Number(s)));
  return {
    models,
    sizes,
    threads: Number(get('--threads') ?? defaultThreads()),
    batch: Number(get('--batch') ?? 8),
    seconds: Number(get('--seconds') ?? 4),
    tfjs: !argv.includes('--no-tfjs'),
    spinning: !argv.includes('--no-spin'),
  };
}

/**
 * numpy's float32 matmul GFLOP/s (2048², best of 5): what this machine's cores can do at best, measured
 * beside every row because other processes' load changes it from minute to minute. Null without numpy.
 */
function numpyCeiling(): number | null {
  const code = [
    'import numpy as np, time',
    'a = np.random.rand(2048, 2048).astype(np.float32); b = np.random.rand(2048, 2048).astype(np.float32)',
    'a @ b',
    'best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))',
    'print(2 * 2048**3 / best / 1e9)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  const v = Number(r.stdout.trim());
  return r.status === 0 && Number.isFinite(v) ? v : null;
}

function randomBatch(size: number, n: number): ImageBatch {
  const rand = seededRandom(size * 7 + n);
  return { pixels: Uint8Array.from({ length: n * size * size * 3 }, () => Math.floor(rand() * 256)), count: n };
}

/** Images/s over at least `seconds` (and at least 2 batches) after one warm-up batch. */
async function measure(ex: FeatureExtractor, batch: ImageBatch, seconds: number): Promise<number> {
  await ex.extract([batch]);
  let images = 0;
  const t0 = performance.now();
  let elapsed = 0;
  for (let runs = 0; runs < 2 || elapsed < seconds * 1000; runs++) {
    await ex.extract([batch]);
    images += batch.count;
    elapsed = performance.now() - t0;
  }
  return (images * 1000) / elapsed;
}

const fmt = (x: number, d = 1): string => x.toFixed(d).padStart(7);

export async function run(argv: string[] = []): Promise<void> {
  const args = parseArgs(argv);
  await tf.setBackend('wasm');
  const ort = onnxruntimeProviders();
  console.log(`infer: ONNX Runtime ${ort.version} (opset ${OPSET}, ${ort.providers.filter((p) => p.available).map((p) => p.name).join('+')}, ` +
    `${args.threads} intra-op threads${args.spinning ? '' : ', no spinning'}) vs TensorFlow.js ${tf.version.tfjs} (${tf.getBackend()}); batch ${args.batch}`);
  console.log(`machine: ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, load average ${loadavg()[0]?.toFixed(1)} (shared: figures are noisy)`);
  console.log('ceiling: numpy float32 matmul (2048², all cores), measured before each row');
  console.log('model                  size  GFLOP/img | numpy GFLOP/s | ORT img/s  GFLOP/s  %ceil | tfjs img/s  GFLOP/s | speed-up');
  for (const name of args.models) {
    const spec = ARCHITECTURES[name];
    for (const s of args.sizes) {
      const size = s === 'default' ? spec.defaultInputSize : s;
      if (size < spec.minInputSize) continue;
      const base = buildBase(name, { inputSize: size, pooling: 'avg' });
      const gflop = countFlops(base) / 1e9;
      const batch = randomBatch(size, args.batch);
      const onnx = await OnnxFeatureExtractor.fromModel(base, spec.preprocessing, { threads: args.threads, maxBatch: args.batch, spinning: args.spinning });
      const ceiling = numpyCeiling();
      const ortRate = await measure(onnx, batch, args.seconds);
      const pct = ceiling === null ? '     -' : `${fmt((100 * ortRate * gflop) / ceiling, 0)}%`.slice(-6);
      await onnx.dispose();
      await releaseSessions();
      let tfjsCols = '         - |        -';
      let speedup = '';
      if (args.tfjs) {
        const tfx = new TfjsFeatureExtractor(base, spec.preprocessing);
        const rate = await measure(tfx, batch, args.seconds);
        tfjsCols = `${fmt(rate, 2)}    ${fmt(rate * gflop)}`;
        speedup = `${fmt(ortRate / rate)}x`;
      }
      base.dispose();
      const numpy = ceiling === null ? '            -' : `      ${fmt(ceiling, 0)}`;
      console.log(
        `${name.padEnd(20)} ${String(size).padStart(5)}  ${fmt(gflop, 2)}   | ${numpy} | ${fmt(ortRate)}  ${fmt(ortRate * gflop)} ${pct} | ${tfjsCols} | ${speedup}`,
      );
    }
  }
}
