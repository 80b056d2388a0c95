/** The built renderer's files, and only those: a URL path that leaves the folder (.., symlinks) is refused. */
import { realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { CONTENT_TYPES } from './security';

export interface StaticFile {
  file: string;
  contentType: string;
}

function inside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** `urlPath` is the request's path (still percent-encoded); '/' is index.html. */
export function resolveStatic(root: string, urlPath: string): StaticFile | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const wanted = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  const realRoot = realpathSync(root);
  const candidate = resolve(realRoot, wanted);
  if (!inside(realRoot, candidate)) return null;
  let real: string;
  try {
    real = realpathSync(candidate);
    if (!inside(realRoot, real) || !statSync(real).isFile()) return null;
  } catch {
    return null;
  }
  const contentType = CONTENT_TYPES[extname(real).toLowerCase()];
  return contentType ? { file: real, contentType } : null;
}
