/**
 * Assigning labelled, included, readable images to train / val / test: stratified by class, seeded and
 * reproducible, and group-aware: every exact or near-duplicate group lands in one split, so the split
 * creates no leak. Submission rows are never touched.
 */
import type { SplitInput, SplitSummary } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { duplicateGroups } from './audit-groups';
import type { ImageRecord } from './images';
import { seededRandom } from '../random';

type Target = 'train' | 'val' | 'test';

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** What the split reads of an image: the labelled, included, readable rows outside the submission set. */
type SplitRow = Pick<ImageRecord, 'id' | 'sha256' | 'phash' | 'phash_fine' | 'bytes' | 'label' | 'split'>;
const ELIGIBLE = "label IS NOT NULL AND excluded = 0 AND decode_status = 'ok' AND missing = 0 AND split != 'submission'";

/** Groups of images that must share a split: duplicate groups merged where they overlap, singletons else. */
function components(rows: readonly SplitRow[]): { parts: SplitRow[][]; groups: Array<readonly SplitRow[]> } {
  const index = new Map(rows.map((r, i) => [r.id, i]));
  const parent = rows.map((_, i) => i);
  const find = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r]!;
    while (parent[i] !== r) {
      const next = parent[i]!;
      parent[i] = r;
      i = next;
    }
    return r;
  };
  const groups = duplicateGroups(rows).map((g) => g.images);
  for (const g of groups) {
    const ids = g.map((img) => index.get(img.id)!);
    for (const i of ids.slice(1)) parent[find(i)] = find(ids[0]!);
  }
  const out = new Map<number, SplitRow[]>();
  rows.forEach((r, i) => {
    const root = find(i);
    const list = out.get(root);
    if (list) list.push(r);
    else out.set(root, [r]);
  });
  return { parts: [...out.values()], groups };
}

function majorityLabel(group: readonly SplitRow[]): string {
  const counts = new Map<string, number>();
  for (const img of group) counts.set(img.label!, (counts.get(img.label!) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
}

export function splitLibrary(db: Db, input: SplitInput): SplitSummary {
  if (input.val + input.test >= 1) {
    throw new AppError('BAD_INPUT', `--val ${input.val} and --test ${input.test} leave nothing to train on; their sum must be below 1`);
  }
  const rows = db.prepare(`SELECT id, sha256, phash, phash_fine, bytes, label, split FROM images WHERE ${ELIGIBLE}`).all() as SplitRow[];
  if (rows.length === 0) throw new AppError('CONFLICT', 'no labelled, included, readable images to split: import labels first');
  const { parts: groups, groups: duplicates } = components(rows);
  const random = seededRandom(input.seed);
  // Deterministic order before the seeded shuffle: by content, so row ids and import order do not matter.
  const key = (g: readonly SplitRow[]) => g.reduce((m, i) => (i.sha256 < m ? i.sha256 : m), g[0]!.sha256);
  const keyed = groups.map((g) => ({ g, k: key(g) }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const byClass = new Map<string, SplitRow[][]>();
  for (const { g } of keyed) {
    const label = majorityLabel(g);
    const list = byClass.get(label);
    if (list) list.push(g);
    else byClass.set(label, [g]);
  }
  const assignment = new Map<number, Target>();
  const counts: SplitSummary['counts'] = [];
  for (const [label, classGroups] of [...byClass].sort((a, b) => a[0].localeCompare(b[0]))) {
    shuffle(classGroups, random);
    const n = classGroups.reduce((s, g) => s + g.length, 0);
    const want: Record<Target, number> = { test: Math.round(n * input.test), val: Math.round(n * input.val), train: 0 };
    want.train = n - want.test - want.val;
    const have: Record<Target, number> = { train: 0, val: 0, test: 0 };
    for (const g of classGroups) {
      // The split furthest below its target (relative to its size) takes the group.
      const order: Target[] = ['test', 'val', 'train'];
      let best: Target = 'train';
      let bestGap = -Infinity;
      for (const t of order) {
        if (want[t] === 0) continue;
        const gap = (want[t] - have[t]) / want[t];
        if (gap > bestGap) {
          bestGap = gap;
          best = t;
        }
      }
      have[best] += g.length;
      for (const img of g) assignment.set(img.id, best);
    }
    for (const t of ['train', 'val', 'test'] as const) counts.push({ split: t, label, count: have[t] });
  }

  // One statement per split over the ids that move (100k single-row UPDATEs took ~0.8 s of a 3.3 s split).
  const moving = new Map<Target | 'unassigned', number[]>();
  for (const img of rows) {
    const next = assignment.get(img.id) ?? 'unassigned';
    if (img.split === next) continue;
    const list = moving.get(next);
    if (list) list.push(img.id);
    else moving.set(next, [img.id]);
  }
  db.transaction(() => {
    const update = db.prepare('UPDATE images SET split = ? WHERE id IN (SELECT value FROM json_each(?))');
    for (const [split, ids] of moving) update.run(split, JSON.stringify(ids));
    // rows that are no longer eligible (excluded, unlabelled, unreadable since) leave train/val/test
    db.prepare(`UPDATE images SET split = 'unassigned' WHERE split IN ('train', 'val', 'test') AND NOT (${ELIGIBLE})`).run();
    const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    meta.run('split', JSON.stringify({ seed: input.seed, val: input.val, test: input.test, at: new Date().toISOString() }));
  }).immediate();

  // Verify rather than trust: read the duplicates' splits back; no duplicate group spans two of them.
  const grouped = JSON.stringify(duplicates.flatMap((g) => g.map((i) => i.id)));
  const stored = new Map(
    (db.prepare(`SELECT id, split FROM images WHERE id IN (SELECT value FROM json_each(?))`).all(grouped) as Array<{ id: number; split: string }>).map((r) => [r.id, r.split]),
  );
  let leaks = 0;
  for (const g of duplicates) if (new Set(g.map((i) => stored.get(i.id))).size > 1) leaks++;
  return { seed: input.seed, counts, groups: groups.filter((g) => g.length > 1).length, leaks };
}

export function currentSplit(db: Db): { seed: number; val: number; test: number; at: string } | null {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'split'").get() as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as { seed: number; val: number; test: number; at: string }) : null;
}
