/**
 * `npm run bench -- train-kernels [--size 128] [--batch 32] [--batches 4] [--cpu-batches 1] [--cpu-batch 4]
 * [--no-layers]`:
 * training images/s of the scratch CNN (the project's buildScratch defaults) on wasm with our kernels,
 * with the shipped wasm kernels where they exist (Conv2DBackpropFilter and the depthwise gradients have
 * none, so ours stay), and on the cpu backend (smaller batches by default: a batch of 32 takes it ~15
 * minutes); then each conv layer's forward and gradient kernels alone.
 *
 * The machine is shared: besides wall-clock figures it prints figures from this process's CPU time (what
 * the step costs when the cores are free) and the load average.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../electron/core/ml/backend/backend';
import { registerWasmTrainingKernels, restoreShippedKernel } from '../../electron/core/ml/backend/kernels';
import { buildScratch } from '../../electron/core/ml/models/scratch';

interface Args {
  size: number;
  batch: number;
  batches: number;
  cpuBatches: number;
  cpuBatch: number;
  layers: boolean;
}

function parseArgs(argv: string[]): Args {
  const num = (flag: string, dflt: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : dflt;
    if (!Number.isInteger(v) || v < 0) throw new Error(`${flag} must be a non-negative integer; received ${argv[i + 1]}`);
    return v;
  };
  return {
    size: num('--size', 128),
    batch: num('--batch', 32),
    batches: num('--batches', 4),
    cpuBatches: num('--cpu-batches', 1),
    cpuBatch: num('--cpu-batch', 4),
    layers: !argv.includes('--no-layers'),
  };
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

async function timeIt(f: () => Promise<void>): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000 };
}

const REPLACED = ['Conv2DBackpropInput', 'MaxPoolGrad', 'Sum', 'BatchMatMul'];

async function trainSpeed(a: Args, backend: 'wasm' | 'cpu', batches: number): Promise<Timing & { loss: number }> {
  await tf.setBackend(backend);
  const model = buildScratch({ inputSize: a.size });
  model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'binaryCrossentropy' });
  const x = tf.randomUniform([a.batch, a.size, a.size, 3]);
  const y = tf.tidy(() => tf.randomUniform([a.batch, 1]).greater(0.5).cast('float32'));
  let loss = NaN;
  const step = async (): Promise<void> => {
    const out = await model.trainOnBatch(x, y);
    loss = Array.isArray(out) ? (out[0] ?? NaN) : out;
  };
  // warm-up on wasm (XNNPACK operators, first allocations); a cpu batch takes minutes and needs none
  if (backend === 'wasm') await step();
  const before = tf.memory().numTensors;
  const t = await timeIt(async () => {
    for (let i = 0; i < batches; i++) await step();
  });
  const leaked = tf.memory().numTensors - before;
  // without a warm-up the first step also creates the optimizer's momentum slots
  if (leaked !== 0 && backend === 'wasm') console.log(`  warning: ${leaked} tensors leaked over ${batches} batches`);
  tf.dispose([x, y]);
  model.dispose();
  return { wallMs: t.wallMs / batches, cpuMs: t.cpuMs / batches, loss };
}

function line(label: string, a: Args, t: Timing): string {
  const ips = (ms: number): string => {
    const v = (a.batch * 1000) / ms;
    return v >= 10 ? v.toFixed(1) : v.toPrecision(2);
  };
  return (
    `${label.padEnd(34)} ${t.wallMs.toFixed(0).padStart(6)} ms/batch wall = ${ips(t.wallMs).padStart(5)} img/s` +
    ` | CPU ${t.cpuMs.toFixed(0).padStart(6)} ms/batch = ${ips(t.cpuMs).padStart(5)} img/s`
  );
}

/** Best CPU time of `reps` runs of one kernel (inputs made once). */
function kernelMs(kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap, reps = 3): number {
  let best = Infinity;
  for (let r = 0; r <= reps; r++) {
    const c0 = process.cpuUsage();
    const out = tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;
    out.dataSync();
    const c = process.cpuUsage(c0);
    out.dispose();
    if (r > 0) best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}

function layerKernels(a: Args): void {
  console.log(`\nper conv layer of the scratch CNN, batch ${a.batch} (best CPU ms of 3; GFLOP/s of the forward conv):`);
  const shapes: Array<[number, number, number]> = [
    [a.size, 3, 32],
    [a.size / 2, 32, 64],
    [a.size / 4, 64, 128],
  ];
  for (const [h, c, o] of shapes) {
    const x = tf.randomNormal([a.batch, h, h, c]);
    const filter = tf.randomNormal([3, 3, c, o]);
    const dy = tf.randomNormal([a.batch, h, h, o]);
    const conv = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
    const fwd = kernelMs('Conv2D', { x, filter }, conv);
    const dw = kernelMs('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: [3, 3, c, o] });
    const dx = kernelMs('Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: x.shape });
    restoreShippedKernel('Conv2DBackpropInput');
    const dxShipped = kernelMs('Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: x.shape }, 1);
    registerWasmTrainingKernels();
    const gflop = (2 * a.batch * h * h * 9 * c * o) / 1e9;
    console.log(
      `  ${`${h}x${h}x${c} -> ${o}`.padEnd(16)} forward ${fwd.toFixed(0).padStart(4)} ms (${(gflop / (fwd / 1000)).toFixed(1)} GFLOP/s)` +
        ` | dW ours ${dw.toFixed(0).padStart(4)} | dX ours ${dx.toFixed(0).padStart(4)} | dX shipped ${dxShipped.toFixed(0).padStart(5)}`,
    );
    tf.dispose([x, filter, dy]);
  }
}

export async function run(argv: string[] = []): Promise<void> {
  const a = parseArgs(argv);
  const info = await initBackend('wasm');
  console.log(`train-kernels: scratch CNN (buildScratch defaults) at ${a.size} px, batch ${a.batch}, SGD momentum`);
  console.log(`backend ${info.name}, ${info.device}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);

  const ours = await trainSpeed(a, 'wasm', a.batches);
  console.log(line('wasm, our kernels', a, ours));
  for (const k of REPLACED) restoreShippedKernel(k);
  const shipped = await trainSpeed(a, 'wasm', Math.max(1, Math.ceil(a.batches / 2)));
  registerWasmTrainingKernels();
  console.log(line('wasm, shipped kernels where exist', a, shipped));
  if (a.cpuBatches > 0) {
    const cpuArgs = { ...a, batch: a.cpuBatch };
    console.log(line(`cpu backend (batch ${a.cpuBatch})`, cpuArgs, await trainSpeed(cpuArgs, 'cpu', a.cpuBatches)));
  }
  await tf.setBackend('wasm');
  if (a.layers) layerKernels(a);
  console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}
