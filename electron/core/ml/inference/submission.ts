/**
 * The Zindi submission from the probabilities a run stored for the submission rows, in the sample's order.
 * A sample row without a probability is explained by what the library knows of it (no file was found at
 * import — Zindi's sample lists 509 test images where a download may hold 315 —, excluded, unreadable, …);
 * the person then chooses to fill those rows with one probability or to leave them out, and a note beside the
 * CSV says which rows were treated so. No TensorFlow.js here: the server loads this on every download.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { MissingPredictionReason, SubmissionCheck, SubmissionOptions, SubmissionResult } from '../../../../shared/contract-compare';
import { AppError } from '../../../../shared/errors';
import { writeFileAtomic } from '../../atomic-write';
import { columnIndexes, formatCsv, parseCsv } from '../../csv';
import { sampleSubmissionPath } from '../../dataset/import';
import type { Library } from '../../library';
import { getRun, hasUsableCheckpoint } from '../runs/store';
import { recordedTta, type TtaMode } from './tta';

interface SampleRow {
  line: number;
  image: string;
  probability: number | null;
  reason: MissingPredictionReason | null;
}

interface Plan {
  check: SubmissionCheck;
  runModel: string;
  tta: TtaMode;
  rows: SampleRow[];
}

/** How each reason reads after a count ("194 rows have no image file …"). */
const REASON_TEXT: Record<MissingPredictionReason, string> = {
  'no-file': 'have no image file (the import found none for them)',
  'file-gone': 'have a file that was moved or deleted after the import',
  excluded: 'are excluded from the library',
  unreadable: 'are images that cannot be decoded',
  'not-predicted': 'were not predicted by this run (imported after it, or not in the submission split when it trained)',
};

interface ImageFacts {
  fileName: string;
  relPath: string;
  split: string;
  excluded: number;
  missing: number;
  decodeStatus: string;
}

function reasonOf(image: ImageFacts | undefined): MissingPredictionReason {
  if (!image) return 'no-file';
  if (image.missing === 1) return 'file-gone';
  if (image.excluded === 1) return 'excluded';
  if (image.decodeStatus !== 'ok') return 'unreadable';
  return 'not-predicted';
}

async function readSample(lib: Library): Promise<{ path: string; rows: Array<{ line: number; image: string }> }> {
  const path = sampleSubmissionPath(lib.db);
  if (path === null) throw new AppError('NOT_FOUND', 'this library has no sample submission: import the test images with the sample submission CSV (Import: test folder and sample submission; the CLI: import DIR --test-dir DIR --sample-submission CSV)');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AppError('IO', `cannot read the sample submission ${path}: ${(err as Error).message}`);
  }
  const parsed = parseCsv(text);
  const header = parsed[0];
  const cols = header ? columnIndexes(header.fields, ['image'] as const) : null;
  if (!header || !cols) throw new AppError('BAD_INPUT', `${path}: no 'image' column in the header`);
  const rows = parsed.slice(1).map((r) => ({ line: r.line, image: r.fields[cols.image]?.trim() ?? '' })).filter((r) => r.image !== '');
  return { path, rows };
}

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

function describeMissing(runId: string, total: number, missing: SubmissionCheck['missing']): string | null {
  const count = missing.reduce((a, m) => a + m.count, 0);
  if (count === 0) return null;
  const parts = missing.map((m) => {
    const text = m.count === 1 ? m.text.replace(/^have /, 'has ').replace(/^are /, 'is ').replace(/^were /, 'was ') : m.text;
    return `${m.count.toLocaleString('en')} ${text} (${m.count > m.examples.length ? 'first: ' : ''}${m.examples.join(', ')}${m.count > m.examples.length ? ', …' : ''})`;
  });
  return `run ${runId} has no probability for ${count.toLocaleString('en')} of the ${plural(total, 'sample row', 'sample rows')}: ${parts.join('; ')}`;
}

interface ScoredImage {
  fileName: string;
  relPath: string;
  probability: number;
}

/** The submission split's images scored again by the run's checkpoint with another TTA mode (TensorFlow.js loads only then). */
async function rescored(lib: Library, runId: string, tta: TtaMode): Promise<ScoredImage[]> {
  const images = lib.db
    .prepare(
      `SELECT path, file_name AS fileName, rel_path AS relPath FROM images
       WHERE split = 'submission' AND excluded = 0 AND missing = 0 AND decode_status = 'ok' ORDER BY id`,
    )
    .all() as Array<{ path: string; fileName: string; relPath: string }>;
  if (images.length === 0) return [];
  const { predictStream } = await import('./predict-stream');
  const out: ScoredImage[] = [];
  let i = 0;
  await predictStream(lib, runId, images.map((im) => im.path), (row) => {
    const im = images[i++];
    if (im && row.probability !== null) out.push({ fileName: im.fileName, relPath: im.relPath, probability: row.probability });
  }, { tta });
  return out;
}

