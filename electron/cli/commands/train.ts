/** `train`, `runs`, `cache clear`, `predict`, `submission`: the training engine from the command line. */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import type { RunInfo, TrainInput } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import { BACKEND_PREFS } from '../../../shared/names';
import { JobRunner } from '../../core/jobs/runner';
import type { Library } from '../../core/library';
import { MODEL_NAMES, type ModelName } from '../../core/ml/models/types';
import { getRun, listRuns } from '../../core/ml/runs/store';
import { UsageError, boolOpt, intOpt, numberOpt, positional, stringOpt, type Command, type ParsedArgs } from '../command';
import type { CliContext } from '../context';

const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

function engineNote(r: RunInfo): string {
  if (r.engine !== 'onnx' && r.engine !== 'tfjs') return '';
  const provider = r.config['engineProvider'];
  return `, features on ${r.engine}${typeof provider === 'string' ? ` (${provider})` : ''}`;
}

function describeRun(r: RunInfo): string {
  const best = r.best ? `best epoch ${r.best.epoch}: val AUC ${fmt(r.best.valAuc, 4)}, log loss ${fmt(r.best.valLogLoss, 4)}` : 'no epoch finished';
  return [
    `run ${r.id}: ${r.model} (${r.weightsSource} weights, ${r.inputSize} px) on ${r.backend}${r.device ? ` [${r.device}]` : ''}${engineNote(r)}: ${r.status}`,
    `  ${best}`,
    `  ${fmt(r.seconds, 1)} s, ${fmt(r.imagesPerSecond, 1)} images/s training, ${r.params ?? '—'} parameters, ${r.trainImages} train / ${r.valImages} val images`,
    ...(r.error ? [`  error: ${r.error}`] : []),
  ].join('\n');
}

/** `--engine auto|onnx|tfjs` (the names are repeated from onnx/engine.ts, which loads TensorFlow.js). */
function engineOpt(args: ParsedArgs): TrainInput['engine'] {
  const engine = stringOpt(args, 'engine');
  if (engine === undefined) return undefined;
  if (engine !== 'auto' && engine !== 'onnx' && engine !== 'tfjs') throw new UsageError(`--engine '${engine}': expected auto, onnx or tfjs`);
  return engine;
}

function trainInput(args: ParsedArgs, model: ModelName): TrainInput {
  const optimizer = stringOpt(args, 'optimizer');
  if (optimizer !== undefined && optimizer !== 'sgd' && optimizer !== 'adam') throw new UsageError(`--optimizer '${optimizer}': expected sgd or adam`);
  const backend = stringOpt(args, 'backend');
  if (backend !== undefined && !(BACKEND_PREFS as readonly string[]).includes(backend)) {
    throw new UsageError(`--backend '${backend}': expected auto, tensorflow, wasm or cpu`);
  }
  const engine = engineOpt(args);
  const resize = stringOpt(args, 'resize');
  if (resize !== undefined && !['fill', 'crop', 'letterbox'].includes(resize)) throw new UsageError(`--resize '${resize}': expected fill, crop or letterbox`);
  const cw = stringOpt(args, 'class-weights');
  let classWeights: TrainInput['classWeights'];
  if (cw === 'none' || cw === 'balanced') classWeights = cw;
  else if (cw !== undefined) {
    const parts = cw.split(',').map(Number);
    if (parts.length !== 2 || parts.some((p) => !(p > 0))) throw new UsageError(`--class-weights '${cw}': expected none, balanced or W0,W1`);
    classWeights = [parts[0] ?? 1, parts[1] ?? 1];
  }
  if (boolOpt(args, 'augment') && boolOpt(args, 'no-augment')) throw new UsageError('--augment and --no-augment contradict each other');
  const input: TrainInput = { model };
  const set = <K extends keyof TrainInput>(k: K, v: TrainInput[K] | undefined): void => {
    if (v !== undefined) input[k] = v;
  };
  set('epochs', intOpt(args, 'epochs', 1));
  set('batchSize', intOpt(args, 'batch', 1));
  set('lr', numberOpt(args, 'lr', (n) => n > 0 && n <= 10));
  set('optimizer', optimizer as TrainInput['optimizer']);
  set('inputSize', intOpt(args, 'input-size', 8));
  set('resize', resize as TrainInput['resize']);
  set('weights', stringOpt(args, 'weights'));
  set('fineTuneLayers', intOpt(args, 'fine-tune-layers', 0));
  set('fineTuneEpochs', intOpt(args, 'fine-tune-epochs', 1));
  set('backend', backend as TrainInput['backend']);
  set('engine', engine);
  set('seed', intOpt(args, 'seed', 0));
  set('patience', intOpt(args, 'patience', 1));
  set('classWeights', classWeights);
  if (boolOpt(args, 'augment')) input.augment = true;
  if (boolOpt(args, 'no-augment')) input.augment = false;
  return input;
}

