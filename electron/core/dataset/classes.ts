/** The library's classes: names as written in the labels, display names a person may change. */
import type { ClassInfo } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import { defaultDisplayName, defaultHotkey } from '../../../shared/labels';
import type { Db } from '../db/open';
import { cachedStatement } from '../db/statements';

interface ClassRecord {
  name: string;
  display_name: string;
  hotkey: string | null;
  position: number;
}

const toInfo = (r: ClassRecord): ClassInfo => ({ name: r.name, displayName: r.display_name, hotkey: r.hotkey, position: r.position });

export function listClasses(db: Db): ClassInfo[] {
  return (db.prepare('SELECT * FROM classes ORDER BY position').all() as ClassRecord[]).map(toInfo);
}

export function renameClass(db: Db, name: string, displayName: string): ClassInfo {
  const clean = displayName.trim();
  if (clean === '') throw new AppError('BAD_INPUT', 'a display name cannot be empty');
  const res = db.prepare('UPDATE classes SET display_name = ? WHERE name = ?').run(clean, name);
  if (res.changes === 0) {
    const names = listClasses(db).map((c) => `'${c.name}'`).join(', ');
    throw new AppError('NOT_FOUND', `no class '${name}'; the classes are ${names || 'none yet'}`);
  }
  return toInfo(db.prepare('SELECT * FROM classes WHERE name = ?').get(name) as ClassRecord);
}

/**
 * The classes a model can learn: those with at least one included, readable image, in position order. A
 * class that lost its last image (relabelled, excluded) does not make a binary task look three-way.
 */
export function classesInUse(db: Db): string[] {
  return (
    db
      .prepare(
        `SELECT c.name FROM classes c WHERE EXISTS (
           SELECT 1 FROM images i WHERE i.label = c.name AND i.excluded = 0 AND i.decode_status = 'ok' AND i.missing = 0)
         ORDER BY c.position, c.name`,
      )
      .all() as Array<{ name: string }>
  ).map((c) => c.name);
}

/** Class names with how many images carry each, for messages ("0: 700, 1: 600, 2: 1"). */
export function classCounts(db: Db): string {
  const rows = db
    .prepare('SELECT c.name, (SELECT COUNT(*) FROM images i WHERE i.label = c.name) AS n FROM classes c ORDER BY c.position, c.name')
    .all() as Array<{ name: string; n: number }>;
  return rows.map((r) => `${r.name}: ${r.n}`).join(', ') || 'none';
}

/**
 * Removes a class no image carries (a mistyped target an older import turned into a class, say). A class
 * with images is refused with the count and what to do; the remaining classes close up their positions.
 * Undoing a label change back to a removed class brings the class back (edits.ts).
 */
export function removeClass(db: Db, name: string): ClassInfo[] {
  return db.transaction((): ClassInfo[] => {
    const row = db.prepare('SELECT * FROM classes WHERE name = ?').get(name) as ClassRecord | undefined;
    if (!row) {
      const names = listClasses(db).map((c) => `'${c.name}'`).join(', ');
      throw new AppError('NOT_FOUND', `no class '${name}'; the classes are ${names || 'none yet'}`);
    }
    const n = (db.prepare('SELECT COUNT(*) AS n FROM images WHERE label = ?').get(name) as { n: number }).n;
    if (n > 0) {
      throw new AppError(
        'CONFLICT',
        `class '${name}' still labels ${n} image${n === 1 ? '' : 's'}: relabel ${n === 1 ? 'it' : 'them'} first (filter the library by class '${name}', or 'mask-studio label FILE... CLASS'), then remove the class`,
      );
    }
    db.prepare('DELETE FROM classes WHERE name = ?').run(name);
    const later = db.prepare('SELECT * FROM classes WHERE position > ? ORDER BY position').all(row.position) as ClassRecord[];
    const move = db.prepare('UPDATE classes SET position = ?, hotkey = ? WHERE name = ?');
    for (const c of later) {
      // a default hotkey (the position's digit) follows the position; one a person chose stays
      const hotkey = c.hotkey === defaultHotkey(c.position) ? defaultHotkey(c.position - 1) : c.hotkey;
      move.run(c.position - 1, hotkey, c.name);
    }
    return listClasses(db);
  }).immediate();
}

/** Adds a class at the end when it is missing (undo/redo of a change to a class removed since). */
export function ensureClass(db: Db, name: string): void {
  if (cachedStatement(db, 'SELECT 1 FROM classes WHERE name = ?').get(name)) return;
  const position = (db.prepare('SELECT COALESCE(MAX(position) + 1, 0) AS p FROM classes').get() as { p: number }).p;
  db.prepare('INSERT INTO classes (name, display_name, hotkey, position) VALUES (?, ?, ?, ?)').run(name, defaultDisplayName(name, []), defaultHotkey(position), position);
}
