/**
 * The first half of an import, with no writes: read the labels CSV and the sample submission, walk the
 * folders, and decide for every file what the import says of it (its class, or that it belongs to the
 * unlabelled submission set) plus every bad CSV row with its line number.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { BadRow, ImportInput, SkippedFile } from '../../../shared/contract';
import { AppError } from '../../../shared/errors';
import { columnIndexes, parseCsvChecked } from '../csv';
import { IMAGE_EXTENSIONS } from './scan';
import { extensionOf, walkFiles, type SkippedEntry, type WalkedFile } from './walk';

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
  /** What the walk met and did not import, and why. */
  skipped: SkippedFile[];
}

function mustBeDir(path: string, what: string): string {
  const abs = resolve(path);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) throw new AppError('NOT_FOUND', `${what} was not found: ${abs}`);
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
  const { rows, unclosedQuotes } = parseCsvChecked(text);
  const header = rows[0];
  if (!header) throw new AppError('BAD_INPUT', `${basename(abs)} is empty: it needs a header with ${needed.map((n) => `'${n}'`).join(' and ')} columns`);
  const cols = columnIndexes(header.fields, needed);
  if (!cols) {
    throw new AppError(
      'BAD_INPUT',
      `${basename(abs)} line 1: the header needs ${needed.map((n) => `'${n}'`).join(' and ')} columns; it has ${header.fields.map((f) => `'${f}'`).join(', ')}`,
    );
  }
  const name = basename(abs);
  const unclosed: BadRow[] = unclosedQuotes.map((line) => ({
    line,
    file: '',
    kind: 'unknown-label',
    csv: name,
    folder: null,
    message: `${name} line ${line}: a quote opens here and never closes, so this row was skipped (the lines after it were read as usual); close the quote, or write a quote inside a quoted field twice ("")`,
  }));
  return { abs, name, rows: rows.slice(1), cols, unclosed };
}

const INTEGER = /^-?\d+$/;

/**
 * The classes a labels column declares: its integer values when it has any (0/1), else every value. A value
 * needs `minRows` rows to count when at least two values have that many, so one mistyped target ('2' among
 * 0s and 1s) is a bad row, not a class, while a tiny CSV still gets its classes.
 */
export function classesFromTargets(targets: readonly string[], minRows = 1): string[] {
  const counts = new Map<string, number>();
  for (const t of targets) if (t !== '') counts.set(t, (counts.get(t) ?? 0) + 1);
  const pick = (values: string[]) => {
    const ints = values.filter((v) => INTEGER.test(v));
    return ints.length > 0 ? ints.sort((a, b) => Number(a) - Number(b)) : values.sort();
  };
  const common = pick([...counts].filter(([, n]) => n >= minRows).map(([v]) => v));
  return common.length >= 2 ? common : pick([...counts.keys()]);
}

