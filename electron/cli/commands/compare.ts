/** `compare` and `ensemble`: every finished run side by side with intervals and a test, and averaged runs. */
import type { CompareRow, Comparison, DeLongTest } from '../../../shared/contract-compare';
import { AppError } from '../../../shared/errors';
import { commonImageCount, scoredOn, trainedOn } from '../../../shared/scored-on';
import { compareHandlers as h } from '../../core/api/compare-handlers';
import { UsageError, stringOpt, type Command } from '../command';
import { cliCore, given, parseInput } from '../contract-call';

export const num = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
export const ci = (v: number | null, c: { low: number; high: number } | null): string => (v === null ? '—' : `${num(v)}${c ? ` [${num(c.low, 2)}, ${num(c.high, 2)}]` : ''}`);

const COLUMNS: ReadonlyArray<{ head: string; cell: (r: CompareRow) => string; right?: boolean }> = [
  { head: '', cell: (r) => (r.best ? '*' : '') },
  { head: 'run', cell: (r) => r.id },
  { head: 'model', cell: (r) => (r.kind === 'ensemble' ? `ensemble(${r.members.length})${r.name ? ` ${r.name}` : ''}` : r.model) },
  // a run ONNX Runtime trained used TensorFlow.js's device only to read and write its checkpoint
  { head: 'trained on', cell: (r) => `${trainedOn(r)}${r.device && r.engine !== 'onnx' ? ` [${r.device}]` : ''}` },
  { head: 'input', cell: (r) => (r.inputSize !== null ? String(r.inputSize) : 'mixed'), right: true },
  { head: 'weights', cell: (r) => r.weightsSource },
  { head: 'scored on', cell: (r) => scoredOn(r) },
  { head: 'TTA', cell: (r) => `${r.tta ?? 'mixed'}${r.faces ? ' + faces' : ''}` },
  { head: 'images', cell: (r) => String(r.count), right: true },
  { head: 'epochs/best', cell: (r) => (r.kind === 'ensemble' ? '—' : `${r.epochs}/${r.bestEpoch ?? '—'}`), right: true },
  { head: 'AUC [95% CI]', cell: (r) => ci(r.auc, r.aucCi) },
  { head: 'log loss [95% CI]', cell: (r) => ci(r.logLoss, r.logLossCi) },
  { head: 'acc', cell: (r) => num(r.accuracy), right: true },
  { head: 'prec', cell: (r) => num(r.precision), right: true },
  { head: 'recall', cell: (r) => num(r.recall), right: true },
  { head: 'F1', cell: (r) => num(r.f1), right: true },
  { head: 'params', cell: (r) => (r.params === null ? '—' : String(r.params)), right: true },
  { head: 'train s', cell: (r) => num(r.seconds, 1), right: true },
  { head: 'img/s', cell: (r) => num(r.imagesPerSecond, 1), right: true },
];

function table(rows: readonly CompareRow[]): string {
  const cells = rows.map((r) => COLUMNS.map((c) => c.cell(r)));
  const widths = COLUMNS.map((c, k) => Math.max(c.head.length, ...cells.map((row) => (row[k] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values.map((v, k) => (COLUMNS[k]?.right ? v.padStart(widths[k] ?? 0) : v.padEnd(widths[k] ?? 0))).join('  ').trimEnd();
  return [line(COLUMNS.map((c) => c.head)), ...cells.map(line)].join('\n');
}

export function delongLine(d: DeLongTest): string {
  const p = d.p < 0.001 ? d.p.toExponential(1) : d.p.toFixed(d.p < 0.01 ? 3 : 2);
  return (
    `best vs second on the ${d.images} images both scored: AUC ${num(d.aucA)} vs ${num(d.aucB)}, ΔAUC ${num(d.difference)}, z ${num(d.z, 2)}, p ${p} ` +
    `(${d.p < 0.05 ? 'significant' : 'not significant'} at 0.05; ${d.a} vs ${d.b})`
  );
}

export function comparisonText(c: Comparison): string {
  const out: string[] = [];
  if (c.rows.length === 0) out.push(`no finished run has predictions on the ${c.split} split ('mask-studio train' makes some)`);
  else {
    const common = commonImageCount(c.rows);
    const basis = common !== null ? `${common} images each` : 'on different images: the images column says how many each score rests on';
    out.push(`${c.rows.length} run(s) on the ${c.split} split (${basis}; * = best by AUC, then log loss)`);
    if (c.rows.some((r) => r.folds !== null)) {
      out.push(c.split === 'val'
        ? 'a K-fold run is scored out of fold on every labelled train+val image (no model saw the image it scored); a single-split run on its validation split'
        : "a K-fold run's test scores are its folds' mean probabilities");
    }
    out.push(table(c.rows));
  }
  for (const g of c.seedGroups) {
    const auc = g.auc ? `AUC ${num(g.auc.mean)} ± ${num(g.auc.sd)}` : 'AUC —';
    out.push(`seeds: ${g.model} (${g.settings}) over ${g.runs.length} runs: ${auc}, log loss ${num(g.logLoss.mean)} ± ${num(g.logLoss.sd)} (mean ± sd)`);
  }
  if (c.delong) out.push(delongLine(c.delong));
  else if (c.rows.length >= 2) out.push('best vs second: no DeLong test (fewer than two runs with an AUC on shared images of both classes)');
  for (const s of c.skipped) out.push(`skipped ${s.id}: ${s.reason}`);
  return out.join('\n');
}

export const compare: Command = {
  name: 'compare',
  usage: 'compare [--split val|test] [--json]',
  summary: 'every finished run ranked by AUC then log loss, with 95% bootstrap intervals, seed spread and DeLong between the two best',
  options: { split: { type: 'string' } },
  async run(ctx, args) {
    const input = parseInput('compare.list', given({ split: stringOpt(args, 'split') }), { split: '--split' });
    const c = await cliCore(ctx, ctx.library(false), () => 'compare').call(h['compare.list'], input);
    ctx.print({ split: c.split, runs: c.rows, seedGroups: c.seedGroups, delong: c.delong, skipped: c.skipped }, () => comparisonText(c));
  },
};

export const ensemble: Command = {
  name: 'ensemble',
  usage: 'ensemble --runs ID,ID,... [--name N]',
  summary: "average finished runs' probabilities into a new run that compare ranks and submission writes",
  options: { runs: { type: 'string' }, name: { type: 'string' } },
  async run(ctx, args) {
    const refs = (stringOpt(args, 'runs') ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (refs.length < 2) throw new UsageError('ensemble needs --runs with at least two run ids, comma-separated');
    const input = parseInput('ensemble.create', given({ runs: refs, name: stringOpt(args, 'name') }), { runs: '--runs', name: '--name' });
    const core = cliCore(ctx, ctx.library(false), () => 'ensemble');
    const { runId } = await core.call(h['ensemble.create'], input);
    let row: CompareRow | null = null;
    try {
      row = (await core.call(h['compare.run'], parseInput('compare.run', { id: runId, split: 'val' }, {}))).row;
    } catch (err) {
      if (!(err instanceof AppError)) throw err; // no labelled val predictions: the run exists all the same
    }
    ctx.print({ runId, val: row }, () =>
      `ensemble ${runId} of ${refs.length} runs${row ? `: val AUC ${ci(row.auc, row.aucCi)}, log loss ${ci(row.logLoss, row.logLossCi)} on ${row.count} images` : ''}`,
    );
  },
};
