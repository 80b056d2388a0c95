/** Counts and distributions for `mask-studio stats` and the Insights view. */
import type { Stats } from '../../../shared/contract';
import type { Db } from '../db/open';
import { allImages } from './images';
import { sizeSummary } from '../stats/statistics';

export function libraryStats(db: Db): Stats {
  const images = allImages(db);
  const included = images.filter((i) => i.excluded === 0);
  const readable = included.filter((i) => i.decode_status === 'ok');
  const byKey = new Map<string, { label: string | null; split: Stats['byClassAndSplit'][number]['split']; count: number }>();
  for (const img of included) {
    const key = `${img.label ?? ''}\u0000${img.split}`;
    const entry = byKey.get(key) ?? { label: img.label, split: img.split, count: 0 };
    entry.count++;
    byKey.set(key, entry);
  }
  const formats = new Map<string, number>();
  for (const img of images) {
    const f = img.format ?? img.magic ?? 'unknown';
    formats.set(f, (formats.get(f) ?? 0) + 1);
  }
  const widths = readable.map((i) => i.width).filter((v): v is number => v !== null);
  const heights = readable.map((i) => i.height).filter((v): v is number => v !== null);
  const aspects = readable.filter((i) => i.width && i.height).map((i) => i.width! / i.height!);
  return {
    images: images.length,
    included: included.length,
    excluded: images.length - included.length,
    readable: readable.length,
    byClassAndSplit: [...byKey.values()].sort((a, b) => (a.label ?? '~').localeCompare(b.label ?? '~') || a.split.localeCompare(b.split)),
    formats: [...formats].map(([format, count]) => ({ format, count })).sort((a, b) => b.count - a.count),
    // the audit's outlier rule (log-scale fences, statistics.ts), so Insights counts what Review lists;
    // the audit compares bytes within each format, here they are over every readable image
    width: sizeSummary(widths),
    height: sizeSummary(heights),
    aspect: sizeSummary(aspects),
    bytes: sizeSummary(readable.map((i) => i.bytes)),
  };
}
