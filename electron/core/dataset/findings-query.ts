/**
 * Reading the last audit's findings, each with its status and images, in one SQL statement however many
 * findings there are: the Review queue's pages, the full list, and the stream `audit --json` writes.
 *
 * A finding's status is the person's decision, else 'resolved' when every image it names is excluded (or,
 * for a label doubt, when none of its images still carries the doubted label), else 'open'. The queue order
 * is severity (errors first), then kind, then id; a cursor is the last finding's place in that order.
 */
import type { Finding, FindingKind, FindingStatus } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { findingFacts } from './finding-facts';

export interface FindingFilter {
  kind?: FindingKind | undefined;
  status?: FindingStatus | undefined;
  /** Only findings that name this image. */
  imageId?: number | undefined;
}

/** Images listed with one finding in a page; `imageCount` says how many it has in all. */
export const PAGE_IMAGES_MAX = 1000;

const STATUS = `COALESCE(d.status, CASE
  WHEN EXISTS (SELECT 1 FROM finding_images fi WHERE fi.finding_id = f.id) AND (
    NOT EXISTS (SELECT 1 FROM finding_images fi JOIN images i ON i.id = fi.image_id WHERE fi.finding_id = f.id AND i.excluded = 0)
    OR (f.kind = 'label-doubt' AND NOT EXISTS (
      SELECT 1 FROM finding_images fi JOIN images i ON i.id = fi.image_id
      WHERE fi.finding_id = f.id AND i.label IS json_extract(f.detail, '$.given'))))
  THEN 'resolved' ELSE 'open' END)`;
const OF_IMAGE = 'id IN (SELECT finding_id FROM finding_images WHERE image_id = @imageId)';
const RANK = `CASE f.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END`;

interface Row {
  id: number;
  key: string;
  kind: FindingKind;
  severity: Finding['severity'];
  message: string;
  detail: string;
  status: FindingStatus;
  rank: number;
  total: number;
  image_count: number;
  imgs: string;
  /** The classes' display names as one JSON object (the same for every row: the facts name classes by them). */
  class_names: string;
  /** Findings per kind under the status filter, whatever the kind filter, as [[kind, n], …] (the same for every row). */
  kind_counts: string;
}

function sql(filter: FindingFilter, opts: { byQueue: boolean; cursor: boolean; limit: boolean; one: boolean; images: number }): string {
  const where = [filter.kind ? 'kind = @kind' : null, filter.status ? 'status = @status' : null, opts.one ? 'id = @id' : null, filter.imageId !== undefined ? OF_IMAGE : null].filter(
    (w) => w !== null,
  );
  // the kind menu counts every kind under the other filters
  const counted = [filter.status ? 'status = @status' : null, filter.imageId !== undefined ? OF_IMAGE : null].filter((w) => w !== null);
  const order = opts.byQueue ? 'rank, kind, id' : 'id';
  return `
    WITH scored AS (
      SELECT f.id, f.kind, ${RANK} AS rank, ${STATUS} AS status
      FROM findings f LEFT JOIN finding_decisions d ON d.key = f.key),
    chosen AS (
      SELECT id, kind, rank, status, COUNT(*) OVER () AS total FROM scored
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}),
    page AS (
      SELECT * FROM chosen ${opts.cursor ? 'WHERE (rank, kind, id) > (@rank, @afterKind, @afterId)' : ''}
      ORDER BY ${order} ${opts.limit ? 'LIMIT @limit' : ''})
    SELECT f.id, f.key, f.kind, f.severity, f.message, f.detail, p.status, p.rank, p.total,
      (SELECT COUNT(*) FROM finding_images fi WHERE fi.finding_id = f.id) AS image_count,
      (SELECT json_group_array(json_array(x.id, x.rel_path)) FROM (
         SELECT i.id, i.rel_path FROM finding_images fi JOIN images i ON i.id = fi.image_id
         WHERE fi.finding_id = f.id ORDER BY fi.position LIMIT ${opts.images}) x) AS imgs,
      (SELECT json_group_object(name, display_name) FROM classes) AS class_names,
      (SELECT json_group_array(json_array(kind, n)) FROM (
         SELECT kind, COUNT(*) AS n, MIN(rank) AS r FROM scored ${counted.length > 0 ? `WHERE ${counted.join(' AND ')}` : ''}
         GROUP BY kind ORDER BY r, kind)) AS kind_counts
    FROM page p JOIN findings f ON f.id = p.id
    ORDER BY ${order.replace(/\b(rank|kind|id)\b/g, (c) => (c === 'rank' ? 'p.rank' : `f.${c}`))}`;
}

/** Rows to findings; the class names are parsed once per read, not once per row. */
function findingReader(): (r: Row) => Finding {
  let namesJson = '';
  let names = new Map<string, string>();
  const display = (name: string): string => names.get(name) ?? name;
  return (r) => {
    if (r.class_names !== namesJson) {
      namesJson = r.class_names;
      names = new Map(Object.entries(JSON.parse(namesJson) as Record<string, string>));
    }
    return toFinding(r, display);
  };
}

