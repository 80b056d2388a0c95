/**
 * The audit: every check over what import stored (no file is decoded again), findings replaced in one
 * transaction. A person's decision on a finding is kept by its stable key, so it survives a re-audit.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Db } from '../db/open';
import { labelDoubtDrafts } from './doubt-findings';
import { duplicateGroups } from './audit-groups';
import { storedNearPairs } from './near-pair-store';
import { fileChecks, groupChecks, outlierChecks, type DraftFinding } from './audit-checks';
import { shortcutChecks } from './audit-shortcuts';
import { fsPath } from './fs-names';
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
  // by name, once: thousands of bad rows against 100,000 images must not compare every pair
  const byName = new Map<string, ImageRecord[]>();
  for (const i of images) {
    for (const key of new Set([i.rel_path, i.file_name])) {
      const list = byName.get(key);
      if (list) list.push(i);
      else byName.set(key, [i]);
    }
  }
  const drafts: DraftFinding[] = [];
  for (const issue of issues.filter((i) => i.kind !== 'missing-file')) {
    const matches = byName.get(issue.file) ?? [];
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
    ...fileChecks(images, (path) => existsSync(fsPath(path))),
    ...csvDrafts,
    ...groupChecks(duplicateGroups(included, storedNearPairs(db))),
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

export { decideFinding, listFindings } from './findings-query';
