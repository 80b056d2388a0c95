/**
 * Every change a person (or a model's suggestion, or an import) makes to a label or to an exclusion is an
 * event. Changes made together form a batch; undo and redo walk batches. Import batches are history, not
 * undoable: undoing right after an import must not strip the labels the CSV gave.
 */
import type { ChangeResult, HistoryEntry, ImageRef } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { cachedStatement } from '../db/statements';
import { ensureClass } from './classes';
import { editStatesById, resolveImageIds, type ImageRecord } from './images';

export type EventSource = HistoryEntry['source'];
type EventKind = HistoryEntry['kind'];

interface EventRecord {
  id: number;
  batch: number;
  image_id: number;
  kind: EventKind;
  old_value: string | null;
  new_value: string | null;
  source: EventSource;
  state: HistoryEntry['state'];
  created_at: string;
}

export function nextBatch(db: Db): number {
  return (cachedStatement(db, 'SELECT COALESCE(MAX(batch), 0) + 1 AS b FROM events').get() as { b: number }).b;
}

function currentValue(image: Pick<ImageRecord, 'label' | 'excluded' | 'exclude_reason'>, kind: EventKind): string | null {
  if (kind === 'label') return image.label;
  return image.excluded === 1 ? (image.exclude_reason ?? '') : null;
}

function writeValue(db: Db, imageId: number, kind: EventKind, value: string | null): void {
  if (kind === 'label') {
    // undo/redo may go back to a class removed since (classes.ts): it comes back with its image
    if (value !== null) ensureClass(db, value);
    cachedStatement(db, 'UPDATE images SET label = ? WHERE id = ?').run(value, imageId);
  } else cachedStatement(db, 'UPDATE images SET excluded = ?, exclude_reason = ? WHERE id = ?').run(value === null ? 0 : 1, value, imageId);
}

/**
 * Records and applies one change; returns false (and records nothing) when the value is already there.
 * Call inside a transaction.
 */
export function recordChange(
  db: Db,
  image: Pick<ImageRecord, 'id' | 'label' | 'excluded' | 'exclude_reason'>,
  kind: EventKind,
  value: string | null,
  source: EventSource,
  batch: number,
): boolean {
  const old = currentValue(image, kind);
  if (old === value) return false;
  cachedStatement(
    db,
    'INSERT INTO events (batch, image_id, kind, old_value, new_value, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(batch, image.id, kind, old, value, source, new Date().toISOString());
  writeValue(db, image.id, kind, value);
  return true;
}

function assertClass(db: Db, label: string): void {
  const known = db.prepare('SELECT name FROM classes ORDER BY position').all() as Array<{ name: string }>;
  if (!known.some((c) => c.name === label)) {
    const names = known.map((c) => `'${c.name}'`).join(', ') || 'none yet (import labels first)';
    throw new AppError('BAD_INPUT', `'${label}' is not a class of this library; the classes are ${names}`);
  }
}

function change(db: Db, refs: readonly ImageRef[], kind: EventKind, value: string | null, source: EventSource): ChangeResult {
  return db.transaction((): ChangeResult => {
    // Each image once: a reference repeated (or an id and its file name) is one change, not two events.
    const ids = resolveImageIds(db, refs);
    const rows = editStatesById(db, ids);
    if (source !== 'import') db.prepare("UPDATE events SET state = 'dropped' WHERE state = 'undone'").run();
    const batch = nextBatch(db);
    let changed = 0;
    for (const id of ids) {
      const image = rows.get(id);
      if (image && recordChange(db, image, kind, value, source, batch)) changed++;
    }
    return { batch: changed > 0 ? batch : null, changed };
  }).immediate();
}

export function setLabels(db: Db, refs: readonly ImageRef[], label: string, source: EventSource = 'user'): ChangeResult {
  assertClass(db, label);
  return change(db, refs, 'label', label, source);
}

export function excludeImages(db: Db, refs: readonly ImageRef[], reason: string, source: EventSource = 'user'): ChangeResult {
  if (reason.trim() === '') throw new AppError('BAD_INPUT', 'an exclusion needs a reason (e.g. --reason "duplicate")');
  return change(db, refs, 'exclusion', reason.trim(), source);
}

export function restoreImages(db: Db, refs: readonly ImageRef[], source: EventSource = 'user'): ChangeResult {
  return change(db, refs, 'exclusion', null, source);
}

function batchEvents(db: Db, batch: number): EventRecord[] {
  return db.prepare('SELECT * FROM events WHERE batch = ? ORDER BY id').all(batch) as EventRecord[];
}

export function undo(db: Db): ChangeResult {
  return db.transaction((): ChangeResult => {
    const last = db
      .prepare("SELECT MAX(batch) AS b FROM events WHERE state = 'done' AND source != 'import'")
      .get() as { b: number | null };
    if (last.b === null) throw new AppError('CONFLICT', 'nothing to undo');
    const evs = batchEvents(db, last.b).reverse();
    for (const ev of evs) writeValue(db, ev.image_id, ev.kind, ev.old_value);
    db.prepare("UPDATE events SET state = 'undone' WHERE batch = ?").run(last.b);
    return { batch: last.b, changed: evs.length };
  }).immediate();
}

export function redo(db: Db): ChangeResult {
  return db.transaction((): ChangeResult => {
    const next = db.prepare("SELECT MIN(batch) AS b FROM events WHERE state = 'undone'").get() as { b: number | null };
    if (next.b === null) throw new AppError('CONFLICT', 'nothing to redo');
    const evs = batchEvents(db, next.b);
    for (const ev of evs) writeValue(db, ev.image_id, ev.kind, ev.new_value);
    db.prepare("UPDATE events SET state = 'done' WHERE batch = ?").run(next.b);
    return { batch: next.b, changed: evs.length };
  }).immediate();
}

type HistoryRecord = EventRecord & { rel_path: string };

const toEntry = (r: HistoryRecord): HistoryEntry => ({
  id: r.id,
  batch: r.batch,
  image: r.rel_path,
  kind: r.kind,
  oldValue: r.old_value,
  newValue: r.new_value,
  source: r.source,
  state: r.state,
  at: r.created_at,
});

/** Events newest first, one at a time (`history` streams them: 100,000 import events are never one array). */
export function* iterateHistory(db: Db, limit: number, before = Number.MAX_SAFE_INTEGER): Generator<HistoryEntry> {
  const stmt = db.prepare('SELECT e.*, i.rel_path FROM events e JOIN images i ON i.id = e.image_id WHERE e.id < ? ORDER BY e.id DESC LIMIT ?');
  for (const r of stmt.iterate(before, limit) as IterableIterator<HistoryRecord>) yield toEntry(r);
}

export function history(db: Db, limit: number): HistoryEntry[] {
  return [...iterateHistory(db, limit)];
}

/** A page of events older than `cursor` (an event id from the last page). */
export function historyPage(db: Db, page: { limit: number; cursor?: string | undefined }): { entries: HistoryEntry[]; nextCursor: string | null } {
  const before = page.cursor === undefined ? Number.MAX_SAFE_INTEGER : Number(page.cursor);
  if (!Number.isSafeInteger(before) || before < 0) throw new AppError('BAD_INPUT', `'${page.cursor}' is not a cursor from history.list: pass the nextCursor of the previous page`);
  const entries = [...iterateHistory(db, page.limit + 1, before)];
  const shown = entries.slice(0, page.limit);
  const last = shown[shown.length - 1];
  return { entries: shown, nextCursor: entries.length > page.limit && last ? String(last.id) : null };
}
