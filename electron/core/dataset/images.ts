/** Reading image rows: the public shape, lookups by the names a person types, and filtered pages. */
import { basename } from 'node:path';
import type { ImageFilter, ImageRef, ImageRow, Split } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { cachedStatement } from '../db/statements';

export interface ImageRecord {
  id: number;
  source_id: number;
  path: string;
  rel_path: string;
  file_name: string;
  bytes: number;
  mtime_ms: number;
  sha256: string;
  magic: string | null;
  format: string | null;
  width: number | null;
  height: number | null;
  channels: number | null;
  space: string | null;
  has_alpha: number | null;
  orientation: number | null;
  decode_status: ImageRow['decodeStatus'];
  decode_error: string | null;
  phash: string | null;
  phash_fine: string | null;
  label: string | null;
  import_label: string | null;
  split: Split;
  excluded: number;
  exclude_reason: string | null;
  missing: number;
  scanned_at: string;
}

export function toImageRow(r: ImageRecord): ImageRow {
  return {
    id: r.id,
    path: r.path,
    relPath: r.rel_path,
    fileName: r.file_name,
    bytes: r.bytes,
    sha256: r.sha256,
    format: r.format,
    width: r.width,
    height: r.height,
    channels: r.channels,
    space: r.space,
    hasAlpha: r.has_alpha === null ? null : r.has_alpha === 1,
    orientation: r.orientation,
    decodeStatus: r.decode_status,
    decodeError: r.decode_error,
    phash: r.phash,
    label: r.label,
    split: r.split,
    excluded: r.excluded === 1,
    excludeReason: r.exclude_reason,
    missing: r.missing === 1,
  };
}

/**
 * ORDER BY terms for image rows in content order: sha256, then label (exact copies labelled differently),
 * then the path inside the dataset; `alias` is the images table's alias in a join. Everything a seed drives
 * over rows (training order, folds, bootstrap draws) starts from this order, never from row ids: import
 * inserts rows in the order its parallel workers finish, so ids differ between two libraries made from the
 * same files. Rows equal in all three terms are interchangeable for any computation on them.
 */
export function contentOrder(alias = ''): string {
  const p = alias ? `${alias}.` : '';
  return `${p}sha256, ${p}label, ${p}rel_path`;
}

export function allImages(db: Db): ImageRecord[] {
  return db.prepare('SELECT * FROM images ORDER BY id').all() as ImageRecord[];
}

/**
 * Finds one image by id, by path relative to its imported folder, by file name, or by absolute path.
 * A file name shared by two images is refused with both relative paths, so the person can say which.
 */
export function resolveImage(db: Db, ref: ImageRef): ImageRecord {
  if (typeof ref === 'number') {
    const row = cachedStatement(db, 'SELECT * FROM images WHERE id = ?').get(ref) as ImageRecord | undefined;
    if (!row) throw new AppError('NOT_FOUND', `no image with id ${ref} in this library`);
    return row;
  }
  // rel_path has no index: look up by file name (indexed; every path and relative path ends in it), then
  // keep the rows whose path or relative path is the reference.
  const named = cachedStatement(db, 'SELECT * FROM images WHERE file_name = ?').all(basename(ref)) as ImageRecord[];
  const byPath = named.filter((r) => r.path === ref || r.rel_path === ref);
  if (byPath.length === 1) return byPath[0]!;
  const matches = byPath.length > 0 ? byPath : named.filter((r) => r.file_name === ref);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new AppError('NOT_FOUND', `no image named '${ref}' in this library (give its file name or its path relative to the imported folder)`);
  const names = matches.map((m) => m.rel_path).join(', ');
  throw new AppError('BAD_INPUT', `'${ref}' names ${matches.length} images (${names}); give the path relative to the imported folder`);
}

/** Ids checked per statement: json_each takes the whole chunk as one parameter. */
const ID_CHUNK = 10_000;

