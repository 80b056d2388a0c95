/**
 * Stored doubts as audit findings. Kept apart from store.ts so the audit can import it without a cycle:
 * the audit re-adds a `label-doubt` finding for every stored doubt whose image still has the doubted label
 * and the same content, so doubts survive a re-audit and vanish once the label is changed.
 */
import type { DraftFinding } from './audit-checks';
import type { ImageRecord } from './images';
import type { Db } from '../db/open';

export interface StoredDoubt {
  imageId: number;
  sha256: string;
  given: string;
  suggested: string;
  probability: number;
  rank: number;
  /** Expected precision at this rank from planted flips; null when not calibrated. */
  expectedPrecision: number | null;
}

/** The last computation's doubts, by rank. */
export function storedDoubts(db: Db): StoredDoubt[] {
  return db
    .prepare(
      `SELECT image_id AS imageId, sha256, given, suggested, probability, rank, expected_precision AS expectedPrecision FROM label_doubts
       WHERE doubts_run_id = (SELECT MAX(id) FROM doubts_runs) ORDER BY rank`,
    )
    .all() as StoredDoubt[];
}

export const doubtKey = (sha256: string, given: string): string => `label-doubt:${sha256}:${given}`;

function displayNames(db: Db): Map<string, string> {
  const rows = db.prepare('SELECT name, display_name FROM classes').all() as Array<{ name: string; display_name: string }>;
  return new Map(rows.map((r) => [r.name, r.display_name]));
}

export function doubtMessage(d: Pick<StoredDoubt, 'given' | 'suggested' | 'probability' | 'rank'>, names: ReadonlyMap<string, string>): string {
  const show = (c: string): string => names.get(c) ?? c;
  return `labelled '${show(d.given)}', the models say '${show(d.suggested)}' (p(${show(d.given)}) = ${d.probability.toFixed(3)}, rank ${d.rank})`;
}

/** Findings for the stored doubts whose image is included, unchanged and still labelled as doubted. */
export function labelDoubtDrafts(db: Db, images: readonly ImageRecord[]): DraftFinding[] {
  const byId = new Map(images.map((i) => [i.id, i]));
  const names = displayNames(db);
  const out: DraftFinding[] = [];
  for (const d of storedDoubts(db)) {
    const img = byId.get(d.imageId);
    if (!img || img.excluded === 1 || img.sha256 !== d.sha256 || img.label !== d.given) continue;
    out.push({
      kind: 'label-doubt',
      severity: 'warning',
      images: [img],
      message: doubtMessage(d, names),
      detail: { given: d.given, suggested: d.suggested, probability: d.probability, rank: d.rank },
      key: doubtKey(d.sha256, d.given),
    });
  }
  return out;
}
