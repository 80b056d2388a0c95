/**
 * `train --faces`: once a run has trained, its validation, test and submission rows are scored again with
 * their images' faces (ml/inference/faces.ts) by the checkpoint that scored them, with the run's TTA: a
 * single run's checkpoint; a K-fold run's own held-out fold model for each out-of-fold row (no model scores a
 * face of an image it trained on) and the folds' mean for test and submission, as predict does. The run's
 * score is then computed again over the new validation rows, and `facesScored` on its config records it once
 * (a second call changes nothing). The epochs table keeps the whole-image curves it trained by.
 */
import { AppError } from '../../../../shared/errors';
import { BACKEND_PREFS } from '../../../../shared/names';
import type { RunInfo } from '../../../../shared/contract';
import { refuseEnsemble } from '../../compare/ensemble';
import { FaceFinder } from '../../faces/crops';
import type { Library } from '../../library';
import { binaryMetrics } from '../../stats/metrics';
import { combineFaces, faceScores, type FaceSource } from '../inference/faces';
import { openPredictor, openRunPredictor, type Predictor } from '../inference/predictor';
import { recordedTta, withTta } from '../inference/tta';
import { foldDir, readCheckpointInfo, runDir } from '../runs/checkpoint';
import { foldState } from '../runs/fold-state';
import { recordedFaces, type RunFaces } from '../runs/faces-record';
import { getRun, trainingSet, type TrainingSet } from '../runs/store';
import { heldOutFolds } from './kfold';

interface Row {
  imageId: number;
  split: 'val' | 'test' | 'submission';
  probability: number;
}

/** A set of rows and the checkpoint(s) that scored them. */
interface Group {
  /** What the progress names: 'fold 2 of 5', 'test and submission'; '' for a single run's one checkpoint. */
  label: string;
  rows: Row[];
  open: () => Promise<Predictor>;
}

/** A K-fold run's out-of-fold rows by the fold that held them out, the test and submission rows by the folds' mean. */
function foldGroups(lib: Library, set: TrainingSet, run: RunInfo, rows: readonly Row[], dir: string, k: number, finished: readonly number[]): Group[] {
  const foldOf = heldOutFolds(lib.db, set, run, k);
  if (foldOf === null) {
    throw new AppError('CONFLICT', `run ${run.id}: the library's labels or split changed since it trained, so its folds cannot be rebuilt to score faces`);
  }
  const groups: Group[] = finished.map((f) => ({
    label: `fold ${f + 1} of ${k}`,
    rows: rows.filter((r) => r.split === 'val' && foldOf.get(r.imageId) === f),
    open: async () => {
      const d = foldDir(dir, f);
      return openPredictor(d, await readCheckpointInfo(d, run.id), run.id, {});
    },
  }));
  groups.push({ label: 'test and submission', rows: rows.filter((r) => r.split !== 'val'), open: async () => (await openRunPredictor(dir, run.id, {})).predictor });
  return groups;
}

/**
 * Scores the run's rows with their faces and stores them (see the file's comment); returns what it did, or
 * what an earlier call did.
 */
