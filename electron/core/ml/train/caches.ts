/**
 * The caches a run writes (cache/pixels/<mode>-<size>, cache/features/<model>-<size>-…) are worth keeping
 * when it succeeds or is cancelled: the next run at that size decodes nothing. A run that fails leaves no
 * folder it created: a half-written cache of a configuration that does not work is only disk used (19 GB
 * at 2000 px). Folders that existed before the run are kept whatever happens.
 */
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

const KINDS = ['pixels', 'features'] as const;

/** The cache folders present now, as 'pixels/fill-128'. */
export function cacheFolders(cacheDir: string): Set<string> {
  const out = new Set<string>();
  for (const kind of KINDS) {
    try {
      for (const name of readdirSync(join(cacheDir, kind))) out.add(`${kind}/${name}`);
    } catch {
      // no such cache yet
    }
  }
  return out;
}

/** Removes the cache folders that appeared since `before`; returns them. */
export async function removeCachesSince(cacheDir: string, before: ReadonlySet<string>): Promise<string[]> {
  const created = [...cacheFolders(cacheDir)].filter((f) => !before.has(f));
  await Promise.all(created.map((f) => rm(join(cacheDir, f), { recursive: true, force: true })));
  return created;
}
