/**
 * The doubts in SQLite: the last computation replaces the one before; its doubts become `label-doubt`
 * findings of the current audit (an audit is run first when there is none); accepting one relabels the
 * image with source 'model-suggestion' (undoable like every label event) and resolves the finding.
 */
import { DoubtsCalibration, type DoubtRow, type DoubtsInfo } from '../../../shared/contract-compare';
import type { TtaMode } from '../../../shared/names';
import { AppError } from '../../../shared/errors';
import { runAudit } from '../dataset/audit';
import { setLabels } from '../dataset/edits';
import { allImages } from '../dataset/images';
import type { Db } from '../db/open';
import { doubtKey, labelDoubtDrafts, storedDoubts, type StoredDoubt } from '../dataset/doubt-findings';
import type { ConfidentLearningResult } from './confident';

/**
 * Confident learning's issues as the doubts to store (ranked from 1, not calibrated) and its thresholds by
 * class name; `image(index)` is the image an issue's index names. Features and a K-fold run's own
 * probabilities both end here.
 */
export function doubtsOfIssues(
  cl: ConfidentLearningResult,
  classes: readonly string[],
  image: (index: number) => { id: number; sha256: string },
): { doubts: StoredDoubt[]; thresholds: Record<string, number> } {
  const doubts = cl.issues.map((issue, k) => {
    const img = image(issue.index);
    return { imageId: img.id, sha256: img.sha256, given: classes[issue.given] ?? '', suggested: classes[issue.suggested] ?? '', probability: issue.selfConfidence, rank: k + 1, expectedPrecision: null };
  });
  return { doubts, thresholds: Object.fromEntries(classes.map((c, j) => [c, cl.thresholds[j] ?? Number.NaN])) };
}

export interface DoubtsRunRecord {
  model: string;
  weights: string;
  inputSize: number;
  runId: string | null;
  folds: number;
  seed: number;
  images: number;
  thresholds: Record<string, number>;
  oofAuc: number | null;
  l2: number;
  seconds: number;
  calibration: DoubtsCalibration | null;
  /** The averaged views; null for a run's own probabilities. */
  tta: TtaMode | null;
  /** The faces were scored too (doubts/faces.ts). */
  faces: boolean;
}

