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
import { TfjsFeatureExtractor } from '../../electron/core/ml/inference/features';
import { ARCHITECTURES, buildBase, countFlops, TRANSFER_MODELS } from '../../electron/core/ml/models/index';
import type { ModelName } from '../../electron/core/ml/models/types';
import { OPSET } from '../../electron/core/ml/onnx/export';
import { OnnxFeatureExtractor } from '../../electron/core/ml/onnx/extractor';
import { defaultThreads, onnxruntimeProviders, releaseSessions } from '../../electron/core/ml/onnx/runtime';
import { seededRandom } from '../../electron/core/random';

interface Args {
  models: ModelName[];
  sizes: Array<number | 'default'>;
  threads: number;
  batch: number;
  seconds: number;
  tfjs: boolean;
  spinning: boolean;
}

async function parseArgs(argv: string[]): Promise<Args> {
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
    threads: Number(get('--threads') ?? (await defaultThreads())),
    batch: Number(get('--batch') ?? 8),
    seconds: Number(get('--seconds') ?? 4),
    tfjs: !argv.includes('--no-tfjs'),
    spinning: !argv.includes('--no-spin'),
  };
}

export interface Ceiling {
  /** GFLOP per wall-clock second. */
  wall: number;
  /** GFLOP per CPU-second of the numpy process. */
  cpu: number;
}

/**
 * numpy's float32 matmul (2048², best of 5, all cores): what this machine's cores can do at best, measured
 * beside every row because other processes' load changes it from minute to minute. Null without numpy.
 */
export function numpyCeiling(): Ceiling | null {
  const code = [
    'import numpy as np, time',
    'a = np.random.rand(2048, 2048).astype(np.float32); b = np.random.rand(2048, 2048).astype(np.float32)',
    'a @ b',
    'runs = []',
    'for _ in range(5):',
    '    t, c = time.perf_counter(), time.process_time(); a @ b',
    '    runs.append((time.perf_counter() - t, time.process_time() - c))',
    'w, c = min(runs)',
    'print(2 * 2048**3 / w / 1e9, 2 * 2048**3 / max(c, 1e-9) / 1e9)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  const [wall, cpu] = r.stdout.trim().split(/\s+/).map(Number);
  return r.status === 0 && wall !== undefined && cpu !== undefined && Number.isFinite(wall + cpu) ? { wall, cpu } : null;
}

function randomBatch(size: number, n: number): ImageBatch {
  const rand = seededRandom(size * 7 + n);
  return { pixels: Uint8Array.from({ length: n * size * size * 3 }, () => Math.floor(rand() * 256)), count: n };
}

interface Rate {
  /** Images per wall-clock second. */
  wall: number;
  /**
   * Images per CPU-second of this process (all its threads): on a machine shared with other processes it
   * shows what the engine does with the cycles it gets; × free cores ≈ the idle machine's figure.
   */
  cpu: number;
}

/** Rates over at least `seconds` (and at least 2 batches) after one warm-up batch. */
async function measure(ex: FeatureExtractor, batch: ImageBatch, seconds: number): Promise<Rate> {
  await ex.extract([batch]);
  let images = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let elapsed = 0;
  for (let runs = 0; runs < 2 || elapsed < seconds * 1000; runs++) {
    await ex.extract([batch]);
    images += batch.count;
    elapsed = performance.now() - t0;
  }
  const cpu = process.cpuUsage(c0);
  return { wall: (images * 1000) / elapsed, cpu: (images * 1e6) / (cpu.user + cpu.system) };
}

const fmt = (x: number, d = 1, width = 7): string => x.toFixed(d).padStart(width);

export async function run(argv: string[] = []): Promise<void> {
  const args = await parseArgs(argv);
  await tf.setBackend('wasm');
  const ort = onnxruntimeProviders();
  console.log(`infer: ONNX Runtime ${ort.version} (opset ${OPSET}, ${ort.providers.filter((p) => p.available).map((p) => p.name).join('+')}, ` +
    `${args.threads} intra-op threads${args.spinning ? '' : ', no spinning'}) vs TensorFlow.js ${tf.version.tfjs} (${tf.getBackend()}); batch ${args.batch}`);
  console.log(`machine: ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, load average ${loadavg()[0]?.toFixed(1)} (shared: figures are noisy)`);
  console.log('ceiling: numpy float32 matmul (2048², all cores), measured before each row; "/cpu-s" = per CPU-second');
  console.log(
    'model                 size GFLOP/img | numpy GFLOP/s /cpu-s | ORT img/s GFLOP/s %ceil /cpu-s | tfjs img/s GFLOP/s /cpu-s | ORT/tfjs',
  );
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
      await onnx.dispose();
      await releaseSessions();
      const pct = ceiling === null ? '     -' : `${fmt((100 * ortRate.wall * gflop) / ceiling.wall, 0)}%`.slice(-6);
      let tfjsCols = `${'-'.padStart(10)} ${'-'.padStart(7)} ${'-'.padStart(6)}`;
      let speedup = '';
      if (args.tfjs) {
        const tfx = new TfjsFeatureExtractor(base, spec.preprocessing);
        const rate = await measure(tfx, batch, args.seconds);
        tfjsCols = `${fmt(rate.wall, 2, 10)} ${fmt(rate.wall * gflop, 1, 7)} ${fmt(rate.cpu * gflop, 0, 6)}`;
        speedup = `${fmt(ortRate.wall / rate.wall, 1, 7)}x`;
      }
      base.dispose();
      const numpy = ceiling === null ? `${'-'.padStart(13)} ${'-'.padStart(6)}` : `${fmt(ceiling.wall, 0, 13)} ${fmt(ceiling.cpu, 0, 6)}`;
      const ortCols = `${fmt(ortRate.wall, 1, 9)} ${fmt(ortRate.wall * gflop, 1, 7)} ${pct.trim().padStart(5)} ${fmt(ortRate.cpu * gflop, 0, 6)}`;
      console.log(`${name.padEnd(20)} ${String(size).padStart(5)} ${fmt(gflop, 2, 9)} | ${numpy} | ${ortCols} | ${tfjsCols} | ${speedup}`);
    }
  }
}
