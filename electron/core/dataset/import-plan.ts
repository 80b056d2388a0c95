/**
 * The first half of an import, with no writes: read the labels CSV and the sample submission, walk the
 * folders, and decide for every file what the import says of it (its class, or that it belongs to the
 * unlabelled submission set) plus every bad CSV row with its line number.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { BadRow, ImportInput } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import { columnIndexes, parseCsv } from '../csv';
import { IMAGE_EXTENSIONS } from './scan';
import { extensionOf, walkFiles, type WalkedFile } from './walk';

export interface PlannedFile extends WalkedFile {
  sourceRoot: string;
  /** A class name; null when a CSV row names it with a bad target; undefined when nothing names it. */
  label: string | null | undefined;
  submission: boolean;
}

export interface ImportPlan {
  layout: 'zindi' | 'class-folders';
  root: string;
  testDir: string | null;
  labelsCsv: string | null;
  sampleSubmission: string | null;
  classes: string[];
  files: PlannedFile[];
  badRows: BadRow[];
  /** Rows of the sample submission that name an image (0 without one). */
  sampleRows: number;
}

function mustBeDir(path: string, what: string): string {
  const abs = resolve(path);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) throw new AppError('NOT_FOUND', `${what} not found: ${abs}`);
  if (!st.isDirectory()) throw new AppError('BAD_INPUT', `${what} is not a folder: ${abs}`);
  return abs;
}

