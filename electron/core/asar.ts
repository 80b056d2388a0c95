/**
 * A packaged app keeps its files in `resources/app.asar`, and copies what electron-builder.json's asarUnpack
 * names beside it into `app.asar.unpacked/`. Electron's own fs reads an unpacked file through the archive path
 * too, but a path handed to something else (the wasm loader, a native library's loader, a check for provider
 * libraries) must be the real file's. Outside a package, and for files left in the archive, the path is kept.
 */
import { existsSync } from 'node:fs';
import { sep } from 'node:path';

const ARCHIVE = `${sep}app.asar${sep}`;
const UNPACKED = `${sep}app.asar.unpacked${sep}`;

export function unpackedPath(path: string, exists: (p: string) => boolean = existsSync): string {
  const at = path.indexOf(ARCHIVE);
  if (at < 0) return path;
  const real = `${path.slice(0, at)}${UNPACKED}${path.slice(at + ARCHIVE.length)}`;
  return exists(real) ? real : path;
}
