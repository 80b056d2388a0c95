/**
 * A library is a folder: `studio.db` (SQLite, WAL), `cache/` (thumbnails, tensors, features) and
 * `models/<run-id>/`. The default one lives in the platform's data folder.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, posix, resolve, win32 } from 'node:path';
import { AppError } from '../../shared/errors';
import { openDb, schemaVersion, type Db, type OpenOptions } from './db/open';

export interface Library {
  dir: string;
  db: Db;
  cacheDir: string;
  modelsDir: string;
  close(): void;
}

/**
 * The platform's per-user data folder for Mask Studio (MASK_STUDIO_HOME overrides it): the default library and
 * the weights cache, gigabytes that stay on this machine. Never Electron's userData nor, on Windows, the
 * roaming profile (%APPDATA%), which is copied to a server at every sign-out where profiles roam.
 */
export function dataHome(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const override = env['MASK_STUDIO_HOME'];
  if (override) return resolve(override);
  switch (platform) {
    case 'darwin':
      return posix.join(home, 'Library', 'Application Support', 'Mask Studio');
    case 'win32':
      return win32.join(env['LOCALAPPDATA'] ?? win32.join(home, 'AppData', 'Local'), 'Mask Studio');
    default:
      return posix.join(env['XDG_DATA_HOME'] ?? posix.join(home, '.local', 'share'), 'mask-studio');
  }
}

export function defaultLibraryDir(): string {
  return process.env['MASK_STUDIO_LIBRARY'] ? resolve(process.env['MASK_STUDIO_LIBRARY']) : join(dataHome(), 'library');
}

export function dbFile(dir: string): string {
  return join(dir, 'studio.db');
}

export function libraryExists(dir: string): boolean {
  return existsSync(dbFile(dir));
}

export interface OpenLibraryOptions extends Pick<OpenOptions, 'nativeBinding' | 'migrations' | 'verbose'> {
  /** Create the folder and database when missing (commands that write); else refuse with NO_LIBRARY. */
  create: boolean;
}

export function openLibrary(dir: string, options: OpenLibraryOptions): Library {
  const abs = resolve(dir);
  if (!libraryExists(abs)) {
    if (!options.create) {
      throw new AppError('NO_LIBRARY', `no library at ${abs} yet: run 'mask-studio import DIR' to create one, or pass --library DIR`);
    }
    try {
      mkdirSync(abs, { recursive: true });
    } catch (err) {
      throw new AppError('IO', `cannot create the library folder ${abs}: ${(err as Error).message}`);
    }
  }
  const db = openDb(dbFile(abs), {
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    ...(options.migrations ? { migrations: options.migrations } : {}),
    ...(options.verbose ? { verbose: options.verbose } : {}),
  });
  const cacheDir = join(abs, 'cache');
  const modelsDir = join(abs, 'models');
  return {
    dir: abs,
    db,
    cacheDir,
    modelsDir,
    close: () => db.close(),
  };
}

export { schemaVersion };
