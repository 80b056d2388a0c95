/**
 * Everything the report shows, gathered from the library as one JSON-serialisable document: the audit
 * (counts, findings by kind with a few examples), the comparison, each run's curves, confusion matrices
 * and learning curves, and the thumbnails they point at (by image id, each made once).
 */
import type { ClassInfo, FindingKind, RunEpoch, Severity, Stats } from '../../../shared/contract';
import type { Comparison, EvalSplit, RunEvaluation } from '../../../shared/contract-compare';
import { compareRuns } from '../compare/compare';
import { evaluateRun } from '../compare/evaluate';
import { listFindings } from '../dataset/audit';
import { listClasses } from '../dataset/classes';
import { libraryStats } from '../dataset/stats';
import type { Library } from '../library';
import { runEpochs, runPredictions } from '../ml/runs/store';
import { thumbnails, type Thumb } from './thumbnails';
import { gatherDoubts, type DoubtsSection } from './report-doubts';

/** Examples per finding kind, images per example, and misclassified images per confusion cell. */
export const REPORT_LIMITS = { examplesPerKind: 3, imagesPerExample: 4, errorsPerCell: 12, curvePoints: 400 } as const;

export interface FindingSummary {
  kind: FindingKind;
  /** The worst severity among the kind's findings. */
  severity: Severity;
  count: number;
  open: number;
  examples: Array<{ message: string; imageIds: number[]; more: number }>;
}

/** An image behind an error, with the run's probability of the positive class. */
export interface ScoredImage {
  id: number;
  probability: number | null;
}

export interface CellErrors {
  /** False positives, most confident first. */
  fp: ScoredImage[];
  /** False negatives, most confident first. */
  fn: ScoredImage[];
}

export interface RunSection {
  evaluation: RunEvaluation;
  epochs: RunEpoch[];
  errors: { atHalf: CellErrors; atYouden: CellErrors };
}

export interface ReportData {
  version: 1;
  generatedAt: string;
  library: string;
  split: EvalSplit;
  classes: ClassInfo[];
  stats: Stats;
  findings: FindingSummary[];
  comparison: Comparison;
  runs: RunSection[];
  /** Image id → thumbnail. */
  thumbs: Record<string, Thumb>;
  /** The last label-doubt computation's top doubts, with larger thumbnails of their own; null when none was computed. */
  doubts: DoubtsSection | null;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function summariseFindings(findings: ReturnType<typeof listFindings>): FindingSummary[] {
  const byKind = new Map<FindingKind, FindingSummary>();
  for (const f of findings) {
    let s = byKind.get(f.kind);
    if (!s) {
      s = { kind: f.kind, severity: f.severity, count: 0, open: 0, examples: [] };
      byKind.set(f.kind, s);
    }
    s.count++;
    if (f.status === 'open') s.open++;
    if (SEVERITY_RANK[f.severity] < SEVERITY_RANK[s.severity]) s.severity = f.severity;
    // open findings make the examples: the ones a reader still has to act on
    if (f.status === 'open' && s.examples.length < REPORT_LIMITS.examplesPerKind) {
      const ids = f.imageIds.slice(0, REPORT_LIMITS.imagesPerExample);
      s.examples.push({ message: f.message, imageIds: ids, more: f.images.length - ids.length });
    }
  }
  return [...byKind.values()].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.open - a.open || a.kind.localeCompare(b.kind));
}

/** Every `step`-th point, plus the last, when a curve has more points than the chart needs. */
export function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const step = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % step === 0);
  const last = points[points.length - 1];
  if (last !== undefined && out[out.length - 1] !== last) out.push(last);
  return out;
}

function cellErrors(ids: { fp: readonly number[]; fn: readonly number[] }, probs: ReadonlyMap<number, number>): CellErrors {
  const scored = (list: readonly number[], order: 1 | -1): ScoredImage[] =>
    list
      .map((id) => ({ id, probability: probs.get(id) ?? null }))
      .sort((a, b) => order * ((b.probability ?? 0.5) - (a.probability ?? 0.5)))
      .slice(0, REPORT_LIMITS.errorsPerCell);
  // a false positive is most wrong when its probability is highest; a false negative when lowest
  return { fp: scored(ids.fp, 1), fn: scored(ids.fn, -1) };
}

function runSection(lib: Library, id: string, split: EvalSplit): RunSection {
  const ev = evaluateRun(lib.db, id, split);
  const probs = new Map(runPredictions(lib.db, ev.runId).filter((p) => p.split === split).map((p) => [p.imageId, p.probability]));
  const cells = (c: RunEvaluation['atHalf']): CellErrors => cellErrors({ fp: c.fp.imageIds, fn: c.fn.imageIds }, probs);
  return {
    evaluation: { ...ev, roc: thin(ev.roc, REPORT_LIMITS.curvePoints), pr: thin(ev.pr, REPORT_LIMITS.curvePoints) },
    epochs: runEpochs(lib.db, ev.runId),
    errors: { atHalf: cells(ev.atHalf), atYouden: cells(ev.atYouden) },
  };
}

export async function gatherReport(lib: Library, split: EvalSplit): Promise<ReportData> {
  const comparison = compareRuns(lib.db, split);
  const runs = comparison.rows.map((r) => runSection(lib, r.id, split));
  const listed = listFindings(lib.db);
  const findings = summariseFindings(listed);
  const status = new Map(listed.map((f) => [f.id, f.status]));
  const ids: number[] = [];
  for (const f of findings) for (const e of f.examples) ids.push(...e.imageIds);
  for (const r of runs) for (const c of [r.errors.atHalf, r.errors.atYouden]) ids.push(...c.fp.map((x) => x.id), ...c.fn.map((x) => x.id));
  const thumbs = await thumbnails(lib.db, ids);
  return {
    version: 1,
    generatedAt: new Date().toISOString(),
    library: lib.dir,
    split,
    classes: listClasses(lib.db),
    stats: libraryStats(lib.db),
    findings,
    comparison,
    runs,
    thumbs: Object.fromEntries([...thumbs].map(([id, t]) => [String(id), t])),
    doubts: await gatherDoubts(lib.db, (id) => status.get(id)),
  };
}
