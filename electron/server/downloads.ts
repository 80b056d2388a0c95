/**
 * Files the app hands a person to keep: a run's Zindi submission CSV, the HTML report and a run's model as a
 * zip (the export's files and model card). `serve` streams
 * them from a temp file (the browser saves them); Electron's main process writes them straight to the path
 * its save dialog returned. Both go through the same core functions the CLI uses.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalSplit } from '../../shared/contract-compare';
import { AppError } from '../../shared/errors';
import { zip } from '../core/zip';
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

export type ModelFormat = 'onnx' | 'tfjs';

export function parseModelFormat(text: string | null): ModelFormat {
  return text === 'tfjs' ? 'tfjs' : 'onnx';
}

export function modelZipName(runId: string, format: ModelFormat): string {
  return `model-${runId}-${format}.zip`;
}

export function reportFileName(split: EvalSplit): string {
  return `mask-studio-report-${split}.html`;
}

/** Writes the run's submission to `out` (a finished run with predictions for every sample row). */
export async function writeSubmissionFile(session: CoreSession, runId: string, out: string): Promise<{ out: string; rows: number }> {
  // Loaded on use: TensorFlow.js comes with predict.ts, and a server that never makes a submission skips it.
  const { writeSubmission } = await import('../core/ml/inference/predict');
  const r = await writeSubmission(session.lib, runId, out);
  return { out: r.out, rows: r.rows };
}

/** Writes the report through the contract's `report.write`, so it is the same file the CLI writes. */
export async function writeReportFile(session: CoreSession, split: EvalSplit, out: string): Promise<{ out: string; bytes: number }> {
  const reply = await session.call('report.write', { out, split });
  if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
  const value = reply.value;
  const bytes = typeof value === 'object' && value !== null && 'bytes' in value && typeof value.bytes === 'number' ? value.bytes : 0;
  return { out, bytes };
}

/** Exports the run's model through the contract's `runs.export` into a temp folder and zips that folder to `out`. */
export async function writeModelZip(session: CoreSession, runId: string, format: ModelFormat, out: string): Promise<{ out: string; files: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'mask-studio-model-'));
  try {
    const reply = await session.call('runs.export', { id: runId, format, outDir: dir });
    if (!reply.ok) throw new AppError(reply.error.code, reply.error.message);
    const names = (await readdir(dir)).sort();
    const entries = await Promise.all(names.map(async (name) => ({ name, data: await readFile(join(dir, name)) })));
    await writeFile(out, zip(entries));
    return { out, files: entries.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
