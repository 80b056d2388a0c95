/**
 * CSV rows that name an image no imported folder holds. Zindi's sample submission lists 509 test images and a
 * download (or a trimmed copy) may hold fewer: that is one fact about one CSV, so import says it once, the
 * audit makes it one finding, and `submission` names it as the reason a row has no prediction.
 */
import { basename } from 'node:path';

export interface MissingRow {
  line: number;
  image: string;
}

export interface MissingRowGroup {
  csv: string;
  /** The folder the images were looked for in (absolute), or null when not recorded. */
  folder: string | null;
  rows: MissingRow[];
  /** True for the sample submission (its rows are the unlabelled test set). */
  sample: boolean;
  /** All rows of that CSV that name an image, when known ("194 of the 509 rows"). */
  total: number | null;
}

/** Groups rows by CSV, in the order the CSVs first appear. */
export function groupMissingRows<T extends { csv: string; folder: string | null; line: number; file: string }>(
  rows: readonly T[],
  isSample: (csv: string) => boolean,
  totalOf: (csv: string) => number | null = () => null,
): MissingRowGroup[] {
  const groups = new Map<string, MissingRowGroup>();
  for (const r of rows) {
    let g = groups.get(r.csv);
    if (!g) {
      g = { csv: r.csv, folder: r.folder, rows: [], sample: isSample(r.csv), total: totalOf(r.csv) };
      groups.set(r.csv, g);
    }
    g.rows.push({ line: r.line, image: r.file });
  }
  return [...groups.values()];
}

const count = (n: number): string => n.toLocaleString('en');

/** One sentence for a group: how many rows, which CSV, where they were looked for, the first names, what follows. */
export function missingRowsSentence(g: MissingRowGroup, examples = 3): string {
  const n = g.rows.length;
  const rows = g.total !== null ? `${count(n)} of the ${count(g.total)} rows` : `${count(n)} row${n === 1 ? '' : 's'}`;
  const where = g.folder !== null ? ` in ${basename(g.folder)}/` : '';
  const first = g.rows.slice(0, examples).map((r) => r.image);
  const names = `${n === 1 ? '' : 'first: '}${first.join(', ')}${n > first.length ? ', …' : ''}`;
  const verb = n === 1 ? 'names an image that is' : 'name images that are';
  const consequence = g.sample
    ? 'they have no image to predict, so a submission needs their rows filled with one probability or left out'
    : `${n === 1 ? 'it was' : 'they were'} skipped`;
  return `${rows} of ${g.csv} ${verb} not${where} (${names}): ${consequence}`;
}