async function plan(lib: Library, runRef: string, ttaAsked?: TtaMode): Promise<Plan> {
  const run = getRun(lib.db, runRef);
  if (!hasUsableCheckpoint(run)) {
    throw new AppError('CONFLICT', `run ${run.id} is ${run.status}${run.status === 'running' ? '' : ' with no saved checkpoint'}; a submission needs a finished run or a checkpoint`);
  }
  // a run stopped early scores the submission rows with its best checkpoint now (TensorFlow.js loads only then)
  if (run.status !== 'done') {
    const { scoreLateSplits } = await import('./checkpoint-scores');
    await scoreLateSplits(lib, run.id, ['submission']);
  }
  const sample = await readSample(lib);
  const own = recordedTta(run.config);
  const tta = ttaAsked ?? own;
  const preds =
    tta !== own
      ? await rescored(lib, run.id, tta)
      : (lib.db
          .prepare(
            `SELECT i.file_name AS fileName, i.rel_path AS relPath, p.probability FROM predictions p JOIN images i ON i.id = p.image_id
             WHERE p.run_id = ? AND p.split = 'submission'`,
          )
          .all(run.id) as ScoredImage[]);
  const byName = new Map<string, number>();
  for (const p of preds) {
    byName.set(p.relPath, p.probability);
    byName.set(p.fileName, p.probability);
  }
  const images = new Map<string, ImageFacts>();
  const all = lib.db
    .prepare(`SELECT file_name AS fileName, rel_path AS relPath, split, excluded, missing, decode_status AS decodeStatus FROM images ORDER BY split = 'submission'`)
    .all() as ImageFacts[];
  // submission rows are read last, so they win a name shared with a labelled image
  for (const img of all) {
    images.set(img.relPath, img);
    images.set(img.fileName, img);
  }
  const rows: SampleRow[] = sample.rows.map((r) => {
    const p = byName.get(r.image) ?? byName.get(basename(r.image));
    if (p !== undefined) return { ...r, probability: p, reason: null };
    return { ...r, probability: null, reason: reasonOf(images.get(r.image) ?? images.get(basename(r.image))) };
  });
  const missing: SubmissionCheck['missing'] = [];
  for (const reason of Object.keys(REASON_TEXT) as MissingPredictionReason[]) {
    const of = rows.filter((r) => r.reason === reason);
    if (of.length > 0) missing.push({ reason, text: REASON_TEXT[reason], count: of.length, examples: of.slice(0, 3).map((r) => r.image) });
  }
  const predicted = rows.length - missing.reduce((a, m) => a + m.count, 0);
  return {
    check: { runId: run.id, sample: sample.path, rows: rows.length, predicted, missing, summary: describeMissing(run.id, rows.length, missing) },
    runModel: run.model,
    tta,
    rows,
  };
}

/** Which sample rows the run can write and why the others cannot be predicted (nothing is written). */
export async function checkSubmission(lib: Library, runRef: string, tta?: TtaMode): Promise<SubmissionCheck> {
  return (await plan(lib, runRef, tta)).check;
}

/** The note beside the CSV: the run, the sample, and every row that was filled or left out, with why. */
export function noteFileFor(csvFile: string): string {
  return `${csvFile.replace(/\.csv$/i, '')}.note.txt`;
}

function noteText(p: Plan, csv: string, options: SubmissionOptions): string {
  const treated = p.rows.filter((r) => r.probability === null);
  const how = options.partial === true ? 'left out (--partial)' : `written with the probability ${String(options.fill)} (--fill ${String(options.fill)})`;
  return [
    `Mask Studio: a note on ${basename(csv)}`,
    '',
    `run: ${p.check.runId} (${p.runModel}), test-time augmentation: ${p.tta}`,
    `sample submission: ${p.check.sample} (${plural(p.check.rows, 'row', 'rows')})`,
    `rows with the run's probability: ${p.check.predicted.toLocaleString('en')}`,
    `rows ${how}: ${treated.length.toLocaleString('en')}`,
    ...p.check.missing.map((m) => `  ${m.count.toLocaleString('en')} ${m.text}`),
    '',
    'line\timage\twhy',
    ...treated.map((r) => `${r.line}\t${r.image}\t${r.reason ?? ''}`),
    '',
  ].join('\n');
}

/**
 * Writes `image,target` in the sample's row order. Rows without a probability refuse the write (the error
 * says why each has none and what to choose) unless `fill` or `partial` is given; then the CSV gets a note.
 */
export async function writeSubmission(lib: Library, runRef: string, outFile: string, options: SubmissionOptions = {}): Promise<SubmissionResult> {
  if (options.fill !== undefined && options.partial === true) throw new AppError('BAD_INPUT', 'choose --fill P or --partial, not both');
  const p = await plan(lib, runRef, options.tta);
  const without = p.check.rows - p.check.predicted;
  if (without > 0 && options.fill === undefined && options.partial !== true) {
    throw new AppError(
      'CONFLICT',
      `${p.check.summary ?? ''}. Write it anyway with --fill P (each of those rows gets the probability P, e.g. --fill 0.5; a note beside the CSV lists them) ` +
        `or --partial (only the ${p.check.predicted.toLocaleString('en')} rows with a probability; Zindi may refuse an incomplete file)`,
    );
  }
  const out: Array<[string, number]> = [];
  for (const r of p.rows) {
    if (r.probability !== null) out.push([r.image, r.probability]);
    else if (options.partial !== true && options.fill !== undefined) out.push([r.image, options.fill]);
  }
  const abs = resolve(outFile);
  await writeFileAtomic(abs, formatCsv(['image', 'target'], out));
  let note: string | null = null;
  if (without > 0) {
    note = noteFileFor(abs);
    await writeFileAtomic(note, noteText(p, abs, options));
  }
  const filled = options.partial === true ? 0 : without;
  return { out: abs, rows: out.length, filled, omitted: without - filled, tta: p.tta, note, sample: p.check.sample };
}
