/**
 * The contract's import half: what `import.start` takes, what `import.detect` finds beside a folder, and the
 * summary an import ends with (its bad rows and skipped entries). `contract.ts` re-exports every name here.
 */
import { z } from 'zod';

export const BadRow = z.object({
  line: z.number().int(),
  file: z.string(),
  /** missing-file: the row names an image that is in no imported folder (it is skipped). */
  kind: z.enum(['unknown-label', 'duplicate-row', 'missing-file']),
  /** The whole sentence, starting with the CSV's name and line ("labels.csv line 4: target 'yes' is not 0 or 1"). */
  message: z.string(),
  /** The CSV's file name. */
  csv: z.string(),
  /** For missing-file: the folder the image was looked for in. */
  folder: z.string().nullable(),
});
export type BadRow = z.infer<typeof BadRow>;

/** An entry an import met and did not import (a hidden name, a symlink, a row it could not store), and why. */
export const SkippedFile = z.object({ file: z.string(), reason: z.string() });
export type SkippedFile = z.infer<typeof SkippedFile>;

export const ImportInput = z.object({
  dir: z.string().min(1),
  labels: z.string().min(1).optional(),
  testDir: z.string().min(1).optional(),
  sampleSubmission: z.string().min(1).optional(),
  /** Class names as written in the labels; default: read from the CSV (or the folders). */
  classes: z.array(z.string().min(1)).min(2).optional(),
});
export type ImportInput = z.infer<typeof ImportInput>;

/** What the import dialog found beside an image folder (import.detect): used where the person left a field blank. */
export const ImportDetected = z.object({
  dir: z.string(),
  exists: z.boolean(),
  labels: z.string().nullable(),
  testDir: z.string().nullable(),
  sampleSubmission: z.string().nullable(),
  /** The folders searched (the image folder's parent, and the folder itself). */
  looked: z.array(z.string()),
});
export type ImportDetected = z.infer<typeof ImportDetected>;

export const ImportSummary = z.object({
  layout: z.enum(['zindi', 'class-folders']),
  files: z.number().int(), // image files seen
  added: z.number().int(),
  unchanged: z.number().int(),
  changed: z.number().int(), // same path, different bytes
  relinked: z.number().int(), // same bytes, new path (a moved folder)
  missing: z.number().int(), // rows whose file vanished
  labelled: z.number().int(),
  submission: z.number().int(),
  unlabelled: z.number().int(),
  unreadable: z.number().int(),
  /** Rows of the sample submission (0 without one), and how many of them name no file (Zindi's 509 vs 315 present). */
  sampleRows: z.number().int(),
  sampleRowsWithoutFile: z.number().int(),
  /** Every bad row, each with its sentence (also for the rows counted in `notes`). */
  badRows: z.array(BadRow),
  /** What a person must know, each said once: rows naming no file are counted per CSV here, not listed one by one. */
  notes: z.array(z.string()),
  skipped: z.array(SkippedFile),
  classes: z.array(z.string()),
  seconds: z.number(),
});
export type ImportSummary = z.infer<typeof ImportSummary>;
