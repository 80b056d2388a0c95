/**
 * `evaluate`: each run scores the planned images exactly as `predict` does (the same stream, TTA and faces
 * defaults; a K-fold run's folds' mean; an ensemble's members' mean), and is scored on them with the comparison's own statistics: the
 * row compare builds (AUC and log loss with bootstrap intervals, accuracy at 0.5), its recorded score beside
 * it, and DeLong between the two best on the same images. Unreadable files are counted, never scored.
 */
import type { RunInfo } from '../../../shared/contract';
import type { DeLongTest } from '../../../shared/contract-compare';
import type { EvaluateInput, EvaluateResult, EvaluateRow, EvaluateRun } from '../../../shared/contract-evaluate';
import { AppError } from '../../../shared/errors';
import type { Library } from '../library';
import { predictStream, type PredictStreamResult } from '../ml/inference/predict-stream';
import { getRun } from '../ml/runs/store';
import { ENSEMBLE_MODEL } from '../../../shared/names';
import { memberMean } from './ensemble';
import { foldCheckpointDirs, readCheckpointInfo, runDir } from '../ml/runs/checkpoint';
import { pairedDeLong, rankRows } from './compare';
import { compareRow, runMembers, type RunScores } from './evaluate';
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

/** The run's own score: out of fold for a K-fold run, and for an ensemble of K-fold runs (`members`; the mean of theirs). */
function recorded(run: RunInfo, members: readonly RunInfo[]): EvaluateRun['recorded'] {
  const oof = run.folds !== null || (members.length > 0 && members.every((m) => m.folds !== null));
  return { on: oof ? 'out-of-fold' : 'val', auc: run.best?.valAuc ?? null, logLoss: run.best?.valLogLoss ?? null };
}

/** What one run made of every planned file, in the plan's order, before any statistics. */
interface Predicted {
  probs: Array<number | null>;
  status: Array<{ status: EvaluateRow['status']; message: string | null }>;
  /** How it ran; tta null for an ensemble of runs with different modes. */
  how: Pick<PredictStreamResult, 'faces' | 'errors' | 'engine' | 'provider' | 'fallback' | 'seconds'> & { tta: PredictStreamResult['tta'] | null };
}

