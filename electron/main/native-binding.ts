/**
 * better-sqlite3 is not N-API: the CLI and the tests use the build in node_modules (made for Node), Electron
 * needs one made against its own headers. `npm start` (scripts/start.mjs) makes that one into its own folder
 * and passes it here through MASK_STUDIO_SQLITE_BINDING; the folder is also looked up directly so launching
 * `electron .` after one `npm start` works.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function electronNativeDir(appPath: string): string {
  return join(appPath, '.cache', 'electron-native', `electron-${process.versions.electron ?? 'unknown'}-${process.platform}-${process.arch}`);
}

export function findSqliteBinding(appPath: string): string | undefined {
  const fromEnv = process.env['MASK_STUDIO_SQLITE_BINDING'];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const built = join(electronNativeDir(appPath), 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  return existsSync(built) ? built : undefined;
}

/** What to tell a person whose Electron cannot load the SQLite module. */
export function bindingHelp(err: Error): string {
  const abi = /NODE_MODULE_VERSION|was compiled against a different Node\.js version|invalid ELF|not a valid Win32/i.test(err.message);
  return abi
    ? `The SQLite module was built for Node, not for this Electron. Run 'npm start' (it builds Electron's copy once, with internet), or use 'npm run serve' for the studio in a browser.\n\n${err.message}`
    : err.message;
}