function readCsvFile(path: string, what: string, needed: readonly string[]) {
  const abs = resolve(path);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new AppError('NOT_FOUND', `cannot read the ${what} ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const rows = parseCsv(text);
  const header = rows[0];
  if (!header) throw new AppError('BAD_INPUT', `${basename(abs)} is empty: it needs a header with ${needed.map((n) => `'${n}'`).join(' and ')} columns`);
  const cols = columnIndexes(header.fields, needed);
  if (!cols) {
    throw new AppError(
      'BAD_INPUT',
      `${basename(abs)} line 1: the header needs ${needed.map((n) => `'${n}'`).join(' and ')} columns; it has ${header.fields.map((f) => `'${f}'`).join(', ')}`,
    );
  }
  return { abs, name: basename(abs), rows: rows.slice(1), cols };
}

const INTEGER = /^-?\d+$/;

/** The classes a labels column declares: its integer values when it has any (0/1), else every value. */
export function classesFromTargets(targets: readonly string[]): string[] {
  const values = [...new Set(targets.filter((t) => t !== ''))];
  const ints = values.filter((v) => INTEGER.test(v));
  if (ints.length > 0) return ints.sort((a, b) => Number(a) - Number(b));
  return values.sort();
}

/** Looks a CSV name up among walked files: by relative path first, then by file name when that is unique. */
function indexFiles(files: readonly WalkedFile[]) {
  const byRel = new Map<string, WalkedFile>();
  const byName = new Map<string, WalkedFile[]>();
  for (const f of files) {
    byRel.set(f.rel, f);
    const name = basename(f.rel);
    const list = byName.get(name);
    if (list) list.push(f);
    else byName.set(name, [f]);
  }
  return (name: string): WalkedFile | undefined => {
    const clean = name.replace(/\\/g, '/').replace(/^\.\//, '');
    const hit = byRel.get(clean);
    if (hit) return hit;
    const list = byName.get(basename(clean));
    return list && list.length === 1 ? list[0] : undefined;
  };
}

export function planImport(input: ImportInput, existingClasses: readonly string[]): ImportPlan {
  const root = mustBeDir(input.dir, 'the image folder');
  const testDir = input.testDir ? mustBeDir(input.testDir, 'the test image folder') : null;
  const labels = input.labels ? readCsvFile(input.labels, 'labels CSV', ['image', 'target']) : null;
  const sample = input.sampleSubmission ? readCsvFile(input.sampleSubmission, 'sample submission', ['image']) : null;
  const badRows: BadRow[] = [];

  const rootFiles = walkFiles(root, testDir ? new Set([testDir]) : new Set());
  const testFiles = testDir ? walkFiles(testDir) : [];
  const findInRoot = indexFiles(rootFiles);
  const findInTest = indexFiles(testFiles);

  // What the CSV says, by file.
  const labelOf = new Map<string, string | null>();
  let classes: string[];
  if (labels) {
    const targets = labels.rows.map((r) => (r.fields[labels.cols.target] ?? '').trim());
    classes = input.classes ?? classesFromTargets(targets);
    for (const c of existingClasses) if (!classes.includes(c)) classes.push(c);
    const seenAt = new Map<string, { line: number; target: string }>();
    for (const row of labels.rows) {
      const image = (row.fields[labels.cols.image] ?? '').trim();
      const target = (row.fields[labels.cols.target] ?? '').trim();
      if (image === '') {
        badRows.push({ line: row.line, file: '', kind: 'unknown-label', csv: labels.name, folder: null, message: `${labels.name} line ${row.line}: the image column is empty` });
        continue;
      }
      const file = findInRoot(image);
      if (!file) {
        badRows.push({ line: row.line, file: image, kind: 'missing-file', csv: labels.name, folder: root, message: `${labels.name} line ${row.line}: image '${image}' has no file in ${root}` });
        continue;
      }
      const before = seenAt.get(file.abs);
      if (before) {
        const same = before.target === target;
        badRows.push({
          line: row.line,
          file: image,
          kind: 'duplicate-row',
          csv: labels.name,
          folder: null,
          message: `${labels.name} line ${row.line}: image '${image}' already has a row at line ${before.line}${same ? '' : ` with target '${before.target}' (this row says '${target}'; the first row is kept)`}`,
        });
        continue;
      }
      seenAt.set(file.abs, { line: row.line, target });
      if (!classes.includes(target)) {
        badRows.push({
          line: row.line,
          file: image,
          kind: 'unknown-label',
          csv: labels.name,
          folder: null,
          message: `${labels.name} line ${row.line}: target '${target}' is not ${classes.length === 2 ? `${classes[0]} or ${classes[1]}` : `one of ${classes.join(', ')}`}`,
        });
        labelOf.set(file.abs, null);
        continue;
      }
      labelOf.set(file.abs, target);
    }
  } else {
    // Class-per-folder: the first folder level names the class.
    const folderClasses = [...new Set(rootFiles.filter((f) => f.rel.includes('/') && IMAGE_EXTENSIONS.has(extensionOf(f.rel))).map((f) => f.rel.split('/')[0]!))].sort();
    classes = input.classes ?? folderClasses;
    for (const c of existingClasses) if (!classes.includes(c)) classes.push(c);
    for (const f of rootFiles) {
      const top = f.rel.includes('/') ? f.rel.split('/')[0]! : null;
      if (top !== null && classes.includes(top)) labelOf.set(f.abs, top);
    }
  }

  // What the sample submission says: unlabelled test images, looked up in the test folder, else the root.
  const submission = new Set<string>(testFiles.filter((f) => IMAGE_EXTENSIONS.has(extensionOf(f.rel))).map((f) => f.abs));
  let sampleRows = 0;
  if (sample) {
    const seen = new Set<string>();
    const folder = testDir ?? root;
    for (const row of sample.rows) {
      const image = (row.fields[sample.cols.image] ?? '').trim();
      if (image === '') continue;
      sampleRows++;
      const file = testDir ? findInTest(image) : findInRoot(image);
      if (!file) {
        badRows.push({ line: row.line, file: image, kind: 'missing-file', csv: sample.name, folder, message: `${sample.name} line ${row.line}: image '${image}' has no file in ${folder}` });
        continue;
      }
      if (seen.has(file.abs)) {
        badRows.push({ line: row.line, file: image, kind: 'duplicate-row', csv: sample.name, folder: null, message: `${sample.name} line ${row.line}: image '${image}' is listed twice` });
        continue;
      }
      seen.add(file.abs);
      submission.add(file.abs);
    }
  }

  const files: PlannedFile[] = [];
  for (const f of rootFiles) {
    const named = labelOf.has(f.abs) || submission.has(f.abs);
    if (!named && !IMAGE_EXTENSIONS.has(extensionOf(f.rel))) continue; // notes.txt beside the photos is not data
    const isSubmission = submission.has(f.abs) && !labelOf.has(f.abs);
    files.push({ ...f, sourceRoot: root, label: isSubmission ? undefined : labelOf.get(f.abs), submission: isSubmission });
  }
  for (const f of testFiles) {
    if (!submission.has(f.abs)) continue;
    files.push({ ...f, sourceRoot: testDir ?? root, label: undefined, submission: true });
  }

  return {
    layout: labels ? 'zindi' : 'class-folders',
    root,
    testDir,
    labelsCsv: labels?.abs ?? null,
    sampleSubmission: sample?.abs ?? null,
    classes,
    files,
    badRows,
    sampleRows,
  };
}

