/** `train`, `runs`, `cache clear`, `submission`: the training engine from the command line (`predict` has its own file). */
import type { RunInfo, TrainInput } from '../../../shared/contract';
import { SubmissionOptions } from '../../../shared/contract-compare';
import { AppError } from '../../../shared/errors';
import { describeValidation } from '../../../shared/validation-text';
import { trainedOn } from '../../../shared/scored-on';
import type { Library } from '../../core/library';
import { LR_SCHEDULES, TTA_MODES } from '../../../shared/names';
import { MODEL_NAMES, type ModelName } from '../../core/ml/models/types';
import { getRun, trainingSet } from '../../core/ml/runs/store';
import { recordedTta, scoredTta } from '../../core/ml/inference/tta';
import { UsageError, boolOpt, positional, stringOpt, type Command, type ParsedArgs } from '../command';
import { cliCore, commandLineRoots, given, numeric, parseInput, type FlagNames } from '../contract-call';
import type { CliContext } from '../context';

const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

function engineNote(r: RunInfo): string {
  if (r.engine !== 'onnx' && r.engine !== 'tfjs') return '';
  const provider = r.config['engineProvider'];
  return `, ${r.model === 'scratch' ? 'trained' : 'features'} on ${r.engine}${typeof provider === 'string' ? ` (${provider})` : ''}`;
}

/** What imagesPerSecond counts, in words: cached feature vectors are not images through the network. */
function throughputText(r: RunInfo): string {
  if (r.imagesPerSecond === null) return 'throughput not recorded';
  const n = fmt(r.imagesPerSecond, 1);
  return r.throughputBasis === 'features' ? `${n} cached feature vectors/s (head only; the base ran once per image)` : `${n} images/s training`;
}

/** The run's TTA, and that it was not applied when the run stopped before its final scoring. */
function ttaText(r: RunInfo): string {
  const asked = recordedTta(r.config);
  const scored = scoredTta(r);
  return asked === scored ? asked : `${asked} asked, not applied to its scores (it stopped before its final scoring)`;
}

function describeRun(r: RunInfo): string {
  const k = r.config['folds'];
  const kfold = typeof k === 'number' && k >= 2;
  const best = r.best && kfold
    ? `${k}-fold, out of fold: AUC ${fmt(r.best.valAuc, 4)}, log loss ${fmt(r.best.valLogLoss, 4)} (test and submission: the folds' mean)`
    : r.best
    ? `${r.best.epoch !== null ? `best epoch ${r.best.epoch}` : 'validation'}: val AUC ${fmt(r.best.valAuc, 4)}, log loss ${fmt(r.best.valLogLoss, 4)}`
    : 'no epoch finished';
  return [
    `run ${r.id}: ${r.model} (${r.weightsSource} weights, ${r.inputSize !== null ? `${r.inputSize} px` : 'mixed input sizes'}) on ${r.backend}${r.device ? ` [${r.device}]` : ''}${engineNote(r)}, TTA ${ttaText(r)}${r.faces ? ', faces scored' : ''}: ${r.status}`,
    `  ${best}`,
    `  ${fmt(r.seconds, 1)} s, ${throughputText(r)}, ${r.params ?? '—'} parameters, ${r.trainImages} train / ${r.valImages} val images`,
    ...(r.error ? [`  error: ${r.error}`] : []),
  ].join('\n');
}

/** train.start's fields as typed on the command line. */
const TRAIN_FLAGS: FlagNames = {
  model: '--model', epochs: '--epochs', batchSize: '--batch', lr: '--lr', lrSchedule: '--lr-schedule', optimizer: '--optimizer', inputSize: '--input-size',
  resize: '--resize', weights: '--weights', fineTuneLayers: '--fine-tune-layers', fineTuneEpochs: '--fine-tune-epochs',
  augment: '--augment', backend: '--backend', engine: '--engine', seed: '--seed', patience: '--patience', classWeights: '--class-weights',
  folds: '--folds', tta: '--tta', faces: '--faces',
};

/** The flags as train.start's input, validated by its schema (the limits the app's calls meet too). */
function trainInput(args: ParsedArgs, model: string): TrainInput {
  if (boolOpt(args, 'augment') && boolOpt(args, 'no-augment')) throw new UsageError('--augment and --no-augment contradict each other');
  const cw = stringOpt(args, 'class-weights');
  const raw = given({
    model,
    epochs: numeric(stringOpt(args, 'epochs')),
    batchSize: numeric(stringOpt(args, 'batch')),
    lr: numeric(stringOpt(args, 'lr')),
    lrSchedule: stringOpt(args, 'lr-schedule'),
    optimizer: stringOpt(args, 'optimizer'),
    inputSize: numeric(stringOpt(args, 'input-size')),
    resize: stringOpt(args, 'resize'),
    weights: stringOpt(args, 'weights'),
    fineTuneLayers: numeric(stringOpt(args, 'fine-tune-layers')),
    fineTuneEpochs: numeric(stringOpt(args, 'fine-tune-epochs')),
    augment: boolOpt(args, 'augment') ? true : boolOpt(args, 'no-augment') ? false : undefined,
    backend: stringOpt(args, 'backend'),
    engine: stringOpt(args, 'engine'),
    seed: numeric(stringOpt(args, 'seed')),
    patience: numeric(stringOpt(args, 'patience')),
    folds: numeric(stringOpt(args, 'folds')),
    tta: stringOpt(args, 'tta'),
    faces: boolOpt(args, 'faces') ? true : undefined,
    classWeights: cw === undefined || cw === 'none' || cw === 'balanced' ? cw : cw.split(',').map((w) => numeric(w.trim())),
  });
  return parseInput('train.start', raw, TRAIN_FLAGS);
}

