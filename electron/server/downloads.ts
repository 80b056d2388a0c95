/**
 * Files the app hands a person to keep: a run's Zindi submission CSV (and its note when rows were filled or
 * left out) and the HTML report. `serve` streams
 * them from a temp file (the browser saves them); Electron's main process writes them straight to the path
 * its save dialog returned. Both go through the same core functions the CLI uses.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubmissionOptions, type EvalSplit } from '../../shared/contract-compare';
import { AppError } from '../../shared/errors';
import { describeValidation } from '../../shared/validation-text';
import type { CoreSession } from './session';

/** Run ids are `<time>-<model>-<hex>`: anything else in the URL (a slash, a '%') is refused before core sees it. */
export function parseRunId(text: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    return null;
  }
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(decoded) ? decoded : null;
}

export function parseSplit(text: string | null): EvalSplit {
  return text === 'test' ? 'test' : 'val';
}

export function submissionFileName(runId: string): string {
  return `submission-${runId}.csv`;
}

export function submissionNoteName(runId: string): string {
  return `submission-${runId}.note.txt`;
}

export function reportFileName(split: EvalSplit): string {
  return `mask-studio-report-${split}.html`;
}

/**
 * The fill / partial choice from a download's query (`?fill=0.5`, `?partial=1`), through the contract's
 * schema like every other input; a bad value is BAD_INPUT with the schema's sentence.
 */
export function parseSubmissionQuery(params: URLSearchParams): SubmissionOptions {
  const fill = params.get('fill');
  const partial = params.get('partial');
  const raw = {
    ...(fill !== null ? { fill: fill.trim() === '' ? Number.NaN : Number(fill) } : {}),
    ...(partial !== null ? { partial: partial === '1' || partial === 'true' } : {}),
  };
  const parsed = SubmissionOptions.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new AppError('BAD_INPUT', describeValidation(parsed.error.issues));
  return parsed.data;
}

/** Writes the run's submission to `out` (and its note beside it when rows were filled or left out). */
export async function writeSubmissionFile(session: CoreSession, runId: string, out: string, options: SubmissionOptions = {}): Promise<{ out: string; rows: number; note: string | null }> {
  // Loaded on use: a server that never makes a submission skips the CSV reader.
  const { writeSubmission } = await import('../core/ml/inference/submission');
  const r = await writeSubmission(session.lib, runId, out, options);
  return { out: r.out, rows: r.rows, note: r.note };
}

/** The note of a submission written with these options, at `noteFile` (its CSV goes beside it). */
export async function writeSubmissionNote(session: CoreSession, runId: string, noteFile: string, options: SubmissionOptions): Promise<void> {
  const r = await writeSubmissionFile(session, runId, noteFile.replace(/\.note\.txt$/, '.csv'), options);
  if (r.note === null) throw new AppError('NOT_FOUND', `run ${runId} has a probability for every sample row: its submission needs no note`);
}

/** Writes the report through the contract's `report.write`, so it is the same file the CLI writes. */
export async function writeReportFile(session: CoreSession, split: EvalSplit, out: string): Promise<{ out: string; bytes: number }> {
  const reply = await session.call('report.write', { out, split });
  if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
  const value = reply.value;
  const bytes = typeof value === 'object' && value !== null && 'bytes' in value && typeof value.bytes === 'number' ? value.bytes : 0;
  return { out, bytes };
}

/** Runs `write` into a fresh temp folder and returns the file's bytes; the folder is removed either way. */
export async function viaTempFile(name: string, write: (file: string) => Promise<unknown>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'mask-studio-download-'));
  try {
    const file = join(dir, name);
    await write(file);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
