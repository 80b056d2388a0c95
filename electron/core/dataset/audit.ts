/**
 * The audit: every check over what import stored (no file is decoded again), findings replaced in one
 * transaction. A person's decision on a finding is kept by its stable key, so it survives a re-audit.
 */
import { existsSync } from 'node:fs';
import type { Finding, FindingKind, FindingStatus } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { labelDoubtDrafts } from './doubt-findings';
import { duplicateGroups } from './audit-groups';
import { fsPath } from './fs-names';
import { fileChecks, groupChecks, outlierChecks, shortcutChecks, type DraftFinding } from './audit-checks';
import { allImages, type ImageRecord } from './images';

export interface AuditResult {
  images: number;
  findings: number;
  byKind: Record<string, number>;
  seconds: number;
}

function importIssueChecks(db: Db, images: readonly ImageRecord[]): { drafts: DraftFinding[]; named: Set<number> } {
  const issues = db
    .prepare('SELECT ii.*, s.root FROM import_issues ii JOIN sources s ON s.id = ii.source_id ORDER BY ii.source_id, ii.line')
    .all() as Array<{ kind: 'unknown-label' | 'duplicate-row'; line: number; file: string; message: string; root: string }>;
  const named = new Set<number>();
  const drafts = issues.map((issue): DraftFinding => {
    const matches = images.filter((i) => i.rel_path === issue.file || i.file_name === issue.file);
    if (issue.kind === 'unknown-label') for (const m of matches) named.add(m.id);
    return {
      kind: issue.kind,
      severity: issue.kind === 'unknown-label' ? 'error' : 'warning',
      images: matches,
      ...(matches.length === 0 ? { extraNames: [issue.file] } : {}),
      message: issue.message,
      detail: { line: issue.line, file: issue.file },
      key: `${issue.kind}:${issue.root}:${issue.file}:${issue.line}`,
    };
  });
  return { drafts, named };
}

export function runAudit(db: Db): AuditResult {
  const started = performance.now();
  const images = allImages(db);
  const classes = (db.prepare('SELECT name FROM classes ORDER BY position').all() as Array<{ name: string }>).map((c) => c.name);
  const included = images.filter((i) => i.excluded === 0);
  const { drafts: csvDrafts, named } = importIssueChecks(db, images);
  const drafts: DraftFinding[] = [
    ...fileChecks(images, (path) => existsSync(fsPath(path))),
    ...csvDrafts,
    ...groupChecks(duplicateGroups(included)),
    ...outlierChecks(images),
    ...shortcutChecks(images, classes),
    // the models' label doubts (`mask-studio doubts`) are computed elsewhere; re-added while still relevant
    ...labelDoubtDrafts(db, included),
  ];
  for (const img of included) {
    if (img.label === null && img.split !== 'submission' && !named.has(img.id)) {
      drafts.push({
        kind: 'unlabelled',
        severity: 'info',
        images: [img],
        message: `${img.rel_path} has no label and is not in the sample submission: label it or exclude it`,
        detail: {},
        key: `unlabelled:${img.sha256}`,
      });
    }
  }

  const byKind: Record<string, number> = {};
  db.transaction(() => {
    db.prepare('DELETE FROM audits').run();
    const auditId = Number(
      db.prepare('INSERT INTO audits (created_at, seconds, images) VALUES (?, 0, ?)').run(new Date().toISOString(), images.length).lastInsertRowid,
    );
    const insert = db.prepare('INSERT INTO findings (audit_id, key, kind, severity, message, detail) VALUES (?, ?, ?, ?, ?, ?)');
    const link = db.prepare('INSERT OR IGNORE INTO finding_images (finding_id, image_id, position) VALUES (?, ?, ?)');
    const seen = new Set<string>();
    for (const d of drafts) {
      if (seen.has(d.key)) continue;
      seen.add(d.key);
      const detail = d.extraNames ? { ...d.detail, names: d.extraNames } : d.detail;
      const id = Number(insert.run(auditId, d.key, d.kind, d.severity, d.message, JSON.stringify(detail)).lastInsertRowid);
      d.images.forEach((img, pos) => link.run(id, img.id, pos));
      byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
    }
    db.prepare('UPDATE audits SET seconds = ? WHERE id = ?').run((performance.now() - started) / 1000, auditId);
  }).immediate();
  return { images: images.length, findings: Object.values(byKind).reduce((a, b) => a + b, 0), byKind, seconds: (performance.now() - started) / 1000 };
}

interface FindingRecord {
  id: number;
  key: string;
  kind: FindingKind;
  severity: Finding['severity'];
  message: string;
  detail: string;
  decision: FindingStatus | null;
}

/** Findings of the last audit; status is the person's decision, else 'resolved' when every image is excluded. */
export function listFindings(db: Db, filter: { kind?: FindingKind | undefined; status?: FindingStatus | undefined } = {}): Finding[] {
  const rows = db
    .prepare(
      `SELECT f.id, f.key, f.kind, f.severity, f.message, f.detail, d.status AS decision
       FROM findings f LEFT JOIN finding_decisions d ON d.key = f.key
       ${filter.kind ? 'WHERE f.kind = ?' : ''} ORDER BY f.id`,
    )
    .all(...(filter.kind ? [filter.kind] : [])) as FindingRecord[];
  const imagesOf = db.prepare(
    'SELECT i.id, i.rel_path, i.excluded, i.label FROM finding_images fi JOIN images i ON i.id = fi.image_id WHERE fi.finding_id = ? ORDER BY fi.position',
  );
  const out: Finding[] = [];
  for (const r of rows) {
    const imgs = imagesOf.all(r.id) as Array<{ id: number; rel_path: string; excluded: number; label: string | null }>;
    const detail = JSON.parse(r.detail) as Record<string, unknown>;
    const names = Array.isArray(detail['names']) ? (detail['names'] as string[]) : [];
    const allExcluded = imgs.length > 0 && imgs.every((i) => i.excluded === 1);
    // a label doubt is settled once the label it doubted is gone (accepted, or relabelled by hand), and open
    // again when an undo brings that label back
    const relabelled = r.kind === 'label-doubt' && imgs.length > 0 && imgs.every((i) => i.label !== detail['given']);
    const status: FindingStatus = r.decision ?? (allExcluded || relabelled ? 'resolved' : 'open');
    if (filter.status && status !== filter.status) continue;
    out.push({
      id: r.id,
      key: r.key,
      kind: r.kind,
      severity: r.severity,
      images: [...imgs.map((i) => i.rel_path), ...names],
      imageIds: imgs.map((i) => i.id),
      message: r.message,
      detail,
      status,
    });
  }
  return out;
}

export function decideFinding(db: Db, id: number, status: FindingStatus): Finding {
  const row = db.prepare('SELECT key FROM findings WHERE id = ?').get(id) as { key: string } | undefined;
  if (!row) throw new AppError('NOT_FOUND', `no finding ${id} in the last audit; run the audit again`);
  db.prepare(
    'INSERT INTO finding_decisions (key, status, decided_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET status = excluded.status, decided_at = excluded.decided_at',
  ).run(row.key, status, new Date().toISOString());
  const found = listFindings(db).find((f) => f.id === id);
  if (!found) throw new AppError('INTERNAL', `finding ${id} vanished`);
  return found;
}