// TensorFlow.js, the models and the weights load when a command needs them, so that `import`, `audit`
// and the other dataset commands start in a fraction of a second (the handlers load them lazily too).
const handlers = async () => (await import('../../core/api/training-handlers')).trainingHandlers;

/** Trains one model to its end with a progress line; Ctrl-C cancels the run (epochs so far are kept). */
async function trainOne(ctx: CliContext, lib: Library, input: TrainInput): Promise<RunInfo> {
  const core = cliCore(ctx, lib, (p) => {
    const epoch = p.metrics?.['epoch'];
    const auc = p.metrics?.['bestValAuc'];
    // a K-fold run's phase names its fold ('fold 2/5: train')
    return `${input.model}${epoch !== undefined ? ` epoch ${epoch}` : ''}${auc !== undefined ? ` (best val AUC ${auc.toFixed(3)})` : ''}`;
  }, commandLineRoots(input.weights !== undefined ? [input.weights] : []));
  const start = await core.call((await handlers())['train.start'], input);
  for (const w of start.warnings.slice(0, 5)) ctx.stderr.write(`warning: unresolved audit error: ${w}\n`);
  if (start.warnings.length > 5) ctx.stderr.write(`warning: … ${start.warnings.length - 5} more unresolved audit errors ('mask-studio audit' lists them)\n`);
  await core.wait(start.jobId, `run ${start.runId}`);
  const run = getRun(lib.db, start.runId);
  const fallback = run.config['engineFallback'];
  if (typeof fallback === 'string') ctx.stderr.write(`warning: ${run.model === 'scratch' ? 'trained' : 'features computed'} with TensorFlow.js: ${fallback}\n`);
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
    `train --model NAME | --all [--epochs N] [--batch N] [--lr F] [--lr-schedule ${LR_SCHEDULES.join('|')}] [--optimizer sgd|adam] [--input-size N] [--resize fill|crop|letterbox] ` +
    '[--weights imagenet|none|nsfwjs|FILE] [--fine-tune-layers N] [--fine-tune-epochs N] [--augment|--no-augment] ' +
    '[--class-weights none|balanced|W0,W1] [--patience N] [--backend auto|tensorflow|wasm|cpu] [--engine auto|onnx|tfjs] [--seed N] [--folds K] ' +
    `[--tta ${TTA_MODES.join('|')}] [--faces]`,
  summary: `train a model on the library's split (${MODEL_NAMES.join(', ')}); --all trains every model whose weights are present`,
  options: {
    model: { type: 'string' },
    all: { type: 'boolean' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'lr-schedule': { type: 'string' },
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
    folds: { type: 'string' },
    tta: { type: 'string' },
    faces: { type: 'boolean' },
  },
  async run(ctx, args) {
    const model = stringOpt(args, 'model');
    const all = boolOpt(args, 'all');
    if (all === (model !== undefined)) throw new UsageError('train needs --model NAME or --all (not both)');
    // every flag is checked, and an empty or unsplit library refused, before anything heavy loads
    const single = model !== undefined ? trainInput(args, model) : null;
    const lib = ctx.library(false);
    trainingSet(lib.db);
    if (single !== null) {
      const run = await trainOne(ctx, lib, single);
      if (run.status === 'failed') throw new AppError('INTERNAL', `run ${run.id} failed: ${run.error ?? 'unknown error'}`);
      if (run.status === 'cancelled') {
        throw new AppError('CANCELLED', `run ${run.id} was cancelled after ${run.best && run.best.epoch !== null ? `a best epoch ${run.best.epoch}` : 'no complete epoch'}; its epochs are kept ('mask-studio runs')`);
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
    trainInput(args, 'scratch');
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
      let run: RunInfo;
      try {
        run = await trainOne(ctx, lib, input);
      } catch (err) {
        // refused before it started (it would not fit this machine): the next model may
        if (!(err instanceof AppError) || err.code !== 'BAD_INPUT') throw err;
        skipped.push({ model: input.model, reason: err.message });
        ctx.stderr.write(`skipping ${input.model}: ${err.message}\n`);
        continue;
      }
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
  summary: 'list training runs (what trained them, best epoch, validation AUC and log loss), or delete one',
  options: {},
  async run(ctx, args) {
    const lib = ctx.library(false);
    const [sub, id] = args.positionals;
    if (sub === 'delete') {
      if (!id) throw new UsageError('runs delete needs a run ID');
      const { deleted } = await cliCore(ctx, lib, () => '').call((await handlers())['runs.delete'], parseInput('runs.delete', { id }, { id: 'ID' }));
      ctx.print({ deleted }, () => `deleted run ${deleted} and its saved model`);
      return;
    }
    if (sub !== undefined) throw new UsageError(`unknown 'runs ${sub}'; try 'runs' or 'runs delete ID'`);
    const list = await cliCore(ctx, lib, () => '').call((await handlers())['runs.list'], parseInput('runs.list', {}, {}));
    ctx.print(list, () => {
      if (list.length === 0) return "no runs yet: 'mask-studio train --model scratch'";
      const head = ['id', 'model', 'status', 'trained on', 'px', 'best', 'val AUC', 'log loss', 'img/s', 'seconds'];
      const rows = list.map((r) => [
        r.id, `${r.model}${r.folds ? ` (${r.folds.k}-fold${r.folds.finished.length < r.folds.k ? `, ${r.folds.finished.length} finished` : ''})` : ''}${r.faces ? ' + faces' : ''}`, r.status, trainedOn(r), r.inputSize !== null ? String(r.inputSize) : 'mixed', r.best && r.best.epoch !== null ? String(r.best.epoch) : '—', fmt(r.best?.valAuc, 4),
        fmt(r.best?.valLogLoss, 4), `${fmt(r.imagesPerSecond, 1)}${r.throughputBasis === 'features' ? ' (features)' : ''}`, fmt(r.seconds, 0),
      ]);
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
      const hashes = new Set(list.filter((r) => r.status === 'done').map((r) => r.dataHash));
      const folded = list.some((r) => r.folds !== null) ? "\na K-fold run's val AUC and log loss are out of fold, over every labelled train+val image" : '';
      const note = hashes.size > 1 ? `\nnote: the finished runs saw ${hashes.size} different datasets (labels or split changed between them)` : '';
      return [line(head), ...rows.map(line)].join('\n') + folded + note;
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
    await (await import('../../core/ml/train/start')).clearCaches(lib);
    ctx.print({ cleared: lib.cacheDir }, () => `cleared the pixel and feature caches in ${lib.cacheDir}`);
  },
};

/** --fill P / --partial through the contract's schema, so the CLI refuses what the API refuses, in the same words. */
function submissionOptions(args: ParsedArgs): SubmissionOptions {
  const fill = stringOpt(args, 'fill');
  const raw = {
    ...(fill !== undefined ? { fill: fill.trim() === '' ? Number.NaN : Number(fill) } : {}),
    ...(boolOpt(args, 'partial') ? { partial: true } : {}),
    ...(stringOpt(args, 'tta') !== undefined ? { tta: stringOpt(args, 'tta') } : {}),
  };
  const parsed = SubmissionOptions.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new UsageError(describeValidation(parsed.error.issues, fill !== undefined ? { fill } : undefined).replace(/^The fill probability/, '--fill'));
  return parsed.data;
}

export const submission: Command = {
  name: 'submission',
  usage: `submission --run ID --out FILE [--fill P | --partial] [--tta ${TTA_MODES.join('|')}] | submission --run ID --check`,
  summary:
    "write the Zindi submission (image,target in the sample's order) from a run's predictions; sample rows without one " +
    '(no image file, excluded, unreadable) need --fill P (that probability, listed in a note beside the CSV) or --partial (left out); --check says which; ' +
    "--tta another than the run's own scores the submission images again with its checkpoint",
  options: { run: { type: 'string' }, out: { type: 'string' }, fill: { type: 'string' }, partial: { type: 'boolean' }, check: { type: 'boolean' }, tta: { type: 'string' } },
  async run(ctx, args) {
    const id = stringOpt(args, 'run');
    const out = stringOpt(args, 'out');
    const options = submissionOptions(args);
    const { checkSubmission, writeSubmission } = await import('../../core/ml/inference/submission');
    if (boolOpt(args, 'check')) {
      if (!id || out !== undefined) throw new UsageError('submission --check needs --run ID (and writes nothing: no --out)');
      const check = await checkSubmission(ctx.library(false), id, options.tta);
      ctx.print(check, () => check.summary ?? `run ${check.runId} has a probability for all ${check.rows} rows of ${check.sample}`);
      return;
    }
    if (!id || !out) throw new UsageError('submission needs --run ID and --out FILE');
    const result = await writeSubmission(ctx.library(false), id, out, options);
    ctx.print(result, () =>
      [
        `wrote ${result.rows} rows to ${result.out} (in the order of ${result.sample}; test-time augmentation ${result.tta})`,
        ...(result.filled > 0 ? [`  ${result.filled} rows without a probability written as ${String(options.fill)}`] : []),
        ...(result.omitted > 0 ? [`  ${result.omitted} rows without a probability left out`] : []),
        ...(result.note !== null ? [`  which rows and why: ${result.note}`] : []),
      ].join('\n'),
    );
  },
};

export const TRAIN_COMMANDS: readonly Command[] = [train, runs, cache, submission];