function checkIdsExist(db: Db, ids: readonly number[]): void {
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const missing = cachedStatement(
      db,
      'SELECT j.value AS id FROM json_each(?) j LEFT JOIN images i ON i.id = j.value WHERE i.id IS NULL LIMIT 1',
    ).get(JSON.stringify(ids.slice(i, i + ID_CHUNK))) as { id: number } | undefined;
    if (missing) throw new AppError('NOT_FOUND', `no image with id ${missing.id} in this library`);
  }
}

/**
 * The ids of `refs`, each once, in the order first named. Numeric ids are checked a chunk per statement;
 * names are looked up one by one (indexed). Throws on the first reference that names no image or several.
 */
export function resolveImageIds(db: Db, refs: readonly ImageRef[]): number[] {
  const ids = new Set<number>();
  const numeric: number[] = [];
  for (const ref of refs) {
    if (typeof ref === 'number') {
      numeric.push(ref);
      ids.add(ref);
    } else ids.add(resolveImage(db, ref).id);
  }
  checkIdsExist(db, numeric);
  return [...ids];
}

/**
 * resolveImageIds for a front end that must stay responsive: names are resolved `chunk` at a time and
 * `pause` runs between chunks (the server passes a turn of its event loop), so other requests are answered
 * while a person's 100,000-image selection is looked up. Nothing is written here.
 */
export async function resolveImageIdsInChunks(
  db: Db,
  refs: readonly ImageRef[],
  pause: () => Promise<void>,
  chunk = 2_000,
): Promise<number[]> {
  const ids = new Set<number>();
  for (let i = 0; i < refs.length; i += chunk) {
    if (i > 0) await pause();
    for (const id of resolveImageIds(db, refs.slice(i, i + chunk))) ids.add(id);
  }
  return [...ids];
}

export type EditState = Pick<ImageRecord, 'id' | 'label' | 'excluded' | 'exclude_reason'>;

/** What an edit reads of each image, by id, chunked like checkIdsExist (ids not in the library are absent). */
export function editStatesById(db: Db, ids: readonly number[]): Map<number, EditState> {
  const out = new Map<number, EditState>();
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const rows = cachedStatement(db, 'SELECT i.id, i.label, i.excluded, i.exclude_reason FROM json_each(?) j JOIN images i ON i.id = j.value').all(
      JSON.stringify(ids.slice(i, i + ID_CHUNK)),
    ) as EditState[];
    for (const r of rows) out.set(r.id, r);
  }
  return out;
}

export function countImages(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
}

/**
 * Whether an image is in a finding still open for it: no decision other than 'open', the image included,
 * and (for a label doubt) still carrying the doubted label. The grid's "!" badge, per row of a page.
 */
const OPEN_FINDING = `(images.excluded = 0 AND EXISTS (
  SELECT 1 FROM finding_images fi JOIN findings f ON f.id = fi.finding_id LEFT JOIN finding_decisions d ON d.key = f.key
  WHERE fi.image_id = images.id AND COALESCE(d.status, 'open') = 'open'
    AND (f.kind != 'label-doubt' OR images.label IS json_extract(f.detail, '$.given')))) AS open_finding`;

