/**
 * The library's near-duplicate pairs, kept by content (migration 0007). Pairs depend only on two contents'
 * hashes, so once every content of a set is indexed its pairs are read, not searched: a second split, a
 * re-audit and the folds of a K-fold run skip the 100,000-hash search. A set with a content not indexed yet is
 * searched once together with the indexed ones and stored, so the index stays whole: any two indexed contents
 * that are near are a stored pair. The search's parameters are stored too; a change of them empties the store.
 */
import type { Db } from '../db/open';
import { NEAR_COARSE_RADIUS, NEAR_FINE_MAX, searchNearPairs, type NearContent, type NearPair, type NearPairFinder } from './audit-groups';

/** What the stored pairs were searched with: a different value (a new radius, a new hash) empties the store. */
const PARAMS = JSON.stringify({ coarse: 'dhash64', fine: 'dhash256', radius: NEAR_COARSE_RADIUS, fineMax: NEAR_FINE_MAX });
const PARAMS_KEY = 'near_pairs_params';

function byIndex(pairs: NearPair[]): NearPair[] {
  return pairs.sort((x, y) => x.a - y.a || x.b - y.b);
}

/** Empties the store when it was filled under other parameters (or never). */
function checkParams(db: Db): void {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(PARAMS_KEY) as { value: string } | undefined;
  if (row?.value === PARAMS) return;
  db.transaction(() => {
    db.exec('DELETE FROM near_pairs; DELETE FROM near_indexed;');
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(PARAMS_KEY, PARAMS);
  }).immediate();
}

/** The stored pairs among `contents`, as indices into it. */
function readPairs(db: Db, contents: readonly NearContent[]): NearPair[] {
  const index = new Map(contents.map((c, i) => [c.sha256, i]));
  const out: NearPair[] = [];
  for (const p of db.prepare('SELECT a, b, distance FROM near_pairs').iterate() as IterableIterator<{ a: string; b: string; distance: number }>) {
    const i = index.get(p.a);
    const j = index.get(p.b);
    if (i !== undefined && j !== undefined) out.push({ a: Math.min(i, j), b: Math.max(i, j), distance: p.distance });
  }
  return byIndex(out);
}

/** Searches `contents` with every indexed content not among them, stores the result whole, returns its part. */
function searchAndStore(db: Db, contents: readonly NearContent[], indexed: ReadonlySet<string>): NearPair[] {
  const given = new Set(contents.map((c) => c.sha256));
  const others = indexed.size === 0 ? [] : (db.prepare('SELECT sha256, phash, phash_fine FROM near_indexed').all() as NearContent[]).filter((c) => !given.has(c.sha256));
  // contents that left the library are kept (they may come back), unless they outnumber the ones asked about
  const all = others.length <= contents.length ? [...contents, ...others] : [...contents];
  const pairs = searchNearPairs(all);
  db.transaction(() => {
    db.exec('DELETE FROM near_pairs; DELETE FROM near_indexed;');
    const content = db.prepare('INSERT INTO near_indexed (sha256, phash, phash_fine) VALUES (?, ?, ?)');
    for (const c of all) content.run(c.sha256, c.phash, c.phash_fine);
    const pair = db.prepare('INSERT INTO near_pairs (a, b, distance) VALUES (?, ?, ?)');
    for (const p of pairs) pair.run(all[p.a]!.sha256, all[p.b]!.sha256, p.distance);
  }).immediate();
  return byIndex(pairs.filter((p) => p.b < contents.length));
}

/** A NearPairFinder over the library's store: reads when every content is indexed, else searches and stores. */
export function storedNearPairs(db: Db): NearPairFinder {
  return (contents) => {
    checkParams(db);
    const indexed = new Set(db.prepare('SELECT sha256 FROM near_indexed').pluck().all() as string[]);
    return contents.every((c) => indexed.has(c.sha256)) ? readPairs(db, contents) : searchAndStore(db, contents, indexed);
  };
}
