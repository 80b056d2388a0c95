/**
 * `<library>/exports/`: the one folder contract methods write a person's files to. A page never names a path
 * a writer uses; it gets the file as a download (serve) or main writes it where the save dialog said
 * (desktop). The CLI passes the user's own paths to core directly and never comes here.
 */
import { basename, join } from 'node:path';
import type { EvalSplit } from '../../../shared/contract-compare';
import type { ExportFormat } from '../../../shared/names';
import type { Library } from '../library';

export function exportsDir(lib: Library): string {
  return join(lib.dir, 'exports');
}

/** A library folder's name as a file-name part: letters, digits, dots, dashes and underscores, at most 40. */
export function librarySlug(libDir: string): string {
  const slug = basename(libDir).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 40);
  return slug === '' ? 'library' : slug;
}

function stamp(now: Date, sep: string): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}${sep}${p(now.getHours())}${p(now.getMinutes())}`;
}

/**
 * `mask-studio-report-spot-the-mask-val-20261206-0345.html`: which library's runs, which split and when, so a
 * second report neither replaces the first nor looks like it in a downloads folder.
 */
export function reportFileName(libDir: string, split: EvalSplit, now = new Date()): string {
  return `mask-studio-report-${librarySlug(libDir)}-${split}-${stamp(now, '-')}.html`;
}

export function submissionFileName(runId: string): string {
  return `submission-${runId}.csv`;
}

export function modelExportName(runId: string, format: ExportFormat): string {
  return `${runId}-${format}`;
}

/** `dataset-20250131-142501`: a new folder per export (exportDataset refuses a folder that is not empty). */
export function datasetExportName(now = new Date()): string {
  const seconds = String(now.getSeconds()).padStart(2, '0');
  return `dataset-${stamp(now, '-')}${seconds}`;
}