function filterClause(filter: ImageFilter): { clause: string; params: Array<string | number> } {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (filter.label !== undefined) {
    if (filter.label === null) where.push('label IS NULL');
    else {
      where.push('label = ?');
      params.push(filter.label);
    }
  }
  if (filter.split !== undefined) {
    where.push('split = ?');
    params.push(filter.split);
  }
  if (filter.excluded !== undefined) {
    where.push('excluded = ?');
    params.push(filter.excluded ? 1 : 0);
  }
  if (filter.findingId !== undefined) {
    where.push('id IN (SELECT image_id FROM finding_images WHERE finding_id = ?)');
    params.push(filter.findingId);
  }
  if (filter.findingKind !== undefined) {
    where.push('id IN (SELECT fi.image_id FROM finding_images fi JOIN findings f ON f.id = fi.finding_id WHERE f.kind = ?)');
    params.push(filter.findingKind);
  } else if (filter.hasFinding !== undefined) {
    where.push(`id ${filter.hasFinding ? '' : 'NOT '}IN (SELECT image_id FROM finding_images)`);
  }
  if (filter.search) {
    where.push("rel_path LIKE ? ESCAPE '\\'");
    params.push(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  return { clause: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** A page cursor: the last row's sort key ([relPath, id], or [groupName, group, relPath, id] for a kind filter). */
type ImageCursor = [string, number] | [string, number, string, number];

function decodeImageCursor(cursor: string, grouped: boolean): ImageCursor {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v)) {
      if (!grouped && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number') return [v[0], v[1]];
      if (grouped && v.length === 4 && typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'string' && typeof v[3] === 'number') {
        return [v[0], v[1], v[2], v[3]];
      }
    }
  } catch {
    // the error below says what to pass
  }
  throw new AppError('BAD_INPUT', `'${cursor}' is not a cursor from images.list with this filter: pass the nextCursor of the previous page`);
}

export interface ImagePage {
  total: number;
  rows: ImageRow[];
  nextCursor: string | null;
}

type ListedRecord = ImageRecord & { open_finding: number; grp?: number | null; grp_name?: string | null };

/**
 * The statement behind a page, after `after` when given. By name: the images table itself (its rel_path
 * index orders it). With a finding-kind filter the images of one finding (a near-duplicate group) are listed
 * together: groups in the order of their first member's name, then the members by name, so a pair sits side
 * by side in the grid (by name alone its members were pages apart). An image in two findings of the kind is
 * listed with the older one.
 */
function pageStatement(clause: string, kind: string | undefined, after: ImageCursor | null): { sql: string; lead: Array<string | number> } {
  const key = kind === undefined ? 'rel_path, id' : 'grp_name, grp, rel_path, id';
  const bound = after ? `(${key}) > (${after.map(() => '?').join(', ')})` : null;
  if (kind === undefined) {
    const where = bound === null ? clause : `${clause ? `${clause} AND` : 'WHERE'} ${bound}`;
    return { sql: `SELECT *, ${OPEN_FINDING} FROM images ${where} ORDER BY ${key} LIMIT ? OFFSET ?`, lead: [] };
  }
  const group = `(SELECT MIN(fi.finding_id) FROM finding_images fi JOIN findings f ON f.id = fi.finding_id WHERE fi.image_id = images.id AND f.kind = ?)`;
  const groupName = '(SELECT MIN(i2.rel_path) FROM finding_images fi2 JOIN images i2 ON i2.id = fi2.image_id WHERE fi2.finding_id = g.grp)';
  const listed = `SELECT *, ${groupName} AS grp_name FROM (SELECT *, ${OPEN_FINDING}, ${group} AS grp FROM images ${clause}) g`;
  return { sql: `SELECT * FROM (${listed}) ${bound === null ? '' : `WHERE ${bound}`} ORDER BY ${key} LIMIT ? OFFSET ?`, lead: [kind] };
}

function cursorOf(r: ListedRecord, grouped: boolean): string {
  const key = grouped ? [r.grp_name ?? '', r.grp ?? 0, r.rel_path, r.id] : [r.rel_path, r.id];
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * One page of images in list order (relative path, then id; grouped by finding under a kind filter): after
 * `cursor` when given (reading on), else at `offset` (the grid jumps to where its scrollbar is). Two
 * statements, whatever the page size.
 */
export function listImages(db: Db, filter: ImageFilter, page: { offset?: number; cursor?: string | undefined; limit: number }): ImagePage {
  const { clause, params } = filterClause(filter);
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM images ${clause}`).get(...params) as { n: number }).n;
  const grouped = filter.findingKind !== undefined;
  const after = page.cursor !== undefined ? decodeImageCursor(page.cursor, grouped) : null;
  const q = pageStatement(clause, filter.findingKind, after);
  const rows = db.prepare(q.sql).all(...q.lead, ...params, ...(after ?? []), page.limit + 1, after ? 0 : (page.offset ?? 0)) as ListedRecord[];
  const shown = rows.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return {
    total,
    rows: shown.map((r) => ({ ...toImageRow(r), openFinding: r.open_finding === 1, ...(grouped ? { group: r.grp ?? null } : {}) })),
    nextCursor: rows.length > page.limit && last ? cursorOf(last, grouped) : null,
  };
}
