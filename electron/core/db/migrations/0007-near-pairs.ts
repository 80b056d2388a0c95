/**
 * The near-duplicate pairs, kept by content. A content's dHashes are a function of its bytes, so the pairs
 * between two contents found once stay true: the audit, the split and the folds read them instead of searching
 * 100,000 hashes again (1.1–1.5 s of a 3.3 s split). `near_indexed` lists the contents whose pairs with every
 * other indexed content are in `near_pairs` (dataset/near-pair-store.ts keeps the two consistent).
 */
export const name = 'near-pairs';

export const sql = `
CREATE TABLE near_indexed (
  sha256 TEXT PRIMARY KEY,
  phash TEXT NOT NULL,
  phash_fine TEXT
) WITHOUT ROWID, STRICT;
CREATE TABLE near_pairs (
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  distance INTEGER NOT NULL,
  PRIMARY KEY (a, b)
) WITHOUT ROWID, STRICT;
`;
