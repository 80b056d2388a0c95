/**
 * `npm run bench -- train-engine [--size 128] [--batch 32] [--steps 6] [--wasm-steps 2] [--threads N]
 * [--no-wasm] [--leak-steps 1000] [--ft-size 224] [--ft-open 36] [--ft-images 1280] [--ft-steps 4] [--ft-wasm-steps 2] [--no-scratch]`:
 * one training step of the scratch CNN (buildScratch defaults, SGD momentum) on ONNX Runtime's training graph
 * beside TensorFlow.js wasm (our gradient kernels), with numpy's matmul as the machine's ceiling measured in
 * the same run: images/s, achieved GFLOP/s (forward + weight and input gradients) and peak RSS; ONNX
 * Runtime with several steps per run (the weights cross into JavaScript once per run) and with one (what
 * that crossing costs per step). Then a stage-2 fine-tuning epoch of InceptionV3 (_train-engine-finetune.ts;
 * `--ft-steps 0` skips it, `--no-scratch` runs it alone) and a leak check: a small model's RSS over many steps.
 *
 * The machine is shared: the load average is printed, and "/cpu-s" figures divide by this process's CPU time
 * (what a step costs when it has the cores to itself).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../electron/core/ml/backend/backend';
import { countTrainingFlops } from '../../electron/core/ml/models/index';
import { buildScratch } from '../../electron/core/ml/models/scratch';
import { onnxruntimeProviders } from '../../electron/core/ml/onnx/runtime';
import { DEFAULT_MICRO_STEPS, OnnxTrainer, trainingThreads } from '../../electron/core/ml/onnx/training/trainer';
import { TfjsEngine } from '../../electron/core/ml/train/engine';
import { seedInit } from '../../electron/core/ml/train/run';
import { Rng } from '../../electron/core/random';
import { numpyCeiling, type Ceiling } from './infer';
import { fineTuneBench } from './_train-engine-finetune';
import { ortMatmulCeiling } from './_ort-ceiling';

interface Args {
  size: number;
  batch: number;
  steps: number;
  wasmSteps: number;
  threads: number | null;
  wasm: boolean;
  leakSteps: number;
  ft: { size: number; open: number; images: number; steps: number; wasmSteps: number };
  scratch: boolean;
}

function parseArgs(argv: string[]): Args {
  const num = (flag: string, dflt: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} must be a non-negative integer; received ${argv[i + 1]}`);
    return v;
  };
  const t = num('--threads', 0);
  return {
    size: num('--size', 128),
    batch: num('--batch', 32),
    steps: num('--steps', 6),
    wasmSteps: num('--wasm-steps', 2),
    threads: t > 0 ? t : null,
    wasm: !argv.includes('--no-wasm'),
    leakSteps: num('--leak-steps', 1000),
    scratch: !argv.includes('--no-scratch'),
    ft: { size: num('--ft-size', 224), open: num('--ft-open', 36), images: num('--ft-images', 1280), steps: num('--ft-steps', 4), wasmSteps: num('--ft-wasm-steps', 2) },
  };
}

interface Rate {
  wallMs: number;
  cpuMs: number;
}

async function timed(steps: number, step: () => Promise<void>): Promise<Rate> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const c = process.cpuUsage(c0);
  return { wallMs: (performance.now() - t0) / steps, cpuMs: (c.user + c.system) / 1000 / steps };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const fmt = (x: number, d = 1, w = 7): string => x.toFixed(d).padStart(w);

function batch(a: Args, seed: number): { x: Float32Array; labels: number[]; weights: number[] } {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: a.batch * a.size * a.size * 3 }, () => rng.next());
  const labels = Array.from({ length: a.batch }, (_, i) => i % 2);
  return { x, labels, weights: labels.map(() => 1) };
}

function row(label: string, a: Args, r: Rate, gflop: number, ceilingWall: number | null): string {
  const ips = (a.batch * 1000) / r.wallMs;
  const pct = ceilingWall === null ? '    -' : `${fmt((100 * ips * gflop) / ceilingWall, 0, 4)}%`;
  return `${label.padEnd(26)} ${fmt(r.wallMs, 0, 6)} ms/step ${fmt(ips, 1)} img/s ${fmt(ips * gflop, 1)} GFLOP/s ${pct} of ceiling | ${fmt((a.batch * 1000) / r.cpuMs, 1)} img/cpu-s`;
}

/** RSS over `steps` steps of a small model: the growth from the first tenth to the end. */
async function leakCheck(steps: number, threads: number): Promise<void> {
  const model = buildScratch({ inputSize: 32, filters: [8, 16], denseUnits: 16 });
  seedInit(model, new Rng(1));
  const t = await OnnxTrainer.create(model, { optimizer: 'adam', lr: 0.001, momentum: 0.9, training: true, seed: 1, threads });
  const rng = new Rng(2);
  const x = new ort.Tensor('float32', Float32Array.from({ length: 8 * 32 * 32 * 3 }, () => rng.next()), [8, 32, 32, 3]);
  const labels = [0, 1, 0, 1, 0, 1, 0, 1];
  const weights = labels.map(() => 1);
  let early = 0;
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) {
    await t.stepsValues([{ x, labels, weights }]);
    if (i === Math.ceil(steps / 10)) early = process.memoryUsage().rss;
  }
  const late = process.memoryUsage().rss;
  await t.dispose();
  model.dispose();
  const growth = (100 * (late - early)) / early;
  console.log(
    `leak check: ${steps} steps of a small scratch CNN (32 px, batch 8, Adam) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
      `RSS ${mb(early)} after ${Math.ceil(steps / 10)} steps, ${mb(late)} after ${steps} (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %; flat means within 5 %)`,
  );
}

export async function run(argv: string[] = []): Promise<void> {
  const a = parseArgs(argv);
  await initBackend('wasm');
  const auto = await trainingThreads();
  const threads = a.threads ?? auto.threads;
  if (!a.scratch) {
    console.log(`machine: ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ONNX Runtime ${threads} threads`);
    return fineTuneBench({ ...a.ft, batch: a.batch, wasmSteps: a.wasm ? a.ft.wasmSteps : 0, threads, spinning: auto.spinning });
  }
  const model = buildScratch({ inputSize: a.size });
  seedInit(model, new Rng(1));
  const gflop = countTrainingFlops(model) / 1e9;
  const providers = onnxruntimeProviders();
  console.log(`train-engine: scratch CNN (buildScratch defaults, ${model.countParams()} parameters) at ${a.size} px, batch ${a.batch}, SGD momentum 0.9`);
  console.log(`  ${gflop.toFixed(3)} GFLOP per image per step (forward + weight and input gradients)`);
  console.log(`machine: ${cpus()[0]?.model ?? '?'} x${availableParallelism()}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`ONNX Runtime ${providers.version}, ${threads} threads${auto.spinning ? '' : ' (no spinning: the cores were busy)'}; TensorFlow.js ${tf.version.tfjs} wasm with our gradient kernels`);

  const b = batch(a, 7);
  const xo = new ort.Tensor('float32', b.x, [a.batch, a.size, a.size, 3]);
  /** Steps per second on ONNX Runtime with `micro` steps per run (rounds of `micro` batches). */
  const ortRun = async (micro: number): Promise<{ rate: Rate; rss: number }> => {
    const trainer = await OnnxTrainer.create(model, { optimizer: 'sgd', lr: 0.01, momentum: 0.9, training: true, seed: 3, threads, spinning: auto.spinning, microSteps: micro });
    const group = Array.from({ length: micro }, () => ({ x: xo, labels: b.labels, weights: b.weights }));
    const round = async (): Promise<void> => {
      await trainer.stepsValues(group);
    };
    await round();
    await round();
    const rounds = Math.max(1, Math.ceil(a.steps / micro));
    const r = await timed(rounds, round);
    await trainer.dispose();
    return { rate: { wallMs: r.wallMs / micro, cpuMs: r.cpuMs / micro }, rss: process.resourceUsage().maxRSS * 1024 };
  };
  // the ceiling is measured three times (before, between and after the ONNX Runtime runs) and the best
  // kept: other processes on a shared machine slow some measurements, never speed one up
  const ceilings = [numpyCeiling()];
  const multi = await ortRun(DEFAULT_MICRO_STEPS);
  ceilings.push(numpyCeiling());
  const ortRate = multi.rate;
  const ortRss = multi.rss;
  const single = await ortRun(1);
  ceilings.push(numpyCeiling());
  const ceiling = ceilings.reduce<Ceiling | null>((best, c) => (c !== null && (best === null || c.wall > best.wall) ? c : best), null);
  const stateBytes = 2 * 4 * model.countParams();

  const walls = ceilings.map((c) => (c === null ? '-' : c.wall.toFixed(0))).join(', ');
  console.log(`ceiling: numpy float32 matmul (2048², all cores): ${ceiling === null ? 'numpy not found' : `${ceiling.wall.toFixed(0)} GFLOP/s wall (best of ${walls}), ${ceiling.cpu.toFixed(0)} per CPU-second`}`);
  console.log(row(`ONNX Runtime, ${DEFAULT_MICRO_STEPS} steps/run`, a, ortRate, gflop, ceiling?.wall ?? null), `| peak RSS ${mb(ortRss)}`);
  console.log(row('ONNX Runtime, 1 step/run', a, single.rate, gflop, ceiling?.wall ?? null));
  const ortCeiling = await ortMatmulCeiling(threads, auto.spinning);
  const stepGflops = ((a.batch * 1000) / ortRate.wallMs) * gflop;
  console.log(
    `ONNX Runtime's own matmul (2048², ${threads} threads): ${ortCeiling.toFixed(0)} GFLOP/s${ceiling ? ` = ${((100 * ortCeiling) / ceiling.wall).toFixed(0)} % of numpy's` : ''}; ` +
      `the step reaches ${((100 * stepGflops) / ortCeiling).toFixed(0)} % of it`,
  );
  if (a.wasm) {
    const engine = new TfjsEngine(model, { optimizer: 'sgd', lr: 0.01, momentum: 0.9 }, true, 3);
    const xt = tf.tensor4d(b.x, [a.batch, a.size, a.size, 3]);
    const wasmStep = async (): Promise<void> => {
      await engine.step(xt, b.labels, b.weights);
    };
    await wasmStep();
    const wasmRate = await timed(a.wasmSteps, wasmStep);
    xt.dispose();
    await engine.dispose();
    console.log(row('TensorFlow.js wasm', a, wasmRate, gflop, ceiling?.wall ?? null), `| peak RSS ${mb(process.resourceUsage().maxRSS * 1024)} (both engines)`);
    console.log(`ONNX Runtime / wasm: ${(wasmRate.wallMs / ortRate.wallMs).toFixed(1)}x wall, ${(wasmRate.cpuMs / ortRate.cpuMs).toFixed(1)}x per CPU-second`);
  }
  console.log(
    `onnxruntime-node returns every output as a new JavaScript buffer: the weights + optimizer state (${mb(stateBytes)}) cost ` +
      `${(single.rate.wallMs - ortRate.wallMs).toFixed(0)} ms per step when they come back every step, vs every ${DEFAULT_MICRO_STEPS} steps`,
  );
  model.dispose();
  if (a.ft.steps > 0) await fineTuneBench({ ...a.ft, batch: a.batch, wasmSteps: a.wasm ? a.ft.wasmSteps : 0, threads, spinning: auto.spinning });
  if (a.leakSteps > 0) await leakCheck(a.leakSteps, threads);
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}
