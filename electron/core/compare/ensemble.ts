/**
 * Ensembles: the mean of several finished runs' probabilities, stored as a run of its own (model
 * 'ensemble', its members in the config JSON) so `compare` ranks it and `submission` writes it like any
 * run. It has no weights: predicting files or exporting a model go through a member.
 */
import { scoredTta } from '../ml/inference/tta';
import { recordedFaces } from '../ml/runs/faces-record';
import { randomBytes } from 'node:crypto';
import type { RunInfo } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import { ENSEMBLE_MODEL } from '../../../shared/names';
import type { Db } from '../db/open';
import { getRun, hasUsableCheckpoint } from '../ml/runs/store';
import { binaryMetrics } from '../stats/metrics';
import { libraryClasses, runMembers, runScores } from './evaluate';


/** Refuses what needs a model's weights (predict, export, explain) on an ensemble, naming its members. */
export function refuseEnsemble(run: RunInfo, what: string): void {
  if (run.model !== ENSEMBLE_MODEL) return;
  const members = runMembers(run);
  throw new AppError(
    'CONFLICT',
    `run ${run.id} is an ensemble (the mean of ${members.length > 0 ? members.join(', ') : 'other runs'}'s stored probabilities): ` +
      `it has no weights to ${what}; use one of its member runs`,
  );
}

