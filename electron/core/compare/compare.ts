/**
 * Every finished run side by side on one split: ranked by AUC then log loss, runs that differ only by
 * seed summarised (mean ± sample sd: how much of a difference is luck), and DeLong's test between the
 * two best on the images both scored.
 */
import type { RunInfo } from '../../../shared/contract';
import type { CompareRow, Comparison, DeLongTest, EvalSplit, SeedSummary } from '../../../shared/contract-compare';
import type { Db } from '../db/open';
import { listRuns } from '../ml/runs/store';
import { binaryClasses, compareRow, runScores, unscorable, type RunScores } from './evaluate';
import { delongTest } from '../stats/intervals';

/**
 * Config keys that say where or with what a run happened to run, not what was trained, and what the run
 * recorded of itself afterwards (how its speed was counted, its faces' scoring, its finished folds, what its
 * fine-tuning did): runs that differ only here (and by seed) are repeats of one setting.
 */
const NOT_SETTINGS = new Set([
  'seed', 'model', 'backend', 'engine', 'engineProvider', 'engineFallback', 'trainEngine',
  'throughputBasis', 'facesScored', 'foldsFinished', 'fineTune',
]);

const LABELS: Record<string, string> = { inputSize: 'input', weights: 'weights', lr: 'lr', epochs: 'epochs', batchSize: 'batch' };

function settingsOf(run: RunInfo): { key: string; text: string } {
  const entries = Object.entries(run.config)
    .filter(([k]) => !NOT_SETTINGS.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // the labelled keys first, in the order people read them
  const first = Object.keys(LABELS).flatMap((k) => entries.filter(([e]) => e === k));
  const rest = entries.filter(([k]) => !(k in LABELS));
  const text = [...first, ...rest].map(([k, v]) => `${LABELS[k] ?? k} ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  return { key: `${run.model}\n${run.dataHash}\n${JSON.stringify(entries)}`, text };
}

function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const ss = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, sd: values.length > 1 ? Math.sqrt(ss / (values.length - 1)) : 0 };
}

/** Higher AUC first (no AUC last), then lower log loss, then id so the order never depends on insertion. */
export function rankRows(a: CompareRow, b: CompareRow): number {
  const aa = a.auc ?? -1;
  const bb = b.auc ?? -1;
  if (aa !== bb) return bb - aa;
  if (a.logLoss !== b.logLoss) return a.logLoss - b.logLoss;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function seedGroups(runs: ReadonlyMap<string, RunInfo>, rows: readonly CompareRow[]): SeedSummary[] {
  const groups = new Map<string, { text: string; rows: CompareRow[] }>();
  for (const row of rows) {
    const run = runs.get(row.id);
    if (!run || row.kind === 'ensemble') continue;
    const s = settingsOf(run);
    const g = groups.get(s.key) ?? { text: s.text, rows: [] };
    g.rows.push(row);
    groups.set(s.key, g);
  }
  const out: SeedSummary[] = [];
  for (const g of groups.values()) {
    if (g.rows.length < 2) continue;
    const aucs = g.rows.map((r) => r.auc).filter((a): a is number => a !== null);
    out.push({
      model: g.rows[0]?.model ?? '',
      settings: g.text,
      runs: g.rows.map((r) => r.id),
      auc: aucs.length === g.rows.length ? meanSd(aucs) : null,
      logLoss: meanSd(g.rows.map((r) => r.logLoss)),
    });
  }
  return out;
}

/** DeLong between two runs on the images both scored (the same labels, so the test is paired). */
export function pairedDeLong(a: CompareRow, sa: RunScores, b: CompareRow, sb: RunScores): DeLongTest | null {
  const probB = new Map(sb.imageIds.map((id, i) => [id, sb.probs[i] as number]));
  const labels: number[] = [];
  const pa: number[] = [];
  const pb: number[] = [];
  sa.imageIds.forEach((id, i) => {
    const q = probB.get(id);
    if (q === undefined) return;
    labels.push(sa.labels[i] as number);
    pa.push(sa.probs[i] as number);
    pb.push(q);
  });
  const t = delongTest(labels, pa, pb);
  return t === null ? null : { a: a.id, b: b.id, images: labels.length, ...t };
}

export function compareRuns(db: Db, split: EvalSplit): Comparison {
  const all = listRuns(db);
  if (all.length === 0) return { split, rows: [], seedGroups: [], delong: null, skipped: [] };
  const classes = binaryClasses(db);
  const rows: CompareRow[] = [];
  const scores = new Map<string, RunScores>();
  const skipped: Comparison['skipped'] = [];
  for (const run of all) {
    const s = runScores(db, run.id, split, classes);
    const why = unscorable(run, s, split);
    if (why !== null) {
      skipped.push({ id: run.id, reason: why });
      continue;
    }
    scores.set(run.id, s);
    rows.push(compareRow(db, run, s));
  }
  rows.sort(rankRows);
  if (rows[0]) rows[0].best = true;
  const [first, second] = rows;
  let delong: DeLongTest | null = null;
  if (first && second && first.auc !== null && second.auc !== null) {
    const sa = scores.get(first.id);
    const sb = scores.get(second.id);
    if (sa && sb) delong = pairedDeLong(first, sa, second, sb);
  }
  return { split, rows, seedGroups: seedGroups(new Map(all.map((r) => [r.id, r])), rows), delong, skipped };
}
