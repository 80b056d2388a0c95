/**
 * Counts and distributions for `mask-studio stats` and the Insights view. Counted in SQL and read as a few
 * numeric columns, so 100,000 images take well under a second (no row objects for every image).
 */
import type { Stats } from '../../../shared/contract';
import type { Db } from '../db/open';
import { sizeSummary } from '../stats/statistics';

export function libraryStats(db: Db): Stats {
  const totals = db
    .prepare(
      `SELECT COUNT(*) AS images, COALESCE(SUM(excluded = 0), 0) AS included,
         COALESCE(SUM(excluded = 0 AND decode_status = 'ok'), 0) AS readable FROM images`,
    )
    .get() as { images: number; included: number; readable: number };
  const byClassAndSplit = db
    .prepare('SELECT label, split, COUNT(*) AS count FROM images WHERE excluded = 0 GROUP BY label, split')
    .all() as Stats['byClassAndSplit'];
  const formats = db
    .prepare("SELECT COALESCE(format, magic, 'unknown') AS format, COUNT(*) AS count FROM images GROUP BY 1 ORDER BY count DESC, format")
    .all() as Stats['formats'];
  const sizes = db.prepare("SELECT width, height, bytes FROM images WHERE excluded = 0 AND decode_status = 'ok'").raw().all() as Array<
    [number | null, number | null, number]
  >;
  const widths: number[] = [];
  const heights: number[] = [];
  const aspects: number[] = [];
  const bytes: number[] = [];
  for (const [w, h, b] of sizes) {
    if (w !== null) widths.push(w);
    if (h !== null) heights.push(h);
    if (w && h) aspects.push(w / h);
    bytes.push(b);
  }
  return {
    images: totals.images,
    included: totals.included,
    excluded: totals.images - totals.included,
    readable: totals.readable,
    byClassAndSplit: byClassAndSplit.sort((a, b) => (a.label ?? '~').localeCompare(b.label ?? '~') || a.split.localeCompare(b.split)),
    formats,
    // the audit's outlier rule (log-scale fences, statistics.ts), so Insights counts what Review lists;
    // the audit compares bytes within each format, here they are over every readable image
    width: sizeSummary(widths),
    height: sizeSummary(heights),
    aspect: sizeSummary(aspects),
    bytes: sizeSummary(bytes),
  };
}
