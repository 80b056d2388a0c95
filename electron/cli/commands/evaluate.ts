/**
 * `evaluate`: finished runs scored on an independent labelled folder (one subfolder per class), beside their
 * own recorded scores, so the drop from their own data to new data is visible. The flags are
 * evaluate.start's input; the job is the one the app would start, its progress the CLI's progress line.
 */
import { resolve } from 'node:path';
import type { EvaluateResult, EvaluateRow, EvaluateRun } from '../../../shared/contract-evaluate';
import { EvaluateResult as EvaluateResultSchema } from '../../../shared/contract-evaluate';
import { AppError, ERROR_CODES, type ErrorCode } from '../../../shared/errors';
import { TTA_MODES } from '../../../shared/names';
import { dropText } from '../../../shared/format';
import { evaluateHandlers } from '../../core/api/evaluate-handlers';
import { writeFileAtomic } from '../../core/atomic-write';
import { formatCsv } from '../../core/csv';
import { UsageError, boolOpt, stringOpt, type Command, type ParsedArgs } from '../command';
import { cliCore, commandLineRoots, given, numeric, parseInput, type CliCore } from '../contract-call';
import { ci, delongLine, num } from './compare';

const FLAGS = {
  runs: '--run', folder: 'FOLDER', classes: '--classes', perClass: '--per-class', seed: '--seed', tta: '--tta', faces: '--faces', engine: '--engine',
};

export const EVALUATE_CSV_HEADER = ['file', 'class', 'run', 'probability', 'status', 'message'] as const;

