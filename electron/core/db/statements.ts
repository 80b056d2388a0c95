/**
 * Prepared statements kept per connection: compiling one costs tens of microseconds, which a bulk edit paid
 * several times per image (a 100k-image relabel spent most of its 20 s preparing the same three statements).
 */
import type Database from 'better-sqlite3';
import type { Db } from './open';

const byDb = new WeakMap<Db, Map<string, Database.Statement>>();

export function cachedStatement(db: Db, sql: string): Database.Statement {
  let statements = byDb.get(db);
  if (!statements) {
    statements = new Map();
    byDb.set(db, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}
