/**
 * `evaluate`: each run scores the planned images exactly as `predict` does (the same stream, TTA and faces
 * defaults; a K-fold run's folds' mean), and is scored on them with the comparison's own statistics: the
 * row compare builds (AUC and log loss with bootstrap intervals, accuracy at 0.5), its recorded score beside
 * it, and DeLong between the two best on the same images. Unreadable files are counted, never scored.
 */
import type { RunInfo } from '../../../shared/contract';
import type { DeLongTest } from '../../../shared/contract-compare';
import type { EvaluateInput, EvaluateResult, EvaluateRow, EvaluateRun } from '../../../shared/contract-evaluate';
import { AppError } from '../../../shared/errors';
import type { Library } from '../library';
import { predictStream } from '../ml/inference/predict-stream';
import { foldCheckpointDirs, readCheckpointInfo, runDir } from '../ml/runs/checkpoint';
import { pairedDeLong, rankRows } from './compare';
import { compareRow, type RunScores } from './evaluate';
import type { ExternalPlan } from './external-folder';

export interface ExternalOptions {
  signal?: AbortSignal;
  progress?: (phase: string, done: number, total: number) => void;
}

interface Scored {
  result: EvaluateRun;
  scores: RunScores;
}

/** The classes the run's probabilities are of (its checkpoint's); refused when they are not the library's two. */
async function checkRunClasses(lib: Library, run: RunInfo, classes: readonly string[]): Promise<void> {
  const dir = runDir(lib, run.id);
  const folds = await foldCheckpointDirs(dir);
  const info = await readCheckpointInfo(folds?.[0] ?? dir, run.id);
  if (info.classes.length !== 2 || info.classes[0] !== classes[0] || info.classes[1] !== classes[1]) {
    throw new AppError('CONFLICT', `run ${run.id} was trained on the classes ${info.classes.join(', ')}, the library's are ${classes.join(', ')}: its probabilities would be of another class`);
  }
}

function recorded(run: RunInfo): EvaluateRun['recorded'] {
  return { on: run.folds !== null ? 'out-of-fold' : 'val', auc: run.best?.valAuc ?? null, logLoss: run.best?.valLogLoss ?? null };
}

/** One run over every planned file: its rows (appended to `rows`) and its scores on the readable ones. */
async function scoreRun(lib: Library, run: RunInfo, plan: ExternalPlan, input: EvaluateInput, rows: EvaluateRow[], phase: string, opts: ExternalOptions): Promise<Scored> {
  const scores: RunScores = { imageIds: [], labels: [], probs: [] };
  let i = 0;
  const names = plan.classes.map((c) => c.name);
  const res = await predictStream(
    lib,
    run.id,
    plan.files.map((f) => f.abs),
    (row) => {
      // rows come in the order of the files
      const f = plan.files[i];
      if (f === undefined) throw new Error(`predict returned more rows than the ${plan.files.length} files`);
      rows.push({ file: f.rel, class: names[f.label] ?? '', run: run.id, probability: row.probability, status: row.status, message: row.message });
      if (row.probability !== null) {
        scores.imageIds.push(i);
        scores.labels.push(f.label);
        scores.probs.push(row.probability);
      }
      i++;
    },
    {
      ...(input.engine !== undefined ? { engine: input.engine } : {}),
      ...(input.tta !== undefined ? { tta: input.tta } : {}),
      ...(input.faces !== undefined ? { faces: input.faces } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      onProgress: (done, total) => opts.progress?.(phase, done, total),
    },
  );
  const positives = scores.labels.filter((l) => l === 1).length;
  const negatives = scores.labels.length - positives;
  for (const [k, n] of [[0, negatives], [1, positives]] as const) {
    if (n === 0) {
      const c = plan.classes[k];
      throw new AppError('BAD_INPUT', `run ${run.id} could read none of the ${c?.used ?? 0} images in ${c?.folder ?? '?'}/ (class '${c?.name ?? '?'}'): evaluate needs readable images of both classes`);
    }
  }
  const row = { ...compareRow(lib.db, run, scores), tta: res.tta, faces: res.faces };
  const own = recorded(run);
  const result: EvaluateRun = {
    runId: run.id,
    row,
    positives,
    negatives,
    unreadable: res.errors,
    recorded: own,
    drop: own.auc !== null && row.auc !== null ? own.auc - row.auc : null,
    engine: res.engine,
    provider: res.provider,
    fallback: res.fallback,
    seconds: res.seconds,
  };
  return { result, scores };
}

/** Scores every run of the plan on its images; best first, with DeLong between the two best. */
export async function evaluateExternal(lib: Library, plan: ExternalPlan, input: EvaluateInput, opts: ExternalOptions = {}): Promise<EvaluateResult> {
  const names = plan.classes.map((c) => c.name);
  const rows: EvaluateRow[] = [];
  const scored: Scored[] = [];
  for (const [k, run] of plan.runs.entries()) {
    await checkRunClasses(lib, run, names);
    scored.push(await scoreRun(lib, run, plan, input, rows, `run ${k + 1}/${plan.runs.length} ${run.id}`, opts));
  }
  scored.sort((a, b) => rankRows(a.result.row, b.result.row));
  const [first, second] = scored;
  if (first) first.result.row.best = true;
  let delong: DeLongTest | null = null;
  if (first && second && first.result.row.auc !== null && second.result.row.auc !== null) {
    delong = pairedDeLong(first.result.row, first.scores, second.result.row, second.scores);
  }
  const unreadable = new Map<string, string>();
  for (const r of rows) if (r.status === 'error' && !unreadable.has(r.file)) unreadable.set(r.file, r.message ?? 'could not be read');
  return {
    folder: plan.folder,
    classes: plan.classes,
    perClass: input.perClass ?? null,
    seed: input.seed,
    files: plan.files.length,
    skipped: plan.skipped,
    otherFolders: plan.otherFolders,
    unreadable: [...unreadable].map(([file, message]) => ({ file, message })),
    runs: scored.map((s) => s.result),
    delong,
    rows,
  };
}
