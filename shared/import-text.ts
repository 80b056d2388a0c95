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

const n = (v: number): string => v.toLocaleString('en');

/**
 * The counts sentence after "Imported N files in S s:", every number grouped the same way ("1,617 added", not
 * "1617 added" after "1,617 files"); counts that are zero and say nothing new (relinked, unlabelled) are left out.
 */
export function importCounts(s: Pick<ImportSummary, 'added' | 'unchanged' | 'changed' | 'relinked' | 'labelled' | 'submission' | 'unlabelled' | 'unreadable'>): string {
  const parts = [`${n(s.added)} added`, `${n(s.unchanged)} unchanged`, `${n(s.changed)} changed`];
  if (s.relinked > 0) parts.push(`${n(s.relinked)} relinked`);
  parts.push(`${n(s.labelled)} labelled`, `${n(s.submission)} for submission`);
  if (s.unlabelled > 0) parts.push(`${n(s.unlabelled)} unlabelled`);
  parts.push(`${n(s.unreadable)} unreadable`);
  return `${parts.join(', ')}.`;
}

/** The first `limit` entries that were not imported, and how many more there are. */
export function skippedEntries(s: Pick<ImportSummary, 'skipped'>, limit: number): { rows: string[]; more: number } {
  const rows = s.skipped.slice(0, Math.max(0, limit)).map((e) => `${e.file}: ${e.reason}`);
  return { rows, more: s.skipped.length - rows.length };
}
