/**
 * Opening a library's database: WAL so the app, `serve` and the CLI can share it, a busy timeout so a
 * writer waits instead of failing, foreign keys on, and pending migrations applied in one transaction.
 */
import Database from 'better-sqlite3';
import { AppError } from '../../../shared/errors';
import { MIGRATIONS, type Migration } from './migrations';

export type Db = Database.Database;

export interface OpenOptions {
  /** Only open an existing database (read commands must not create a library). */
  mustExist?: boolean;
  /** Migrations to apply; tests bring a database to version N-1 with a shorter list. */
  migrations?: readonly Migration[];
  /** Prebuilt native binding (Electron needs one built against its own headers). */
  nativeBinding?: string;
  /** Called with every statement's SQL as it runs (tests count the queries a page of a list makes). */
  verbose?: (sql: unknown) => void;
}

export function openDb(file: string, options: OpenOptions = {}): Db {
  const db = new Database(file, {
    fileMustExist: options.mustExist ?? false,
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    ...(options.verbose ? { verbose: options.verbose } : {}),
  });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    migrate(db, options.migrations ?? MIGRATIONS);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every pending migration in one transaction; refuses a database from a newer version. Foreign
 * keys are off while migrating (SQLite's way to rebuild a table: dropping a parent table with them on
 * would cascade to its children) and checked before the commit; on again afterwards.
 */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  // the pragma is a no-op inside a transaction, so it is switched before BEGIN
  if (schemaVersion(db) < migrations.length) db.pragma('foreign_keys = OFF');
  try {
    migrateInTransaction(db, migrations);
  } finally {
    if (foreignKeys === 1) db.pragma('foreign_keys = ON');
  }
}

function migrateInTransaction(db: Db, migrations: readonly Migration[]): void {
  const target = migrations.length;
  // BEGIN IMMEDIATE: two processes opening a new library at once must not both migrate it.
  const run = db.transaction(() => {
    const current = schemaVersion(db);
    if (current > target) {
      throw new AppError(
        'LIBRARY_TOO_NEW',
        `this library was written by a newer Mask Studio (schema version ${current}; this one knows up to ${target}). ` +
          'Update Mask Studio to open it.',
      );
    }
    for (let v = current; v < target; v++) {
      const migration = migrations[v];
      if (!migration) throw new Error(`migration ${v + 1} is missing`);
      db.exec(migration.sql);
    }
    if (current < target) {
      const broken = db.pragma('foreign_key_check') as unknown[];
      if (broken.length > 0) throw new Error(`migration to version ${target} left ${broken.length} rows whose foreign key points nowhere`);
      db.pragma(`user_version = ${target}`);
    }
  });
  run.immediate();
}