// TensorFlow.js, the models and the weights load when a command needs them, so that `import`, `audit`
// and the other dataset commands start in a fraction of a second.
const engine = () => import('../../core/ml/train/start');

/** Trains one model to its end with a progress line; Ctrl-C cancels the run (epochs so far are kept). */
async function trainOne(ctx: CliContext, lib: Library, input: TrainInput): Promise<RunInfo> {
  const { startTraining } = await engine();
  const runner = new JobRunner(lib.db, (e) => {
    const p = e.payload;
    if (e.name !== 'job.progress' || !('phase' in p)) return;
    const epoch = p.metrics?.['epoch'];
    const auc = p.metrics?.['bestValAuc'];
    const label = `${input.model}${epoch !== undefined ? ` epoch ${epoch}` : ''}${auc !== undefined ? ` (best val AUC ${auc.toFixed(3)})` : ''}`;
    ctx.progress(label)({ phase: p.phase, done: p.done, total: p.total, etaMs: p.etaMs });
  });
  const start = startTraining(lib, runner, input);
  for (const w of start.warnings.slice(0, 5)) ctx.stderr.write(`warning: unresolved audit error: ${w}\n`);
  if (start.warnings.length > 5) ctx.stderr.write(`warning: … ${start.warnings.length - 5} more unresolved audit errors ('mask-studio findings')\n`);
  const onSigint = (): void => {
    ctx.stderr.write(`\ncancelling run ${start.runId} (the epochs so far are kept)…\n`);
    runner.cancel(start.jobId);
  };
  process.on('SIGINT', onSigint);
  try {
    await runner.wait(start.jobId);
  } finally {
    process.off('SIGINT', onSigint);
  }
  const run = getRun(lib.db, start.runId);
  const fallback = run.config['engineFallback'];
  if (typeof fallback === 'string') ctx.stderr.write(`warning: features computed with TensorFlow.js: ${fallback}\n`);
  return run;
}

/** For --all: each model and the weights it would use, or why it is skipped (the app's "train all" reads the same). */
async function plan(args: ParsedArgs): Promise<Array<{ model: ModelName; weights?: string; skip?: string }>> {
  const { trainModels } = await import('../../core/ml/train/plan');
  const requested = stringOpt(args, 'weights');
  return trainModels().map(({ model, sources, best, reason, help }) => {
    if (model === 'scratch') return { model };
    if (requested !== undefined && requested !== 'imagenet') return requested === 'nsfwjs' && model !== 'inception_v3' ? { model, skip: 'the nsfwjs weights are an InceptionV3' } : { model, weights: requested };
    if (requested === 'imagenet') {
      const imagenet = sources.find((s) => s.weights === 'imagenet');
      return imagenet?.available ? { model, weights: 'imagenet' } : { model, skip: help ?? imagenet?.reason ?? 'no ImageNet weights' };
    }
    return best !== null ? { model, weights: best } : { model, skip: help ?? reason ?? 'no pretrained weights here' };
  });
}

