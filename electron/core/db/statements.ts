/**
 * Prepared statements kept per connection: a statement run once per image (an import's insert, an event)
 * is compiled once, not 100,000 times.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from './open';

const byDb = new WeakMap<Db, Map<string, Statement>>();

export function prepared(db: Db, sql: string): Statement {
  let cache = byDb.get(db);
  if (!cache) {
    cache = new Map();
    byDb.set(db, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}