export function saveDoubts(db: Db, run: DoubtsRunRecord, doubts: readonly StoredDoubt[]): void {
  db.transaction(() => {
    db.prepare('DELETE FROM doubts_runs').run();
    const id = Number(
      db
        .prepare(
          `INSERT INTO doubts_runs (model, weights, input_size, run_id, folds, seed, images, thresholds, oof_auc, l2, seconds, created_at, calibration, tta, faces)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          run.model, run.weights, run.inputSize, run.runId, run.folds, run.seed, run.images, JSON.stringify(run.thresholds), run.oofAuc, run.l2, run.seconds,
          new Date().toISOString(), run.calibration === null ? null : JSON.stringify(run.calibration), run.tta, run.faces ? 1 : 0,
        )
        .lastInsertRowid,
    );
    const insert = db.prepare(
      'INSERT INTO label_doubts (doubts_run_id, image_id, sha256, given, suggested, probability, rank, expected_precision) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const d of doubts) insert.run(id, d.imageId, d.sha256, d.given, d.suggested, d.probability, d.rank, d.expectedPrecision);
  }).immediate();
}

/** Replaces the current audit's label-doubt findings with the stored doubts (runs the audit if none exists). */
export function writeDoubtFindings(db: Db): void {
  const audit = db.prepare('SELECT MAX(id) AS id FROM audits').get() as { id: number | null };
  if (audit.id === null) {
    runAudit(db);
    return;
  }
  const auditId = audit.id;
  const drafts = labelDoubtDrafts(db, allImages(db));
  db.transaction(() => {
    db.prepare("DELETE FROM findings WHERE kind = 'label-doubt' AND audit_id = ?").run(auditId);
    const insert = db.prepare('INSERT INTO findings (audit_id, key, kind, severity, message, detail) VALUES (?, ?, ?, ?, ?, ?)');
    const link = db.prepare('INSERT INTO finding_images (finding_id, image_id, position) VALUES (?, ?, 0)');
    for (const d of drafts) {
      const id = Number(insert.run(auditId, d.key, d.kind, d.severity, d.message, JSON.stringify(d.detail)).lastInsertRowid);
      for (const img of d.images) link.run(id, img.id);
    }
  }).immediate();
}

/** The last computation's doubts with each one's finding in the current audit (null once relabelled). */
export function listDoubts(db: Db): DoubtRow[] {
  const relPath = db.prepare('SELECT rel_path FROM images WHERE id = ?');
  const finding = db.prepare(
    "SELECT id FROM findings WHERE key = ? AND kind = 'label-doubt' AND audit_id = (SELECT MAX(id) FROM audits)",
  );
  return storedDoubts(db).map((d) => {
    const path = relPath.get(d.imageId) as { rel_path: string } | undefined;
    const f = finding.get(doubtKey(d.sha256, d.given)) as { id: number } | undefined;
    return {
      imageId: d.imageId,
      relPath: path?.rel_path ?? '',
      given: d.given,
      suggested: d.suggested,
      probability: d.probability,
      rank: d.rank,
      findingId: f?.id ?? null,
      expectedPrecision: d.expectedPrecision,
    };
  });
}

export interface Accepted {
  imageId: number;
  label: string;
  batch: number;
}

/** Relabels the finding's image as the models suggest (source 'model-suggestion') and resolves the finding. */
export function acceptDoubt(db: Db, findingId: number): Accepted {
  const row = db.prepare('SELECT kind, detail FROM findings WHERE id = ?').get(findingId) as { kind: string; detail: string } | undefined;
  if (!row) throw new AppError('NOT_FOUND', `no finding ${findingId} in the last audit ('mask-studio doubts' lists the label doubts)`);
  if (row.kind !== 'label-doubt') throw new AppError('BAD_INPUT', `finding ${findingId} is a '${row.kind}' finding, not a label doubt`);
  const detail = JSON.parse(row.detail) as { suggested?: unknown };
  const image = db.prepare('SELECT image_id FROM finding_images WHERE finding_id = ? ORDER BY position LIMIT 1').get(findingId) as { image_id: number } | undefined;
  if (typeof detail.suggested !== 'string' || !image) throw new AppError('INTERNAL', `finding ${findingId} names no image or suggested label`);
  const change = setLabels(db, [image.image_id], detail.suggested, 'model-suggestion');
  if (change.batch === null) throw new AppError('CONFLICT', `the image of finding ${findingId} is already labelled '${detail.suggested}'`);
  // no decision is stored: the finding reads as resolved while the label differs from the doubted one, so an
  // undo of this change reopens it (the status rule in dataset/findings-query.ts)
  return { imageId: image.image_id, label: detail.suggested, batch: change.batch };
}

/** The last computation's record (model, out-of-fold AUC, how many doubts), or null before the first. */
export function doubtsInfo(db: Db): DoubtsInfo | null {
  const row = db
    .prepare(
      `SELECT model, weights, input_size AS inputSize, run_id AS runId, folds, images, oof_auc AS oofAuc, created_at AS createdAt,
              (SELECT COUNT(*) FROM label_doubts d WHERE d.doubts_run_id = r.id) AS doubts, calibration, tta, faces
       FROM doubts_runs r ORDER BY id DESC LIMIT 1`,
    )
    .get() as (Omit<DoubtsInfo, 'calibration' | 'faces'> & { calibration: string | null; faces: number }) | undefined;
  if (!row) return null;
  return { ...row, faces: row.faces === 1, calibration: row.calibration === null ? null : readCalibration(row.calibration) };
}

/** The stored summary, checked against its schema: a row some other version wrote reads as not calibrated. */
function readCalibration(text: string): DoubtsCalibration | null {
  try {
    const parsed = DoubtsCalibration.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
