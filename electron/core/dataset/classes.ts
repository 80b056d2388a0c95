/** The library's classes: names as written in the labels, display names a person may change. */
import type { ClassInfo } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';

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