function toFinding(r: Row, display: (name: string) => string): Finding {
  const detail = JSON.parse(r.detail) as Record<string, unknown>;
  const names = Array.isArray(detail['names']) ? (detail['names'] as string[]) : [];
  const imgs = JSON.parse(r.imgs) as Array<[number, string]>;
  return {
    id: r.id,
    key: r.key,
    kind: r.kind,
    severity: r.severity,
    images: [...imgs.map((i) => i[1]), ...names],
    imageIds: imgs.map((i) => i[0]),
    imageCount: r.image_count,
    message: r.message,
    facts: findingFacts(r.kind, detail, display),
    detail,
    status: r.status,
  };
}

function encodeCursor(r: Pick<Row, 'rank' | 'kind' | 'id'>): string {
  return Buffer.from(JSON.stringify([r.rank, r.kind, r.id])).toString('base64url');
}

function decodeCursor(cursor: string): { rank: number; afterKind: string; afterId: number } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string' && typeof v[2] === 'number') {
      return { rank: v[0], afterKind: v[1], afterId: v[2] };
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('BAD_INPUT', `'${cursor}' is not a cursor from findings.list: pass the nextCursor of the previous page, or none for the first`);
}

export interface FindingsPage {
  findings: Finding[];
  total: number;
  nextCursor: string | null;
  /** Findings per kind under the status filter (the kind filter aside), in queue order: the Review queue's kind menu. */
  kinds: Array<{ kind: FindingKind; count: number }>;
}

/** One page of the queue: findings in queue order after `cursor`, each with up to PAGE_IMAGES_MAX images. */
export function findingsPage(db: Db, filter: FindingFilter, page: { cursor?: string | undefined; limit: number }): FindingsPage {
  const params = {
    ...filterParams(filter),
    ...(page.cursor ? decodeCursor(page.cursor) : {}),
    limit: page.limit + 1,
  };
  const rows = db.prepare(sql(filter, { byQueue: true, cursor: page.cursor !== undefined, limit: true, one: false, images: PAGE_IMAGES_MAX })).all(params) as Row[];
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  // total counts the whole filter, before the cursor; an empty page still says how many there are
  const total = shown[0]?.total ?? (page.cursor ? countFindings(db, filter) : 0);
  const kinds = rows[0] ? (JSON.parse(rows[0].kind_counts) as Array<[FindingKind, number]>).map(([kind, count]) => ({ kind, count })) : [];
  return { findings: shown.map(findingReader()), total, nextCursor: more && last ? encodeCursor(last) : null, kinds };
}

function filterParams(filter: FindingFilter): Record<string, string | number> {
  return { ...(filter.kind ? { kind: filter.kind } : {}), ...(filter.status ? { status: filter.status } : {}), ...(filter.imageId !== undefined ? { imageId: filter.imageId } : {}) };
}

function countFindings(db: Db, filter: FindingFilter): number {
  const row = db.prepare(sql(filter, { byQueue: true, cursor: false, limit: true, one: false, images: 0 })).get({ ...filterParams(filter), limit: 1 }) as Row | undefined;
  return row?.total ?? 0;
}

/** Every finding with every image, one at a time (`audit --json` streams them), in queue or id order. */
export function* iterateFindings(db: Db, filter: FindingFilter = {}, order: 'queue' | 'id' = 'id'): Generator<Finding> {
  const params = filterParams(filter);
  const stmt = db.prepare(sql(filter, { byQueue: order === 'queue', cursor: false, limit: false, one: false, images: -1 }));
  const read = findingReader();
  for (const r of stmt.iterate(params) as IterableIterator<Row>) yield read(r);
}

/** Findings of the last audit with every image, by id. */
export function listFindings(db: Db, filter: FindingFilter = {}): Finding[] {
  return [...iterateFindings(db, filter)];
}

export function getFinding(db: Db, id: number): Finding | undefined {
  const row = db.prepare(sql({}, { byQueue: false, cursor: false, limit: false, one: true, images: -1 })).get({ id }) as Row | undefined;
  return row ? findingReader()(row) : undefined;
}

export function decideFinding(db: Db, id: number, status: FindingStatus): Finding {
  const row = db.prepare('SELECT key FROM findings WHERE id = ?').get(id) as { key: string } | undefined;
  if (!row) throw new AppError('NOT_FOUND', `no finding ${id} in the last audit; run the audit again`);
  db.prepare(
    'INSERT INTO finding_decisions (key, status, decided_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET status = excluded.status, decided_at = excluded.decided_at',
  ).run(row.key, status, new Date().toISOString());
  const found = getFinding(db, id);
  if (!found) throw new AppError('INTERNAL', `finding ${id} vanished`);
  return found;
}
