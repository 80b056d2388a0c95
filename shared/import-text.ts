/**
 * What an import summary says about the rows it could not use, for the CLI and the Import dialog alike:
 * the notes (rows naming no file, counted once per CSV) first, then the other bad rows, each as its own
 * sentence (which already starts with the CSV and the line), at most `limit` of them and how many more.
 */
import type { ImportSummary } from './contract';

export interface ImportProblems {
  notes: string[];
  /** Sentences of the bad rows that are not counted in a note. */
  rows: string[];
  /** Rows not in `rows` because of the limit. */
  more: number;
  /** All bad rows that are not counted in a note. */
  total: number;
}

export function importProblems(s: Pick<ImportSummary, 'notes' | 'badRows'>, limit: number): ImportProblems {
  const others = s.badRows.filter((b) => b.kind !== 'missing-file');
  const rows = others.slice(0, Math.max(0, limit)).map((b) => b.message);
  return { notes: [...s.notes], rows, more: others.length - rows.length, total: others.length };
}
