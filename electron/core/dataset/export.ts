/**
 * Export the cleaned dataset: the included, readable images copied into a new folder with `labels.csv`
 * (image, target, split), and the submission images with their own CSV. The user's files are only read.
 */
import { closeSync, constants, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { csvLine } from '../csv';
import { fsPath } from './fs-names';
import type { ImageRecord } from './images';

export interface ExportResult {
  outDir: string;
  images: number;
  submission: number;
}

/** A file name unique in its folder: a clash gets the source-relative path folded into the name. */
function uniqueName(img: ImageRecord, taken: Set<string>): string {
  let name = img.file_name;
  if (taken.has(name)) name = img.rel_path.replace(/[/\\]/g, '__');
  for (let n = 2; taken.has(name); n++) name = `${n}__${img.file_name}`;
  taken.add(name);
  return name;
}

const USABLE = "excluded = 0 AND decode_status = 'ok' AND missing = 0";

/**
 * Copies one group of rows (read one at a time) into `folder`, writing its CSV line by line: memory holds
 * one row and the set of names taken, not the library.
 */
function copyRows(rows: Iterable<ImageRecord>, folder: string, csv: string, header: readonly string[], line: (img: ImageRecord, name: string) => string[]): number {
  const fd = openSync(csv, 'w');
  try {
    writeSync(fd, `${csvLine(header)}\n`);
    const taken = new Set<string>();
    let n = 0;
    for (const img of rows) {
      if (!existsSync(fsPath(img.path))) continue;
      if (n === 0) mkdirSync(folder, { recursive: true });
      const name = uniqueName(img, taken);
      copyFileSync(fsPath(img.path), join(folder, name), constants.COPYFILE_EXCL);
      writeSync(fd, `${csvLine(line(img, name))}\n`);
      n++;
    }
    return n;
  } finally {
    closeSync(fd);
  }
}

export function exportDataset(db: Db, outDir: string): ExportResult {
  const out = resolve(outDir);
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new AppError('BAD_INPUT', `${out} is not empty: export writes into a new or empty folder`);
  }
  const rows = (where: string) => db.prepare(`SELECT * FROM images WHERE ${USABLE} AND ${where} ORDER BY id`).iterate() as IterableIterator<ImageRecord>;
  try {
    mkdirSync(join(out, 'images'), { recursive: true });
    const images = copyRows(rows("label IS NOT NULL AND split != 'submission'"), join(out, 'images'), join(out, 'labels.csv'), ['image', 'target', 'split'], (img, name) => [name, img.label ?? '', img.split]);
    const subCsv = join(out, 'sample_submission.csv');
    const submission = copyRows(rows("split = 'submission'"), join(out, 'test_images'), subCsv, ['image', 'target'], (_img, name) => [name, '0']);
    if (submission === 0) rmSync(subCsv);
    return { outDir: out, images, submission };
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('IO', `export to ${out} failed: ${(err as Error).message}`);
  }
}
