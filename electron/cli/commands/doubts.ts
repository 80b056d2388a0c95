/** `doubts`: the labels the models doubt (confident learning on out-of-fold probabilities); `doubts accept ID`. */
import type { Library } from '../../core/library';
import { FACES_SCORE_TEXT, type TtaMode } from '../../../shared/names';
import { ttaViewsText } from '../../../shared/tta-text';
import { JobRunner } from '../../core/jobs/runner';
import type { CliContext } from '../context';
import { UsageError, boolOpt, positional, stringOpt, type Command } from '../command';
import { cliCore, given, numeric, parseInput } from '../contract-call';

/** The views whose features were averaged, in words. */
const viewsText = (tta: TtaMode): string => (tta === 'none' ? ttaViewsText(tta) : `mean of ${ttaViewsText(tta)}`);

const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

type DoubtsReport = Awaited<ReturnType<typeof import('../../core/doubts/compute').computeDoubts>>;
type DoubtsInput = ReturnType<typeof parseInput<'doubts.start'>>;

/** Runs the computation as a job (progress on stderr, Ctrl-C cancels it); the report, or why there is none. */
async function computeAsJob(ctx: CliContext, lib: Library, parsed: DoubtsInput): Promise<DoubtsReport> {
  const { computeDoubts, toDoubtsResult } = await import('../../core/doubts/compute');
  const runner = new JobRunner(lib.db, (e) => {
    const p = e.payload;
    if (e.name === 'job.progress' && 'phase' in p) ctx.progress('doubts')({ phase: p.phase, done: p.done, total: p.total, etaMs: p.etaMs });
  });
  const { engine, ...rest } = parsed;
  const input = { ...rest, ...(engine !== undefined ? { engine } : {}) };
  let report: DoubtsReport | null = null;
  let failure: unknown = null;
  const jobId = runner.start('doubts', input, async (job) => {
    try {
      report = await computeDoubts(lib, { ...input, signal: job.signal, progress: job.progress });
    } catch (err) {
      failure = err;
      throw err;
    }
    return toDoubtsResult(report);
  });
  const onSigint = (): void => {
    ctx.stderr.write('\ncancelling the doubts computation…\n');
    runner.cancel(jobId);
  };
  process.on('SIGINT', onSigint);
  try {
    await runner.wait(jobId);
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (failure !== null) throw failure;
  const r = report as DoubtsReport | null;
  if (r === null) throw new UsageError('the doubts computation was cancelled');
  return r;
}

function displayNames(lib: Library): (name: string) => string {
  const names = new Map((lib.db.prepare('SELECT name, display_name FROM classes').all() as Array<{ name: string; display_name: string }>).map((c) => [c.name, c.display_name]));
  return (c) => names.get(c) ?? c;
}

/** The report as text: where the probabilities came from, the thresholds, the top doubts as a table. */
function doubtsText(r: DoubtsReport, show: (name: string) => string, top: number): string {
  const b = r.backbone;
  const source = b === null
    ? [
        `${r.images} labelled images scored by ${r.fromMembers.length > 0 ? `ensemble ${r.fromRun ?? ''}, the mean of ${r.fromMembers.length} K-fold runs (${r.fromMembers.join(', ')})` : `${r.folds}-fold run ${r.fromRun ?? ''} (${r.model})`}: ` +
          `out of fold on train+val, the folds' mean on test; no model saw the image it scored${r.unscored > 0 ? ` (${r.unscored} labelled images it did not score are left out)` : ''}`,
        `the ${r.fromMembers.length > 0 ? 'ensemble' : 'run'}'s unseen AUC ${fmt(r.oofAuc, 4)}`,
      ]
    : [
        `${r.images} labelled images, ${r.folds} folds (stratified, duplicates kept together), features: ${b.model} (${b.weights} weights, ${b.inputSize} px${b.runId ? `, from run ${b.runId}` : ''}, ${viewsText(r.tta)}; ${r.cachedFeatures} cached, rest on ${r.engine})`,
        ...(r.faces !== null
          ? [`faces: ${r.faces.faces} in ${r.faces.images} of the ${r.images} images (BlazeFace; ${r.faces.detected} images searched now, ${r.faces.extracted} crops' features extracted now); an image's probability is ${FACES_SCORE_TEXT}`]
          : []),
        `out-of-fold AUC ${fmt(r.oofAuc, 4)}, logistic regression L2 ${r.l2}`,
      ];
  const lines = [
    ...source,
    `thresholds (mean out-of-fold p of the class over images labelled so): ${Object.entries(r.thresholds).map(([c, t]) => `'${show(c)}' ${fmt(t)}`).join(', ')}`,
    ...calibrationText(r),
    `${r.doubts.length} doubts in ${r.seconds.toFixed(1)} s${r.doubts.length > top ? ` (top ${top} below; --json for all)` : ''}`,
  ];
  if (r.doubts.length > 0) {
    const calibrated = r.calibration !== null;
    lines.push(
      table(
        ['rank', 'finding', 'image', 'given', 'suggested', 'p(given)', ...(calibrated ? ['expected precision'] : [])],
        r.doubts.slice(0, top).map((d) => [
          String(d.rank), d.findingId === null ? '—' : String(d.findingId), d.relPath, show(d.given), show(d.suggested), fmt(d.probability),
          ...(calibrated ? [fmt(d.expectedPrecision, 2)] : []),
        ]),
      ),
      "accept one with 'mask-studio doubts accept FINDING'; they are also in 'mask-studio audit' and the app's Review",
    );
  }
  return lines.join('\n');
}

/** What the planted flips measured, and what the expected precision column means. */
function calibrationText(r: DoubtsReport): string[] {
  const c = r.calibration;
  if (c === null) return [];
  const how = c.method === 'refit'
    ? 'the logistic heads refit on each trial\'s flipped labels'
    : `the run's models cannot be retrained per trial: ${c.backbone ?? 'its backbone'} with logistic heads refit on each trial's flipped labels stood in`;
  return [
    `calibration: ${c.trials} trials of ${(c.flipRate * 100).toFixed(1)} % of each class flipped (${c.planted} images), ${how}; ${c.seconds.toFixed(1)} s`,
    `  on the planted flips the doubt list had recall ${fmt(c.recall, 2)}, precision ${fmt(c.precision, 2)} (${c.doubts.toFixed(1)} doubts a trial); expected precision at a rank = the share of planted flips at or above that rank (a real label error the list finds counts against it; a random flip of a clear photo is easier to find than most real errors, so on real labels it can read far too high)`,
  ];
}

export const doubts: Command = {
  name: 'doubts',
  usage: 'doubts [--run ID | --model NAME] [--weights imagenet|nsfwjs|FILE] [--input-size N] [--folds 5] [--seed N] [--tta none|flip|flip-crops] [--no-faces] [--calibrate [--trials 5] [--flip-rate 0.05]] [--top N] [--engine auto|onnx|tfjs] [--json] | doubts accept FINDING_ID',
  summary: "labels the models doubt: K-fold out-of-fold probabilities on a pretrained backbone's features and confident learning (findings join the audit)",
  options: {
    run: { type: 'string' },
    model: { type: 'string' },
    weights: { type: 'string' },
    'input-size': { type: 'string' },
    folds: { type: 'string' },
    seed: { type: 'string' },
    top: { type: 'string' },
    engine: { type: 'string' },
    tta: { type: 'string' },
    faces: { type: 'boolean' },
    'no-faces': { type: 'boolean' },
    calibrate: { type: 'boolean' },
    trials: { type: 'string' },
    'flip-rate': { type: 'string' },
  },
  async run(ctx, args) {
    const lib = ctx.library(false);
    if (args.positionals[0] === 'accept') {
      const input = parseInput('doubts.accept', { findingId: numeric(positional(args, 1, 'the FINDING_ID of a label-doubt finding')) }, { findingId: 'FINDING_ID' });
      const { doubtsHandlers } = await import('../../core/api/doubts-handlers');
      const r = await cliCore(ctx, lib, () => '').call(doubtsHandlers['doubts.accept'], input);
      ctx.print(r, () => `relabelled image ${r.imageId} as '${r.label}' (batch ${r.batch}; 'mask-studio undo' restores it)`);
      return;
    }
    if (args.positionals.length > 0) throw new UsageError(`unknown 'doubts ${args.positionals[0] ?? ''}'; try 'doubts' or 'doubts accept ID'`);
    // doubts.start's schema: the limits the app's calls meet (this command keeps the full report for its text)
    const parsed = parseInput(
      'doubts.start',
      given({
        run: stringOpt(args, 'run'),
        model: stringOpt(args, 'model'),
        weights: stringOpt(args, 'weights'),
        inputSize: numeric(stringOpt(args, 'input-size')),
        folds: numeric(stringOpt(args, 'folds')),
        seed: numeric(stringOpt(args, 'seed')),
        engine: stringOpt(args, 'engine'),
        tta: stringOpt(args, 'tta'),
        faces: boolOpt(args, 'no-faces') ? false : boolOpt(args, 'faces') ? true : undefined,
        calibrate: boolOpt(args, 'calibrate') ? true : undefined,
        trials: numeric(stringOpt(args, 'trials')),
        flipRate: numeric(stringOpt(args, 'flip-rate')),
      }),
      {
        run: '--run', model: '--model', weights: '--weights', inputSize: '--input-size', folds: '--folds', seed: '--seed', engine: '--engine',
        tta: '--tta', faces: '--faces', calibrate: '--calibrate', trials: '--trials', flipRate: '--flip-rate',
      },
    );
    const top = numeric(stringOpt(args, 'top') ?? '20');
    if (typeof top !== 'number' || !Number.isInteger(top) || top < 1) throw new UsageError(`--top ${String(top)}: must be a whole number, at least 1`);
    const { toDoubtsResult } = await import('../../core/doubts/compute');
    const r = await computeAsJob(ctx, lib, parsed);
    if (r.engineFallback !== null) ctx.stderr.write(`warning: features computed with TensorFlow.js: ${r.engineFallback}\n`);
    ctx.print(toDoubtsResult(r), () => doubtsText(r, displayNames(lib), top));
  },
};
