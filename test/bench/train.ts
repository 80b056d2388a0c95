/**
 * `npm run bench -- train [--models scratch,nsfwjs] [--size 128] [--epochs 40] [--train N] [--val N]
 * [--nsfwjs-size 299] [--backend wasm] [--engines onnx,tfjs] [--seeds 1,2]`: the real-data figures. On Spot the Mask (../shared/data/spot-the-mask
 * from the repo root) a seeded, class-stratified train/val sample (default: every labelled image, 80/20)
 * trains the scratch CNN with default settings except size and epochs, and the nsfwjs InceptionV3's frozen
 * features + head (scratch once per --engines engine and --seeds seed, all on the same sample: learning parity
 * between the engines); prints validation AUC and log loss, training images/s, seconds, and the load average
 * (the machine is shared: wall-clock figures are noisy; CPU seconds say what the work cost).
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { JobRunner } from '../../electron/core/jobs/runner';
import { Rng } from '../../electron/core/random';
import { getRun, runEpochs } from '../../electron/core/ml/runs/store';
import { startTraining } from '../../electron/core/ml/train/start';
import type { TrainInput } from '../../shared/contract';
import { insertImages, labelledRows, tempLibrary, type SplitName, type TempLibrary } from '../integration/ml/train-helpers';

interface Args {
  models: string[];
  size: number;
  epochs: number;
  train: number | null;
  val: number | null;
  nsfwjsSize: number;
  backend: 'auto' | 'wasm' | 'cpu' | 'tensorflow';
  /** Scratch's training engines, each trained on the same sample (learning parity). */
  engines: Array<'onnx' | 'tfjs' | 'auto'>;
  seeds: number[];
}

function parse(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (flag: string, dflt: number | null): number | null => {
    const v = get(flag);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer; received ${v}`);
    return n;
  };
  const backend = get('--backend') ?? 'wasm';
  if (!['auto', 'wasm', 'cpu', 'tensorflow'].includes(backend)) throw new Error(`--backend ${backend}: expected auto, wasm, cpu or tensorflow`);
  return {
    models: (get('--models') ?? 'scratch,nsfwjs').split(','),
    size: int('--size', 128) ?? 128,
    epochs: int('--epochs', 40) ?? 40,
    train: int('--train', null),
    val: int('--val', null),
    nsfwjsSize: int('--nsfwjs-size', 299) ?? 299,
    backend: backend as Args['backend'],
    engines: (get('--engines') ?? 'auto').split(',').map((e) => {
      if (e !== 'onnx' && e !== 'tfjs' && e !== 'auto') throw new Error(`--engines ${e}: expected onnx, tfjs or auto`);
      return e;
    }),
    seeds: (get('--seeds') ?? '42').split(',').map(Number),
  };
}

function sample(data: string, args: Args): Array<{ path: string; label: '0' | '1'; split: SplitName }> {
  const rows = labelledRows(data);
  const rng = new Rng(2024);
  const out: Array<{ path: string; label: '0' | '1'; split: SplitName }> = [];
  for (const c of ['0', '1'] as const) {
    const names = rng.shuffle(rows.filter((r) => r[1] === c).map((r) => r[0]));
    const nTrain = args.train !== null ? Math.floor(args.train / 2) : Math.round(names.length * 0.8);
    const nVal = args.val !== null ? Math.floor(args.val / 2) : names.length - nTrain;
    names.slice(0, nTrain).forEach((n) => out.push({ path: join(data, 'images', n), label: c, split: 'train' }));
    names.slice(nTrain, nTrain + nVal).forEach((n) => out.push({ path: join(data, 'images', n), label: c, split: 'val' }));
  }
  return out;
}

async function trainAndReport(t: TempLibrary, input: TrainInput, label: string): Promise<void> {
  const runner = new JobRunner(t.lib.db, () => {});
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lastPhase = '';
  const start = startTraining(t.lib, runner, input, {
    onMessage: (m) => {
      if (m.type === 'progress' && m.phase !== lastPhase) {
        lastPhase = m.phase;
        process.stderr.write(`  [${((performance.now() - t0) / 1000).toFixed(0)} s] ${label}: ${m.phase}\n`);
      }
      if (m.type === 'epoch') {
        process.stderr.write(`  ${label} epoch ${m.row.epoch}: loss ${m.row.loss.toFixed(3)}, val AUC ${m.row.valAuc?.toFixed(3)}, val log loss ${m.row.valLoss.toFixed(3)}\n`);
      }
    },
  });
  await runner.wait(start.jobId);
  const cpu = process.cpuUsage(cpu0);
  const run = getRun(t.lib.db, start.runId);
  const epochs = runEpochs(t.lib.db, run.id);
  console.log(
    `${label}: ${run.status}${run.error ? ` (${run.error})` : ''}; ${run.trainImages} train / ${run.valImages} val; ` +
      `best epoch ${run.best?.epoch} of ${epochs.length}: val AUC ${run.best?.valAuc?.toFixed(4)}, val log loss ${run.best?.valLogLoss.toFixed(4)}; ` +
      `${run.imagesPerSecond?.toFixed(1)} training images/s on ${run.engine} (${String(run.config['engineProvider'] ?? '-')}), backend ${run.backend} [${run.device}]; ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
}

export async function run(argv: string[]): Promise<void> {
  const args = parse(argv);
  const data = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'spot-the-mask');
  if (!existsSync(join(data, 'labels.csv'))) {
    console.log(`no Spot the Mask data at ${data}: nothing to measure`);
    return;
  }
  const t = tempLibrary('ms-bench-train-');
  try {
    insertImages(t.lib, join(data, 'images'), sample(data, args));
    if (args.models.includes('scratch')) {
      for (const seed of args.seeds) {
        for (const engine of args.engines) {
          await trainAndReport(t, { model: 'scratch', inputSize: args.size, epochs: args.epochs, backend: args.backend, engine, seed }, `scratch ${args.size} px, ${args.epochs} epochs, defaults, engine ${engine}, seed ${seed}`);
        }
      }
    }
    if (args.models.includes('nsfwjs')) {
      await trainAndReport(
        t,
        { model: 'inception_v3', weights: 'nsfwjs', inputSize: args.nsfwjsSize, backend: args.backend },
        `nsfwjs InceptionV3 ${args.nsfwjsSize} px, frozen features + head`,
      );
    }
  } finally {
    t.cleanup();
  }
}
