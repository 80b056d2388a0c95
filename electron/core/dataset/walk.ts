/** Listing the files of an imported folder: recursive, hidden entries skipped, some subtrees left out. */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface WalkedFile {
  abs: string;
  /** Relative to the walked root, with '/' separators on every platform. */
  rel: string;
}

export function walkFiles(root: string, skip: ReadonlySet<string> = new Set()): WalkedFile[] {
  const out: WalkedFile[] = [];
  const visit = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // an unreadable subfolder is skipped, not fatal
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = join(dir, e.name);
      if (skip.has(abs)) continue;
      if (e.isDirectory()) visit(abs);
      else if (e.isFile()) out.push({ abs, rel: relative(root, abs).split(sep).join('/') });
    }
  };
  visit(root);
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