export async function scoreRunFaces(
  lib: Library,
  runRef: string,
  opts: { signal?: AbortSignal; progress?: (phase: string, done: number, total: number) => void } = {},
): Promise<RunFaces> {
  const started = performance.now();
  const run = getRun(lib.db, runRef);
  refuseEnsemble(run, 'score faces with');
  const done = recordedFaces(run.config);
  if (done !== null) return done;
  const rows = lib.db
    .prepare("SELECT image_id AS imageId, split, probability FROM predictions WHERE run_id = ? AND split IN ('val', 'test', 'submission') ORDER BY image_id")
    .all(run.id) as Row[];
  const images = new Map(
    (lib.db.prepare('SELECT id, path, sha256 FROM images').all() as Array<{ id: number; path: string; sha256: string }>).map((i) => [i.id, i]),
  );
  const dir = runDir(lib, run.id);
  const set = trainingSet(lib.db);
  const state = foldState(run.config);
  const groups: Group[] = state !== null
    ? foldGroups(lib, set, run, rows, dir, state.k, state.finished)
    : [{ label: '', rows, open: async () => (await openRunPredictor(dir, run.id, {})).predictor }];
  const tta = recordedTta(run.config);
  // the run's own backend: ONNX export of a checkpoint reads it through TensorFlow.js (else tfjs's slow cpu default)
  const backend = BACKEND_PREFS.find((b) => b === run.config['backend']) ?? 'auto';
  await (await import('../backend/train-backend')).chooseBackend(backend);
  const finder = new FaceFinder(lib.cacheDir, { backend, ...(opts.signal ? { signal: opts.signal } : {}) });
  const summary: RunFaces = { rows: 0, images: 0, faces: 0, detected: 0, seconds: 0 };
  const updates: Array<{ row: Row; probability: number }> = [];
  try {
    for (const g of groups) {
      if (g.rows.length === 0) continue;
      const sources: FaceSource[] = g.rows.map((r) => {
        const im = images.get(r.imageId);
        if (im === undefined) throw new AppError('CONFLICT', `run ${run.id} scored image ${r.imageId}, which is no longer in the library`);
        return { path: im.path, sha256: im.sha256 };
      });
      const predictor = await g.open();
      try {
        const size = run.inputSize ?? 0;
        const score = withTta(tta, size, (imgs) => predictor.run(imgs));
        const progress = opts.progress;
        const onProgress = progress ? (phase: string, n: number, total: number): void => progress(g.label === '' ? phase : `${phase} (${g.label})`, n, total) : undefined;
        const f = await faceScores(finder, sources, size, score, { ...(opts.signal ? { signal: opts.signal } : {}), ...(onProgress ? { onProgress } : {}) });
        const p = combineFaces(g.rows.map((r) => r.probability), f.faces);
        g.rows.forEach((row, i) => updates.push({ row, probability: p[i] ?? row.probability }));
        summary.rows += g.rows.length;
        summary.images += f.faces.filter((x) => x.length > 0).length;
        summary.faces += f.faces.reduce((s, x) => s + x.length, 0);
        summary.detected += f.detected;
      } finally {
        await predictor.close();
      }
    }
  } finally {
    finder.dispose();
  }
  summary.seconds = (performance.now() - started) / 1000;
  store(lib, set, run, updates, summary);
  return summary;
}

/** The new rows, the run's score over its validation rows, and `facesScored`, in one transaction. */
function store(lib: Library, set: TrainingSet, run: RunInfo, updates: ReadonlyArray<{ row: Row; probability: number }>, summary: RunFaces): void {
  // the score is over the labels the run trained with: where they changed since, it is left as it was
  const label = new Map(set.dataHash === run.dataHash ? [...set.train, ...set.val].map((it) => [it.id, it.label]) : []);
  const val = updates.filter((u) => u.row.split === 'val' && label.has(u.row.imageId));
  const m = binaryMetrics(val.map((u) => label.get(u.row.imageId) ?? 0), val.map((u) => u.probability));
  const set1 = lib.db.prepare('UPDATE predictions SET probability = ? WHERE run_id = ? AND image_id = ? AND split = ?');
  lib.db.transaction(() => {
    for (const u of updates) set1.run(u.probability, run.id, u.row.imageId, u.row.split);
    if (val.length > 0) lib.db.prepare('UPDATE runs SET best_val_auc = ?, best_val_log_loss = ? WHERE id = ?').run(m.auc, m.logLoss, run.id);
    lib.db.prepare(`UPDATE runs SET config = json_set(config, '$.facesScored', json(?)) WHERE id = ?`).run(JSON.stringify(summary), run.id);
  })();
}

/**
 * After training: a finished run asked to score faces does. A failure or a cancel here never costs what the
 * run trained: it keeps its whole-image scores, and its error says why the faces were not scored.
 */
export async function facesAfterTraining(
  lib: Library,
  runId: string,
  ctx: { signal: AbortSignal; progress: (phase: string, done: number, total: number) => void },
): Promise<void> {
  const run = getRun(lib.db, runId);
  if (run.config['faces'] !== true || run.status !== 'done' || ctx.signal.aborted) return;
  // the run reads as running until its faces are scored: compare, evaluate, ensembles and predict wait for
  // the scores it keeps instead of taking the whole images' (a kill now leaves it interrupted, its checkpoint usable)
  const status = lib.db.prepare("UPDATE runs SET status = ? WHERE id = ? AND status = ?");
  status.run('running', runId, 'done');
  try {
    await scoreRunFaces(lib, runId, { signal: ctx.signal, progress: ctx.progress });
  } catch (err) {
    const why = ctx.signal.aborted ? 'cancelled' : err instanceof Error ? err.message : String(err);
    lib.db.prepare('UPDATE runs SET error = ? WHERE id = ?').run(`faces not scored (${why}); the scores are the whole images'`, runId);
  } finally {
    status.run('done', runId, 'running');
  }
}