/** A trained run over every planned file, as predict scores them. */
async function predictRun(lib: Library, run: RunInfo, plan: ExternalPlan, input: EvaluateInput, phase: string, opts: ExternalOptions): Promise<Predicted> {
  const probs: Array<number | null> = [];
  const status: Predicted['status'] = [];
  const res = await predictStream(
    lib,
    run.id,
    plan.files.map((f) => f.abs),
    (row) => {
      // rows come in the order of the files
      if (probs.length >= plan.files.length) throw new Error(`predict returned more rows than the ${plan.files.length} files`);
      probs.push(row.probability);
      status.push({ status: row.status, message: row.message });
    },
    {
      ...(input.engine !== undefined ? { engine: input.engine } : {}),
      ...(input.tta !== undefined ? { tta: input.tta } : {}),
      ...(input.faces !== undefined ? { faces: input.faces } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      onProgress: (done, total) => opts.progress?.(phase, done, total),
    },
  );
  return { probs, status, how: res };
}

/**
 * An ensemble: the mean of its members' probabilities per file, as `ensemble` averages stored ones (in
 * ascending order, so the same bits whatever order the members were named in); a file any member could not
 * read is not scored.
 */
function meanOf(members: readonly Predicted[]): Predicted {
  const [first] = members;
  if (first === undefined) throw new Error('an ensemble with no members');
  const probs = first.probs.map((_, i) => {
    const ps = members.map((m) => m.probs[i]);
    return ps.every((p): p is number => p !== null && p !== undefined) ? memberMean(ps) : null;
  });
  const status = first.status.map((_, i) => members.map((m) => m.status[i]).find((x) => x !== undefined && x.status === 'error') ?? first.status[i] ?? { status: 'ok' as const, message: null });
  const ttas = new Set(members.map((m) => m.how.tta));
  return {
    probs,
    status,
    how: {
      tta: ttas.size === 1 ? first.how.tta : null,
      faces: members.every((m) => m.how.faces),
      errors: probs.filter((p) => p === null).length,
      engine: first.how.engine,
      provider: first.how.provider,
      fallback: members.map((m) => m.how.fallback).find((f) => f !== null) ?? null,
      seconds: members.reduce((acc, m) => acc + m.how.seconds, 0),
    },
  };
}

/** The run's rows (appended to `rows`) and its scores on the files it could read. */
function scoredOf(lib: Library, run: RunInfo, members: readonly RunInfo[], plan: ExternalPlan, p: Predicted, rows: EvaluateRow[]): Scored {
  const scores: RunScores = { imageIds: [], labels: [], probs: [] };
  const names = plan.classes.map((c) => c.name);
  plan.files.forEach((f, i) => {
    const probability = p.probs[i] ?? null;
    const st = p.status[i] ?? { status: 'error' as const, message: 'not scored' };
    rows.push({ file: f.rel, class: names[f.label] ?? '', run: run.id, probability, status: st.status, message: st.message });
    if (probability !== null) {
      scores.imageIds.push(i);
      scores.labels.push(f.label);
      scores.probs.push(probability);
    }
  });
  const positives = scores.labels.filter((l) => l === 1).length;
  const negatives = scores.labels.length - positives;
  for (const [k, n] of [[0, negatives], [1, positives]] as const) {
    if (n === 0) {
      const c = plan.classes[k];
      throw new AppError('BAD_INPUT', `run ${run.id} could read none of the ${c?.used ?? 0} images in ${c?.folder ?? '?'}/ (class '${c?.name ?? '?'}'): evaluate needs readable images of both classes`);
    }
  }
  const row = { ...compareRow(lib.db, run, scores), tta: p.how.tta, faces: p.how.faces };
  const own = recorded(run, members);
  const result: EvaluateRun = {
    runId: run.id,
    row,
    positives,
    negatives,
    unreadable: p.how.errors,
    recorded: own,
    drop: own.auc !== null && row.auc !== null ? own.auc - row.auc : null,
    engine: p.how.engine,
    provider: p.how.provider,
    fallback: p.how.fallback,
    seconds: p.how.seconds,
  };
  return { result, scores };
}

/** Scores every run of the plan on its images; best first, with DeLong between the two best. */
export async function evaluateExternal(lib: Library, plan: ExternalPlan, input: EvaluateInput, opts: ExternalOptions = {}): Promise<EvaluateResult> {
  const names = plan.classes.map((c) => c.name);
  const rows: EvaluateRow[] = [];
  const scored: Scored[] = [];
  // a run named twice, or a member of an ensemble also named, scores the images once
  const predicted = new Map<string, Predicted>();
  const predict = async (run: RunInfo, phase: string): Promise<Predicted> => {
    const known = predicted.get(run.id);
    if (known !== undefined) return known;
    await checkRunClasses(lib, run, names);
    const p = await predictRun(lib, run, plan, input, phase, opts);
    predicted.set(run.id, p);
    return p;
  };
  for (const [k, run] of plan.runs.entries()) {
    const phase = `run ${k + 1}/${plan.runs.length} ${run.id}`;
    const members = run.model === ENSEMBLE_MODEL ? runMembers(run).map((id) => getRun(lib.db, id)) : [];
    // one member after another: the runs share the cores, in parallel they would only fight
    const each: Predicted[] = [];
    for (const [j, m] of members.entries()) each.push(await predict(m, `${phase} (member ${j + 1}/${members.length})`));
    const p = run.model === ENSEMBLE_MODEL ? meanOf(each) : await predict(run, phase);
    scored.push(scoredOf(lib, run, members, plan, p, rows));
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
