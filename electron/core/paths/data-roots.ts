/**
 * The folders a page may have core read from: `serve --data-root DIR` on the command line, or in the desktop
 * app the files and folders the person picked in main's open dialog. Core itself (and the CLI, which runs
 * with the user's own paths) never asks; the API handlers that take a path from a page check it here first.
 * A path counts as inside when its real path (symlinks resolved) is a root or below one.
 */
import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { AppError } from '../../../shared/errors';

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The real path of `path`, or of its deepest existing ancestor joined with the rest (a folder not made yet). */
function realish(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return resolve(realish(parent), relative(parent, path));
  }
}

export interface DataRootsOptions {
  /** Said when a path is refused: how this front end lets a person allow it. */
  howToAllow: string;
}

export class DataRoots {
  readonly #roots: string[] = [];
  readonly #howToAllow: string;

  constructor(roots: readonly string[], options: DataRootsOptions) {
    this.#howToAllow = options.howToAllow;
    for (const r of roots) this.grant(r);
  }

  /** Adds a root; it must exist (a typo on the command line is better refused at start than at import). */
  grant(path: string): string {
    const abs = resolve(path);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (!st) throw new AppError('NOT_FOUND', `data root ${abs} does not exist`);
    const real = realpathSync.native(abs);
    if (!this.#roots.includes(real)) this.#roots.push(real);
    return real;
  }

  list(): readonly string[] {
    return [...this.#roots];
  }

  /** Whether `path` (absolute) lies inside a root, with its symlinks resolved. */
  allows(path: string): boolean {
    if (!isAbsolute(path) || path.includes('\0')) return false;
    const real = realish(resolve(path));
    return this.#roots.some((root) => isInside(root, real));
  }

  /**
   * `path` as given when it lies inside a root; else FORBIDDEN saying which roots there are and how to add
   * one. Relative paths are refused: they would be relative to a folder the page cannot see.
   */
  check(path: string, what: string): string {
    if (!isAbsolute(path)) {
      throw new AppError('BAD_INPUT', `${what} '${path}' is not a full path: give it from the root, e.g. ${this.#roots[0] ?? '/data/photos'}/…`);
    }
    if (path.includes('\0')) throw new AppError('BAD_INPUT', `${what} contains a NUL character`);
    if (this.allows(path)) return path;
    const where =
      this.#roots.length === 0
        ? 'no folder may be read from this page yet'
        : `only ${this.#roots.length === 1 ? 'this folder' : 'these folders'} may be read from this page: ${this.#roots.join(', ')}`;
    throw new AppError('FORBIDDEN', `${what} ${path} is outside the allowed folders (${where}). ${this.#howToAllow}`);
  }
}

/** DataRoots.check, where a front end that gave no roots allows nothing. */
export function checkPagePath(roots: DataRoots | undefined, path: string, what: string): string {
  return (roots ?? new DataRoots([], { howToAllow: 'This front end lets no page name a file to read.' })).check(path, what);
}