function evaluateInput(args: ParsedArgs): ReturnType<typeof parseInput<'evaluate.start'>> {
  const named = args.values['run'];
  const runs = Array.isArray(named) ? named.filter((r): r is string => typeof r === 'string') : [];
  if (runs.length === 0) throw new UsageError('evaluate needs --run ID (repeat --run to evaluate several runs on the same images)');
  if (args.positionals.length !== 1) {
    throw new UsageError(args.positionals.length === 0 ? 'evaluate needs FOLDER (one subfolder per class)' : `evaluate takes one FOLDER, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  }
  if (boolOpt(args, 'faces') && boolOpt(args, 'no-faces')) throw new UsageError('--faces and --no-faces contradict each other');
  const raw = given({
    runs,
    // the CLI names folders relative to where it runs; the handler wants full paths, as from a page
    folder: resolve(args.positionals[0] ?? ''),
    classes: stringOpt(args, 'classes')?.split(',').map((c) => c.trim()),
    perClass: numeric(stringOpt(args, 'per-class')),
    seed: numeric(stringOpt(args, 'seed')),
    tta: stringOpt(args, 'tta'),
    faces: boolOpt(args, 'faces') ? true : boolOpt(args, 'no-faces') ? false : undefined,
    engine: stringOpt(args, 'engine'),
  });
  return parseInput('evaluate.start', raw, FLAGS);
}

/** The job's result, or its failure as the error it was (a one-line message and its code). */
async function runJob(core: CliCore, jobId: string): Promise<EvaluateResult> {
  const end = await core.wait(jobId, 'the evaluation');
  if (end.status === 'cancelled') throw new AppError('CANCELLED', 'the evaluation was cancelled');
  if (end.status === 'failed') {
    const code = (ERROR_CODES as readonly string[]).includes(end.error?.code ?? '') ? (end.error?.code as ErrorCode) : 'INTERNAL';
    throw new AppError(code, end.error?.message ?? 'the evaluation failed');
  }
  return EvaluateResultSchema.parse(end.result);
}

const COLUMNS: ReadonlyArray<{ head: string; cell: (r: EvaluateRun) => string; right?: boolean }> = [
  { head: '', cell: (r) => (r.row.best ? '*' : '') },
  { head: 'run', cell: (r) => r.runId },
  { head: 'model', cell: (r) => `${r.row.model}${r.row.folds !== null ? ` (${r.row.folds}-fold)` : ''}` },
  { head: 'TTA', cell: (r) => `${r.row.tta ?? 'mixed'}${r.row.faces ? ' + faces' : ''}` },
  { head: 'n', cell: (r) => String(r.row.count), right: true },
  { head: 'pos', cell: (r) => String(r.positives), right: true },
  { head: 'neg', cell: (r) => String(r.negatives), right: true },
  { head: 'AUC [95% CI]', cell: (r) => ci(r.row.auc, r.row.aucCi) },
  { head: 'log loss [95% CI]', cell: (r) => ci(r.row.logLoss, r.row.logLossCi) },
  { head: 'acc@0.5', cell: (r) => num(r.row.accuracy), right: true },
  { head: 'own AUC', cell: (r) => `${num(r.recorded.auc)} (${r.recorded.on === 'val' ? 'val' : 'out of fold'})` },
  { head: 'here vs own', cell: (r) => dropText(r.drop), right: true },
];

function table(runs: readonly EvaluateRun[]): string {
  const cells = runs.map((r) => COLUMNS.map((c) => c.cell(r)));
  const widths = COLUMNS.map((c, k) => Math.max(c.head.length, ...cells.map((row) => (row[k] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values.map((v, k) => (COLUMNS[k]?.right ? v.padStart(widths[k] ?? 0) : v.padEnd(widths[k] ?? 0))).join('  ').trimEnd();
  return [line(COLUMNS.map((c) => c.head)), ...cells.map(line)].join('\n');
}

export function evaluationText(r: EvaluateResult, out: string | null): string {
  const classes = r.classes.map((c) => `${c.used}${c.used < c.found ? ` of ${c.found}` : ''} in ${c.folder}/ as '${c.name}'${c.displayName !== c.name ? ` (${c.displayName})` : ''}`);
  const lines = [
    `${r.runs.length} run(s) on ${r.files} images of ${r.folder}: ${classes.join(', ')}` +
      `${r.perClass !== null ? ` (--per-class ${r.perClass}, seed ${r.seed})` : ''}${r.skipped > 0 ? `; ${r.skipped} non-image files skipped` : ''}`,
  ];
  if (r.otherFolders.length > 0) lines.push(`subfolders standing for no class, left out: ${r.otherFolders.join(', ')}`);
  if (r.unreadable.length > 0) {
    const shown = r.unreadable.slice(0, 5).map((u) => `${u.file} (${u.message})`);
    lines.push(`${r.unreadable.length} unreadable file(s), not scored: ${shown.join('; ')}${r.unreadable.length > 5 ? `; … ${r.unreadable.length - 5} more (--out lists them)` : ''}`);
  }
  lines.push(table(r.runs));
  lines.push("own AUC: the run's recorded score on its own data (its validation split, or out of fold); here vs own: the AUC here, lower or higher than that");
  if (r.delong) lines.push(delongLine(r.delong));
  for (const run of r.runs) if (run.fallback !== null) lines.push(`warning: run ${run.runId} scored with TensorFlow.js: ${run.fallback}`);
  if (out !== null) lines.push(`wrote ${r.rows.length} rows (one per image and run) to ${out}`);
  return lines.join('\n');
}

async function writeRows(file: string, rows: readonly EvaluateRow[]): Promise<string> {
  const target = resolve(file);
  const values = rows.map((r) => [r.file, r.class, r.run, r.probability === null ? '' : String(r.probability), r.status, r.message ?? '']);
  await writeFileAtomic(target, formatCsv(EVALUATE_CSV_HEADER, values));
  return target;
}

export const evaluate: Command = {
  name: 'evaluate',
  usage:
    'evaluate --run ID [--run ID2 ...] FOLDER [--classes A,B] [--per-class N] [--seed N] ' +
    `[--tta ${TTA_MODES.join('|')}] [--faces|--no-faces] [--engine auto|onnx|tfjs] [--out FILE.csv] [--json]`,
  summary:
    'score finished runs on an independent labelled folder (one subfolder per class; --classes names the ones for the ' +
    "library's first and second class): AUC and log loss with 95% intervals, accuracy at 0.5, beside each run's own score; " +
    'DeLong between the two best; --per-class N scores a seeded sample; --out writes every image\'s row',
  options: {
    run: { type: 'string', multiple: true },
    classes: { type: 'string' },
    'per-class': { type: 'string' },
    seed: { type: 'string' },
    tta: { type: 'string' },
    faces: { type: 'boolean' },
    'no-faces': { type: 'boolean' },
    engine: { type: 'string' },
    out: { type: 'string' },
  },
  async run(ctx, args) {
    const input = evaluateInput(args);
    const out = stringOpt(args, 'out');
    const core = cliCore(ctx, ctx.library(false), () => 'evaluate', commandLineRoots([input.folder]));
    const { jobId } = await core.call(evaluateHandlers['evaluate.start'], input);
    const result = await runJob(core, jobId);
    const written = out !== undefined ? await writeRows(out, result.rows) : null;
    // the rows go to --out; stdout gets the summary whatever the number of images
    ctx.print({ ...result, rows: undefined, out: written }, () => evaluationText(result, written));
  },
};