/** Rows a target value needs before an import without --classes takes it for a class: 2, or 1 % of the rows. */
export function minRowsForClass(rows: number): number {
  return Math.max(2, Math.ceil(rows * 0.01));
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

type CsvFile = ReturnType<typeof readCsvFile>;
type Finder = (name: string) => WalkedFile | undefined;

/**
 * A row naming no imported file: a `missing-file` row (counted once per CSV) when nothing by that name is
 * in the folder, or a row of its own saying why the walk skipped the file it names (a symlink, a hidden name).
 */
function noFile(csv: string, line: number, image: string, where: string, skipped: ReadonlyMap<string, string>): BadRow {
  const clean = image.replace(/\\/g, '/').replace(/^\.\//, '');
  const why = skipped.get(clean) ?? skipped.get(basename(clean));
  if (why !== undefined) return { line, file: image, kind: 'unknown-label', csv, folder: null, message: `${csv} line ${line}: image '${image}' was not imported: ${why}` };
  return { line, file: image, kind: 'missing-file', csv, folder: where, message: `${csv} line ${line}: image '${image}' has no file in ${where}` };
}

function oneOf(classes: readonly string[]): string {
  return classes.length === 2 ? `${classes[0]} or ${classes[1]}` : `one of ${classes.join(', ')}`;
}

/**
 * What the labels CSV says, by file, and the classes. The classes are the declared ones (`--classes`, else
 * the library's own) or, on a first import without `--classes`, the target values with enough rows naming
 * a file (classesFromTargets): a target outside them is a bad row, never a new class.
 */
function readLabels(labels: CsvFile, findInRoot: Finder, ctx: { root: string; declared: string[] | null; skipped: ReadonlyMap<string, string> }) {
  const badRows: BadRow[] = [...labels.unclosed];
  const labelOf = new Map<string, string | null>();
  const rows: Array<{ line: number; image: string; target: string; file: WalkedFile }> = [];
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
      badRows.push(noFile(labels.name, row.line, image, ctx.root, ctx.skipped));
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
    rows.push({ line: row.line, image, target, file });
  }
  const inferred = ctx.declared === null;
  const classes = ctx.declared ?? classesFromTargets(rows.map((r) => r.target), minRowsForClass(rows.length));
  const uses = new Map<string, number>();
  for (const r of rows) uses.set(r.target, (uses.get(r.target) ?? 0) + 1);
  for (const r of rows) {
    if (classes.includes(r.target)) {
      labelOf.set(r.file.abs, r.target);
      continue;
    }
    const n = uses.get(r.target) ?? 0;
    const add = `import again with the classes ${[...classes, r.target].join(',')} (Classes in the studio's Import, --classes on the command line)`;
    const numeric = classes.length > 0 && classes.every((c) => INTEGER.test(c)) && !INTEGER.test(r.target);
    const cause = numeric ? 'the other targets are numbers' : `only ${n} row${n === 1 ? ' says' : 's say'} '${r.target}', too few to take it for a class`;
    const why =
      r.target === ''
        ? 'the target is empty'
        : inferred
          ? `target '${r.target}' is not ${oneOf(classes)} (${cause}; if it is a class, ${add})`
          : `target '${r.target}' is not ${oneOf(classes)}, the library's classes (to add a class, ${add})`;
    badRows.push({ line: r.line, file: r.image, kind: 'unknown-label', csv: labels.name, folder: null, message: `${labels.name} line ${r.line}: ${why}` });
    labelOf.set(r.file.abs, null);
  }
  badRows.sort((a, b) => a.line - b.line);
  return { classes, labelOf, badRows };
}

/** The unlabelled submission set: every image of the test folder plus what the sample submission names. */
function readSubmission(sample: CsvFile | null, testFiles: readonly WalkedFile[], find: Finder, where: string, skipped: ReadonlyMap<string, string>) {
  const badRows: BadRow[] = [...(sample?.unclosed ?? [])];
  const submission = new Set<string>(testFiles.filter((f) => IMAGE_EXTENSIONS.has(extensionOf(f.rel))).map((f) => f.abs));
  let sampleRows = 0;
  if (!sample) return { submission, badRows, sampleRows };
  const seen = new Set<string>();
  for (const row of sample.rows) {
    const image = (row.fields[sample.cols.image] ?? '').trim();
    if (image === '') continue;
    sampleRows++;
    const file = find(image);
    if (!file) {
      badRows.push(noFile(sample.name, row.line, image, where, skipped));
      continue;
    }
    if (seen.has(file.abs)) {
      badRows.push({ line: row.line, file: image, kind: 'duplicate-row', csv: sample.name, folder: null, message: `${sample.name} line ${row.line}: image '${image}' is listed twice` });
      continue;
    }
    seen.add(file.abs);
    submission.add(file.abs);
  }
  return { submission, badRows, sampleRows };
}

/** Class-per-folder: the first folder level names the class. */
function readFolders(rootFiles: readonly WalkedFile[], declared: string[] | null) {
  const images = rootFiles.filter((f) => f.rel.includes('/') && IMAGE_EXTENSIONS.has(extensionOf(f.rel)));
  const classes = declared ?? [...new Set(images.map((f) => f.rel.split('/')[0]!))].sort();
  const labelOf = new Map<string, string | null>();
  for (const f of rootFiles) {
    const top = f.rel.includes('/') ? f.rel.split('/')[0]! : null;
    if (top !== null && classes.includes(top)) labelOf.set(f.abs, top);
  }
  return { classes, labelOf, badRows: [] as BadRow[] };
}

export function planImport(input: ImportInput, existingClasses: readonly string[]): ImportPlan {
  const root = mustBeDir(input.dir, 'the image folder');
  const testDir = input.testDir ? mustBeDir(input.testDir, 'the test image folder') : null;
  const labels = input.labels ? readCsvFile(input.labels, 'labels CSV', ['image', 'target']) : null;
  const sample = input.sampleSubmission ? readCsvFile(input.sampleSubmission, 'sample submission', ['image']) : null;

  const skippedRoot: SkippedEntry[] = [];
  const skippedTest: SkippedEntry[] = [];
  const rootFiles = walkFiles(root, testDir ? new Set([testDir]) : new Set(), skippedRoot);
  const testFiles = testDir ? walkFiles(testDir, new Set(), skippedTest) : [];
  const whyRoot = new Map(skippedRoot.flatMap((e) => [[e.file, e.reason], [basename(e.file), e.reason]] as const));
  const whyTest = new Map(skippedTest.flatMap((e) => [[e.file, e.reason], [basename(e.file), e.reason]] as const));

  // --classes, else the classes the library already has; a first import without --classes infers them
  const declared = input.classes ? [...input.classes, ...existingClasses.filter((c) => !input.classes!.includes(c))] : existingClasses.length > 0 ? [...existingClasses] : null;
  const said = labels ? readLabels(labels, indexFiles(rootFiles), { root, declared, skipped: whyRoot }) : readFolders(rootFiles, declared);
  const { classes, labelOf } = said;
  const sub = readSubmission(sample, testFiles, testDir ? indexFiles(testFiles) : indexFiles(rootFiles), testDir ?? root, testDir ? whyTest : whyRoot);
  const { submission } = sub;

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
    badRows: [...said.badRows, ...sub.badRows],
    sampleRows: sub.sampleRows,
    skipped: [...skippedRoot, ...skippedTest.map((e) => ({ file: `${basename(testDir ?? '')}/${e.file}`, reason: e.reason }))],
  };
}
