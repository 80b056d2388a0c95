/**
 * The audit: every check over what import stored (no file is decoded again), findings replaced in one
 * transaction. A person's decision on a finding is kept by its stable key, so it survives a re-audit.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Finding, FindingKind, FindingStatus } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { labelDoubtDrafts } from './doubt-findings';
import { duplicateGroups } from './audit-groups';
import { fileChecks, groupChecks, outlierChecks, type DraftFinding } from './audit-checks';
import { shortcutChecks } from './audit-shortcuts';
import { findingFacts } from './finding-facts';
import { allImages, type ImageRecord } from './images';
import { groupMissingRows, missingRowsSentence } from './missing-rows';

export interface AuditResult {
  images: number;
  findings: number;
  byKind: Record<string, number>;
  seconds: number;
}

interface IssueRow {
  kind: 'unknown-label' | 'duplicate-row' | 'missing-file';
  line: number;
  file: string;
  message: string;
  csv: string;
  folder: string | null;
  root: string;
  sample_submission: string | null;
}

/**
 * The import's bad CSV rows as findings: one per unknown label or repeated row; the rows that name no file
 * as one `missing-file` warning per CSV (Zindi's sample submission lists 509 images where 315 may be present:
 * that is one fact, not 194 errors), every row in its detail.
 */
function importIssueChecks(db: Db, images: readonly ImageRecord[]): { drafts: DraftFinding[]; named: Set<number> } {
  const issues = db
    .prepare('SELECT ii.*, s.root, s.sample_submission FROM import_issues ii JOIN sources s ON s.id = ii.source_id ORDER BY ii.source_id, ii.line')
    .all() as IssueRow[];
  const named = new Set<number>();
  const drafts: DraftFinding[] = [];
  for (const issue of issues.filter((i) => i.kind !== 'missing-file')) {
    const matches = images.filter((i) => i.rel_path === issue.file || i.file_name === issue.file);
    if (issue.kind === 'unknown-label') for (const m of matches) named.add(m.id);
    drafts.push({
      kind: issue.kind,
      severity: issue.kind === 'unknown-label' ? 'error' : 'warning',
      images: matches,
      ...(matches.length === 0 ? { extraNames: [issue.file] } : {}),
      message: issue.message,
      detail: { line: issue.line, file: issue.file },
      key: `${issue.kind}:${issue.root}:${issue.file}:${issue.line}`,
    });
  }
  const missing = issues.filter((i) => i.kind === 'missing-file');
  const roots = [...new Set(missing.map((i) => i.root))];
  for (const root of roots) {
    const ofRoot = missing.filter((i) => i.root === root);
    const sample = ofRoot[0]?.sample_submission ?? null;
    for (const g of groupMissingRows(ofRoot, (csv) => sample !== null && basename(sample) === csv)) {
      drafts.push({
        kind: 'missing-file',
        severity: 'warning',
        images: [],
        extraNames: g.rows.map((r) => r.image),
        message: missingRowsSentence(g),
        detail: { csv: g.csv, folder: g.folder, count: g.rows.length, sampleSubmission: g.sample, rows: g.rows },
        key: `missing-file:csv:${root}:${g.csv}`,
      });
    }
  }
  return { drafts, named };
}

export function runAudit(db: Db): AuditResult {
  const started = performance.now();
  const images = allImages(db);
  const classRows = db.prepare('SELECT name, display_name FROM classes ORDER BY position').all() as Array<{ name: string; display_name: string }>;
  const classes = classRows.map((c) => c.name);
  const displayName = new Map(classRows.map((c) => [c.name, c.display_name]));
  const included = images.filter((i) => i.excluded === 0);
  const { drafts: csvDrafts, named } = importIssueChecks(db, images);
  const drafts: DraftFinding[] = [
    ...fileChecks(images, existsSync),
    ...csvDrafts,
    ...groupChecks(duplicateGroups(included)),
    ...outlierChecks(images),
    ...shortcutChecks(images, classes, (name) => displayName.get(name) ?? name),
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
  const names = new Map((db.prepare('SELECT name, display_name FROM classes').all() as Array<{ name: string; display_name: string }>).map((c) => [c.name, c.display_name]));
  const display = (name: string): string => names.get(name) ?? name;
  const out: Finding[] = [];
  for (const r of rows) {
    const imgs = imagesOf.all(r.id) as Array<{ id: number; rel_path: string; excluded: number; label: string | null }>;
    const detail = JSON.parse(r.detail) as Record<string, unknown>;
    const extra = Array.isArray(detail['names']) ? (detail['names'] as string[]) : [];
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
      images: [...imgs.map((i) => i.rel_path), ...extra],
      imageIds: imgs.map((i) => i.id),
      message: r.message,
      facts: findingFacts(r.kind, detail, display),
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