function newEnsembleId(): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${t}-ensemble-${randomBytes(2).toString('hex')}`;
}

/** The classes a run scored: an ensemble records them; a trained run used the library's list. */
function classesOf(run: RunInfo, library: readonly string[]): string[] {
  const c = run.config['classes'];
  return Array.isArray(c) && c.every((x) => typeof x === 'string') ? (c as string[]) : [...library];
}

const allEqual = <T>(values: readonly T[]): boolean => values.every((v) => v === values[0]);

/**
 * An ensemble has no epochs, but it has validation scores: stored as its "best" (with no epoch) so every view
 * that lists runs shows the AUC the comparison computes, not a dash.
 */
function recordValidationScores(db: Db, id: string, classes: readonly string[]): void {
  const s = runScores(db, id, 'val', classes);
  if (s.labels.length === 0) return;
  const m = binaryMetrics(s.labels, s.probs);
  db.prepare('UPDATE runs SET best_val_auc = ?, best_val_log_loss = ? WHERE id = ?').run(m.auc, m.logLoss, id);
}

/**
 * The mean of an ensemble's members' probabilities for one image, added in ascending order: the same bits
 * whatever order the members were named or stored in (stored rows here, evaluate's fresh ones alike).
 */
export function memberMean(probs: readonly number[]): number {
  return [...probs].sort((a, b) => a - b).reduce((acc, p) => acc + p, 0) / probs.length;
}

/** The mean probability per image (memberMean) over the images every member predicted, in the same split. */
function meanPredictions(db: Db, ids: readonly string[]): Array<{ imageId: number; split: string; probability: number }> {
  const placeholders = ids.map(() => '?').join(', ');
  const all = db
    .prepare(`SELECT image_id AS imageId, split, probability FROM predictions WHERE run_id IN (${placeholders})`)
    .all(...ids) as Array<{ imageId: number; split: string; probability: number }>;
  const byImage = new Map<number, { splits: Set<string>; probs: number[] }>();
  for (const p of all) {
    const entry = byImage.get(p.imageId) ?? { splits: new Set<string>(), probs: [] };
    entry.splits.add(p.split);
    entry.probs.push(p.probability);
    byImage.set(p.imageId, entry);
  }
  const out: Array<{ imageId: number; split: string; probability: number }> = [];
  for (const [imageId, e] of [...byImage].sort((a, b) => a[0] - b[0])) {
    const [split] = e.splits;
    if (e.probs.length !== ids.length || e.splits.size !== 1 || split === undefined) continue;
    out.push({ imageId, split, probability: memberMean(e.probs) });
  }
  return out;
}

/**
 * Averages the members' probabilities per split over the images every member predicted in that split,
 * into a new finished run; returns its id. Members must be finished, distinct, of the same classes and
 * trained on the same data (the same data hash), else their predictions are not about the same question.
 */
export function createEnsemble(db: Db, runRefs: readonly string[], name?: string): string {
  const members: RunInfo[] = [];
  const add = (run: RunInfo): void => {
    if (!members.some((m) => m.id === run.id)) members.push(run);
  };
  for (const ref of runRefs) {
    const run = getRun(db, ref);
    // an ensemble among the runs stands for its own runs: each run counts once (an ensemble of an ensemble
    // and a run weighted that run 50 % and the ensemble's two 25 % each, unsaid)
    if (run.model === ENSEMBLE_MODEL) for (const member of runMembers(run)) add(getRun(db, member));
    else add(run);
  }
  if (members.length < 2) {
    throw new AppError('BAD_INPUT', `an ensemble needs at least two different runs; got ${members.map((m) => m.id).join(', ') || 'none'}`);
  }
  const unfinished = members.filter((m) => !hasUsableCheckpoint(m));
  if (unfinished.length > 0) {
    throw new AppError(
      'CONFLICT',
      `only runs with a saved checkpoint can be averaged: ${unfinished.map((m) => `${m.id} is ${m.status}${m.status === 'running' ? '' : ' with no checkpoint'}`).join('; ')}`,
    );
  }
  const library = libraryClasses(db);
  const classes = members.map((m) => classesOf(m, library).join(','));
  if (!allEqual(classes)) {
    throw new AppError('CONFLICT', `the runs score different classes (${members.map((m, i) => `${m.id}: ${classes[i]}`).join('; ')}): their probabilities cannot be averaged`);
  }
  if (!allEqual(members.map((m) => m.dataHash))) {
    throw new AppError(
      'CONFLICT',
      `the runs trained on different data (${members.map((m) => `${m.id}: data ${m.dataHash.slice(0, 12)}`).join('; ')}): ` +
        "the library's labels or split changed between them, so their validation scores are not comparable; retrain them on the current split or pick runs with the same data hash",
    );
  }
  const first = members[0] as RunInfo;
  const ids = members.map((m) => m.id);
  const rows = meanPredictions(db, ids);
  if (rows.length === 0) throw new AppError('CONFLICT', `the runs ${ids.join(', ')} have no image that all of them predicted`);
  const id = newEnsembleId();
  const now = new Date().toISOString();
  const params = members.every((m) => m.params !== null) ? members.reduce((a, m) => a + (m.params ?? 0), 0) : null;
  const seconds = members.every((m) => m.seconds !== null) ? members.reduce((a, m) => a + (m.seconds ?? 0), 0) : null;
  // members scored with one TTA mode make an ensemble scored with it; mixed ones are recorded as such (no tta)
  const ttas = members.map((m) => scoredTta(m));
  // so are faces: members that all scored their faces make an ensemble that did (its rows are their mean)
  const config = {
    members: ids, name: name ?? null, classes: classes[0]?.split(',') ?? library, ...(allEqual(ttas) ? { tta: ttas[0] } : {}),
    ...(members.every((m) => m.faces) ? { facesScored: recordedFaces(first.config) } : {}),
  };
  const insert = db.prepare(
    `INSERT INTO runs (id, model, config, backend, device, engine, status, job_id, pid, started_at, finished_at, seconds, params,
       split_seed, data_hash, train_images, val_images, weights_source, input_size)
     VALUES (?, ?, ?, ?, ?, ?, 'done', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const prediction = db.prepare('INSERT INTO predictions (run_id, image_id, split, probability) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    insert.run(
      id, ENSEMBLE_MODEL, JSON.stringify(config), allEqual(members.map((m) => m.backend)) ? first.backend : 'mixed',
      // where the members ran (an ensemble itself runs nothing: it averages stored probabilities)
      allEqual(members.map((m) => m.device)) ? first.device : 'mixed',
      // the engine its members trained on ('trained on' reads onnx for members that all did), else mixed
      allEqual(members.map((m) => m.engine)) ? first.engine : 'mixed', process.pid, now, now,
      seconds, params, allEqual(members.map((m) => m.splitSeed)) ? first.splitSeed : null, first.dataHash, first.trainImages,
      // 0 stands for "the members differ" (the column is NOT NULL); runs.ts reads it back as null
      first.valImages, ENSEMBLE_MODEL, allEqual(members.map((m) => m.inputSize)) ? (first.inputSize ?? 0) : 0,
    );
    // a mean of values in [0, 1] can land a rounding error outside it; the table's CHECK would refuse that
    for (const r of rows) prediction.run(id, r.imageId, r.split, Math.min(1, Math.max(0, r.probability)));
    recordValidationScores(db, id, library);
  })();
  return id;
}
