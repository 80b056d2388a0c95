/**
 * The near pairs kept by content (dataset/near-pair-store.ts): the same pairs as a search, read rather than
 * searched once every content is indexed, a new content searched against the indexed ones, and a change of the
 * search's parameters empties the store.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../../../electron/core/db/open';
import { searchNearPairs, type NearContent } from '../../../electron/core/dataset/audit-groups';
import { storedNearPairs } from '../../../electron/core/dataset/near-pair-store';

/** A 64-bit and a 256-bit hash as hex, with `flip` low bits of each flipped. */
function content(sha: string, seed: number, flip = 0): NearContent {
  const hex = (len: number): string => {
    let out = '';
    for (let i = 0; i < len; i++) out += ((seed * 7 + i * 13 + ((seed * i) % 5)) % 16).toString(16);
    return out;
  };
  const flipLow = (h: string): string => (flip === 0 ? h : h.slice(0, -1) + (parseInt(h.at(-1)!, 16) ^ ((1 << flip) - 1)).toString(16));
  return { sha256: sha, phash: flipLow(hex(16)), phash_fine: flipLow(hex(64)) };
}

const A = content('a'.repeat(64), 3);
const A2 = content('b'.repeat(64), 3, 2);
const B = content('c'.repeat(64), 11);
const B2 = content('d'.repeat(64), 11, 3);
const C = content('e'.repeat(64), 5);

function memoryDb(): ReturnType<typeof openDb> {
  return openDb(':memory:');
}

describe('near pairs kept by content', () => {
  test('the store answers what a search answers, and the second time from its tables', () => {
    const db = memoryDb();
    const contents = [A, B, A2, C];
    const searched = searchNearPairs(contents);
    assert.deepEqual(searched.map((p) => [p.a, p.b]), [[0, 2]]);
    assert.deepEqual(storedNearPairs(db)(contents), searched);
    assert.equal(db.prepare('SELECT COUNT(*) FROM near_indexed').pluck().get(), 4);
    // a subset is read from the tables: a pair removed from them is gone from the answer
    db.prepare('DELETE FROM near_pairs').run();
    assert.deepEqual(storedNearPairs(db)([A2, A]), []);
  });
  test('a content not indexed yet is searched against every indexed one, also those not asked about', () => {
    const db = memoryDb();
    storedNearPairs(db)([A, B, C]);
    // B2 is near B, which is indexed but not in this call
    assert.deepEqual(storedNearPairs(db)([C, B2]), []);
    assert.equal(db.prepare('SELECT COUNT(*) FROM near_indexed').pluck().get(), 4);
    assert.deepEqual(storedNearPairs(db)([B2, C, B]).map((p) => [p.a, p.b]), [[0, 2]]);
  });
  test('pairs found under other search parameters are dropped', () => {
    const db = memoryDb();
    storedNearPairs(db)([A, A2]);
    db.prepare("UPDATE meta SET value = '{}' WHERE key = 'near_pairs_params'").run();
    db.prepare('DELETE FROM near_pairs').run();
    // with the parameters changed, the (emptied) store searches again and finds the pair
    assert.deepEqual(storedNearPairs(db)([A, A2]).map((p) => [p.a, p.b]), [[0, 1]]);
  });
});