export const train: Command = {
  name: 'train',
  usage:
    'train --model NAME | --all [--epochs N] [--batch N] [--lr F] [--optimizer sgd|adam] [--input-size N] [--resize fill|crop|letterbox] ' +
    '[--weights imagenet|none|nsfwjs|FILE] [--fine-tune-layers N] [--fine-tune-epochs N] [--augment|--no-augment] ' +
    '[--class-weights none|balanced|W0,W1] [--patience N] [--backend auto|tensorflow|wasm|cpu] [--engine auto|onnx|tfjs] [--seed N]',
  summary: `train a model on the library's split (${MODEL_NAMES.join(', ')}); --all trains every model whose weights are present`,
  options: {
    model: { type: 'string' },
    all: { type: 'boolean' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    optimizer: { type: 'string' },
    'input-size': { type: 'string' },
    resize: { type: 'string' },
    weights: { type: 'string' },
    'fine-tune-layers': { type: 'string' },
    'fine-tune-epochs': { type: 'string' },
    augment: { type: 'boolean' },
    'no-augment': { type: 'boolean' },
    'class-weights': { type: 'string' },
    patience: { type: 'string' },
    backend: { type: 'string' },
    engine: { type: 'string' },
    seed: { type: 'string' },
  },
  async run(ctx, args) {
    const model = stringOpt(args, 'model');
    const all = boolOpt(args, 'all');
    if (all === (model !== undefined)) throw new UsageError('train needs --model NAME or --all (not both)');
    const lib = ctx.library(false);
    if (!all) {
      if (!model || !(MODEL_NAMES as readonly string[]).includes(model)) {
        throw new AppError('BAD_INPUT', `unknown model '${model ?? ''}'; expected one of ${MODEL_NAMES.join(', ')}`);
      }
      const run = await trainOne(ctx, lib, trainInput(args, model as ModelName));
      if (run.status === 'failed') throw new AppError('INTERNAL', `run ${run.id} failed: ${run.error ?? 'unknown error'}`);
      if (run.status === 'cancelled') {
        throw new AppError('CANCELLED', `run ${run.id} was cancelled after ${run.best ? `a best epoch ${run.best.epoch}` : 'no complete epoch'}; its epochs are kept ('mask-studio runs')`);
      }
      ctx.print(run, () => describeRun(run));
      return;
    }
    const runs: RunInfo[] = [];
    const skipped: Array<{ model: string; reason: string }> = [];
    // every model's options are checked before the first one trains: a bad flag fails fast, a model the
    // flags do not suit (an input size below its minimum) is skipped with the reason
    const todo: TrainInput[] = [];
    const { resolveConfig } = await import('../../core/ml/train/config');
    for (const p of await plan(args)) {
      const input = trainInput(args, p.model);
      if (p.model === 'scratch') {
        delete input.weights;
        delete input.fineTuneLayers;
      } else if (p.weights !== undefined) input.weights = p.weights;
      let reason = p.skip;
      if (reason === undefined) {
        try {
          resolveConfig(input);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          reason = err.message;
        }
      }
      if (reason !== undefined) {
        skipped.push({ model: p.model, reason });
        ctx.stderr.write(`skipping ${p.model}: ${reason}\n`);
      } else todo.push(input);
    }
    for (const input of todo) {
      const run = await trainOne(ctx, lib, input);
      runs.push(run);
      if (!ctx.json) ctx.stdout.write(`${describeRun(run)}\n`);
      if (run.status === 'cancelled') break;
    }
    ctx.print({ runs, skipped }, () =>
      skipped.length > 0 ? `skipped ${skipped.length}: ${skipped.map((s) => `${s.model} (${s.reason})`).join('; ')}` : 'trained every model',
    );
  },
};

export const runs: Command = {
  name: 'runs',
  usage: 'runs [delete ID]',
  summary: 'list training runs (best epoch, validation AUC and log loss, backend), or delete one',
  options: {},
  async run(ctx, args) {
    const lib = ctx.library(false);
    const [sub, id] = args.positionals;
    if (sub === 'delete') {
      if (!id) throw new UsageError('runs delete needs a run ID');
      const deleted = await (await engine()).deleteRun(lib, id);
      ctx.print({ deleted }, () => `deleted run ${deleted} and its saved model`);
      return;
    }
    if (sub !== undefined) throw new UsageError(`unknown 'runs ${sub}'; try 'runs' or 'runs delete ID'`);
    const list = listRuns(lib.db);
    ctx.print(list, () => {
      if (list.length === 0) return "no runs yet: 'mask-studio train --model scratch'";
      const head = ['id', 'model', 'status', 'backend', 'px', 'best', 'val AUC', 'log loss', 'img/s', 'seconds'];
      const rows = list.map((r) => [
        r.id, r.model, r.status, r.backend, String(r.inputSize), r.best ? String(r.best.epoch) : '—', fmt(r.best?.valAuc, 4),
        fmt(r.best?.valLogLoss, 4), fmt(r.imagesPerSecond, 1), fmt(r.seconds, 0),
      ]);
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
      const hashes = new Set(list.filter((r) => r.status === 'done').map((r) => r.dataHash));
      const note = hashes.size > 1 ? `\nnote: the finished runs saw ${hashes.size} different datasets (labels or split changed between them)` : '';
      return [line(head), ...rows.map(line)].join('\n') + note;
    });
  },
};

export const cache: Command = {
  name: 'cache',
  usage: 'cache clear',
  summary: 'delete the cached preprocessed images and frozen-base features (rebuilt when needed)',
  options: {},
  async run(ctx, args) {
    if (positional(args, 0, "'clear'") !== 'clear') throw new UsageError("the only cache command is 'cache clear'");
    const lib = ctx.library(false);
    await (await engine()).clearCaches(lib);
    ctx.print({ cleared: lib.cacheDir }, () => `cleared the pixel and feature caches in ${lib.cacheDir}`);
  },
};

/** Where each explanation goes: OUT itself for one file; OUT/<name>-gradcam.png for several (OUT a folder). */
function explainTargets(out: string, files: readonly string[]): string[] {
  if (files.length === 1) return [resolvePath(out)];
  if (/\.png$/i.test(out)) throw new UsageError(`--explain ${out}: with ${files.length} files, --explain takes a folder (one PNG per file is written in it)`);
  const used = new Map<string, number>();
  return files.map((f) => {
    const stem = basename(f).replace(/\.[^.]*$/, '');
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    return join(resolvePath(out), `${stem}${n > 1 ? `-${n}` : ''}-gradcam.png`);
  });
}

export const predict: Command = {
  name: 'predict',
  usage: 'predict --run ID FILE... [--engine auto|onnx|tfjs] [--backend auto|wasm|cpu] [--explain OUT.png|DIR] [--layer NAME]',
  summary:
    "a run's probability of the second class for image files (ONNX Runtime when it loads, else TensorFlow.js); " +
    '--explain writes a Grad-CAM heatmap over each image (TensorFlow.js; a folder with several files)',
  options: { run: { type: 'string' }, backend: { type: 'string' }, engine: { type: 'string' }, explain: { type: 'string' }, layer: { type: 'string' } },
  async run(ctx, args) {
    const id = stringOpt(args, 'run');
    if (!id) throw new UsageError('predict needs --run ID');
    if (args.positionals.length === 0) throw new UsageError('predict needs at least one FILE');
    const backend = stringOpt(args, 'backend') ?? 'auto';
    if (!(BACKEND_PREFS as readonly string[]).includes(backend)) throw new UsageError(`--backend '${backend}': expected auto, tensorflow, wasm or cpu`);
    const engine = engineOpt(args) ?? 'auto';
    const explain = stringOpt(args, 'explain');
    const layer = stringOpt(args, 'layer');
    if (layer !== undefined && explain === undefined) throw new UsageError('--layer only goes with --explain');
    if (explain !== undefined && engine === 'onnx') throw new UsageError('--explain needs gradients, which only TensorFlow.js gives: drop --engine onnx');
    const targets = explain !== undefined ? explainTargets(explain, args.positionals) : [];
    const lib = ctx.library(false);
    const { chooseBackend } = await import('../../core/ml/backend/train-backend');
    // the backend is needed on the ONNX path too: the one-time export loads the tfjs checkpoint
    const chosen = await chooseBackend(backend as 'auto');
    if (explain !== undefined) {
      const { explainFiles } = await import('../../core/ml/explain/explain-files');
      const results = await explainFiles(lib, id, args.positionals, layer !== undefined ? { layer } : {});
      if (args.positionals.length > 1) await mkdir(resolvePath(explain), { recursive: true });
      const rows: Array<{ file: string; probability: number; label: string; explanation: string; layer: string; width: number; height: number }> = [];
      for (const [i, r] of results.entries()) {
        const out = targets[i] ?? '';
        await writeFile(out, r.png);
        rows.push({ file: r.file, probability: r.probability, label: r.label, explanation: out, layer: r.layer, width: r.width, height: r.height });
      }
      ctx.print(rows, () =>
        [`Grad-CAM at layer ${results[0]?.layer ?? '?'} (TensorFlow.js on ${chosen.backend}); each map shows the evidence for the predicted class`, ...rows.map((r) => `${r.file}\t${r.probability.toFixed(4)}\t${r.label}\t${r.explanation}`)].join('\n'),
      );
      return;
    }
    const { predictRun } = await import('../../core/ml/inference/predict');
    const result = await predictRun(lib, id, args.positionals, { engine });
    if (result.fallback !== null) ctx.stderr.write(`warning: predicting with TensorFlow.js: ${result.fallback}\n`);
    const out = result.predictions;
    ctx.print(out, () => out.map((p) => `${p.file}\t${p.probability.toFixed(4)}\t${p.label}`).join('\n'));
  },
};

export const submission: Command = {
  name: 'submission',
  usage: 'submission --run ID --out FILE',
  summary: "write the Zindi submission (image,target in the sample's order) from a run's predictions",
  options: { run: { type: 'string' }, out: { type: 'string' } },
  async run(ctx, args) {
    const id = stringOpt(args, 'run');
    const out = stringOpt(args, 'out');
    if (!id || !out) throw new UsageError('submission needs --run ID and --out FILE');
    const { writeSubmission } = await import('../../core/ml/inference/predict');
    const result = await writeSubmission(ctx.library(false), id, out);
    ctx.print(result, () => `wrote ${result.rows} rows to ${result.out} (in the order of ${result.sample})`);
  },
};

export const TRAIN_COMMANDS: readonly Command[] = [train, runs, cache, predict, submission];