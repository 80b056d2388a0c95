/**
 * Listing the files of an imported folder: recursive, some subtrees left out, and every entry it does not
 * import said out loud (hidden names, symlinks, special files, folders it cannot open) instead of dropped.
 * Names are read as bytes, so a name that is not UTF-8 is listed (escaped, see fs-names.ts) and opened by
 * its exact bytes instead of failing with ENOENT.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { nameFromBytes } from './fs-names';

export interface WalkedFile {
  /** Absolute path as stored; a name that is not UTF-8 is escaped (fs-names.ts). */
  abs: string;
  /** Relative to the walked root, with '/' separators on every platform. */
  rel: string;
  /** What to pass to `fs` to open it: the exact bytes when the name is not UTF-8. */
  fsPath: string | Buffer;
}

/** An entry the walk met and did not list, with why (relative to the walked root). */
export interface SkippedEntry {
  file: string;
  reason: string;
}

function skipReason(e: Dirent<Buffer>, name: string): string | null {
  if (name.startsWith('.')) return e.isDirectory() ? 'hidden folder (its name starts with a dot): not searched' : 'hidden file (its name starts with a dot)';
  if (e.isSymbolicLink()) return 'symbolic link: not followed (it may point outside the folder, or loop)';
  if (!e.isDirectory() && !e.isFile()) return 'not a regular file (a device, socket or pipe)';
  return null;
}

export function walkFiles(root: string, skip: ReadonlySet<string> = new Set(), skipped: SkippedEntry[] = []): WalkedFile[] {
  const out: WalkedFile[] = [];
  const relOf = (abs: string) => relative(root, abs).split(sep).join('/');
  const visit = (dir: string, dirBytes: Buffer | null) => {
    let entries: Array<Dirent<Buffer>>;
    try {
      entries = readdirSync(dirBytes ?? dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      // an unreadable subfolder is reported and skipped, not fatal
      if (dir !== root) skipped.push({ file: `${relOf(dir)}/`, reason: `folder cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      return;
    }
    const named = entries.map((e) => ({ e, ...nameFromBytes(e.name) }));
    named.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    for (const { e, text, exact } of named) {
      const abs = join(dir, text);
      if (skip.has(abs)) continue;
      const bytes = dirBytes !== null || !exact ? Buffer.concat([dirBytes ?? Buffer.from(dir), Buffer.from(sep), e.name]) : null;
      const why = skipReason(e, text);
      if (why !== null) skipped.push({ file: relOf(abs), reason: why });
      else if (e.isDirectory()) visit(abs, bytes);
      else out.push({ abs, rel: relOf(abs), fsPath: bytes ?? abs });
    }
  };
  visit(root, null);
  return out;
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
