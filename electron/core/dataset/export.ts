/**
 * Export the cleaned dataset: the included, readable images copied into a new folder with `labels.csv`
 * (image, target, split), and the submission images with their own CSV. The user's files are only read.
 */
import { copyFileSync, constants, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import type { Db } from '../db/open';
import { formatCsv } from '../csv';
import { allImages, type ImageRecord } from './images';

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

export function exportDataset(db: Db, outDir: string): ExportResult {
  const out = resolve(outDir);
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new AppError('BAD_INPUT', `${out} is not empty: export writes into a new or empty folder`);
  }
  const usable = allImages(db).filter((i) => i.excluded === 0 && i.decode_status === 'ok' && i.missing === 0 && existsSync(i.path));
  const labelled = usable.filter((i) => i.label !== null && i.split !== 'submission');
  const submission = usable.filter((i) => i.split === 'submission');
  try {
    mkdirSync(join(out, 'images'), { recursive: true });
    const taken = new Set<string>();
    const rows: string[][] = [];
    for (const img of labelled) {
      const name = uniqueName(img, taken);
      copyFileSync(img.path, join(out, 'images', name), constants.COPYFILE_EXCL);
      rows.push([name, img.label!, img.split]);
    }
    writeFileSync(join(out, 'labels.csv'), formatCsv(['image', 'target', 'split'], rows));
    if (submission.length > 0) {
      mkdirSync(join(out, 'test_images'), { recursive: true });
      const takenTest = new Set<string>();
      const subRows: string[][] = [];
      for (const img of submission) {
        const name = uniqueName(img, takenTest);
        copyFileSync(img.path, join(out, 'test_images', name), constants.COPYFILE_EXCL);
        subRows.push([name, '0']);
      }
      writeFileSync(join(out, 'sample_submission.csv'), formatCsv(['image', 'target'], subRows));
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('IO', `export to ${out} failed: ${(err as Error).message}`);
  }
  return { outDir: out, images: labelled.length, submission: submission.length };
}
