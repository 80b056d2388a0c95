/**
 * `<library>/exports/`: the one folder contract methods write a person's files to. A page never names a path
 * a writer uses; it gets the file as a download (serve) or main writes it where the save dialog said
 * (desktop). The CLI passes the user's own paths to core directly and never comes here.
 */
import { join } from 'node:path';
import type { EvalSplit } from '../../../shared/contract-compare';
import type { ExportFormat } from '../../../shared/names';
import type { Library } from '../library';

export function exportsDir(lib: Library): string {
  return join(lib.dir, 'exports');
}

export function reportFileName(split: EvalSplit): string {
  return `mask-studio-report-${split}.html`;
}

export function submissionFileName(runId: string): string {
  return `submission-${runId}.csv`;
}

export function modelExportName(runId: string, format: ExportFormat): string {
  return `${runId}-${format}`;
}

/** `dataset-20250131-142501`: a new folder per export (exportDataset refuses a folder that is not empty). */
export function datasetExportName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `dataset-${stamp}`;
}
