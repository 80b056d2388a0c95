/**
 * Files the app hands a person to keep: a run's Zindi submission CSV (and its note when rows were filled or
 * left out), the HTML report and an exported model.
 * Electron's main process writes them where its save dialog said; `serve` writes them into the library's
 * exports/ folder (the only place it writes to) and streams them as downloads. The page names neither path.
 * Both go through the same core functions the CLI uses.
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RUN_ID_PATTERN } from '../../shared/contract';
import { SubmissionOptions, type EvalSplit } from '../../shared/contract-compare';
import { AppError } from '../../shared/errors';
import { describeValidation } from '../../shared/validation-text';
import type { ExportFormat } from '../../shared/names';
import type { Library } from '../core/library';
import { exportsDir, modelExportName, reportFileName, submissionFileName } from '../core/paths/exports';

/** Run ids are `<time>-<model>-<hex>`: anything else in the URL (a slash, a '%') is refused before core sees it. */
export function parseRunId(text: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    return null;
  }
  return RUN_ID_PATTERN.test(decoded) ? decoded : null;
}

export function parseSplit(text: string | null): EvalSplit {
  return text === 'test' ? 'test' : 'val';
}

export function parseExportFormat(text: string | null): ExportFormat | null {
  return text === null || text === 'onnx' ? 'onnx' : text === 'tfjs' ? 'tfjs' : null;
}

/**
 * The fill / partial choice from a download's query (`?fill=0.5`, `?partial=1`), through the contract's
 * schema like every other input; a bad value is BAD_INPUT with the schema's sentence.
 */
export function parseSubmissionQuery(params: URLSearchParams): SubmissionOptions {
  const fill = params.get('fill');
  const partial = params.get('partial');
  const tta = params.get('tta');
  const raw = {
    ...(fill !== null ? { fill: fill.trim() === '' ? Number.NaN : Number(fill) } : {}),
    ...(partial !== null ? { partial: partial === '1' || partial === 'true' } : {}),
    ...(tta !== null ? { tta } : {}),
  };
  const parsed = SubmissionOptions.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new AppError('BAD_INPUT', describeValidation(parsed.error.issues, fill !== null ? { fill } : undefined));
  return parsed.data;
}

/** Writes the run's submission to `out`, and its note beside it when rows were filled or left out. */
export async function writeSubmissionTo(
  lib: Library,
  runId: string,
  out: string,
  options: SubmissionOptions = {},
): Promise<{ out: string; rows: number; note: string | null }> {
  // Loaded on use: a server that never makes a submission skips the CSV reader.
  const { writeSubmission } = await import('../core/ml/inference/submission');
  const r = await writeSubmission(lib, runId, out, options);
  return { out: r.out, rows: r.rows, note: r.note };
}

export async function writeReportTo(lib: Library, split: EvalSplit, out: string): Promise<{ out: string; bytes: number }> {
  const { writeReport } = await import('../core/report/report');
  return writeReport(lib, out, split);
}

/** The run's best model and its model card into `outDir`; returns the files written there. */
export async function writeModelTo(lib: Library, runId: string, format: ExportFormat, outDir: string): Promise<{ dir: string; files: string[] }> {
  // TensorFlow.js and the exporter load on the first export, not when the app starts
  const [{ chooseBackend }, { exportRunModel }] = await Promise.all([import('../core/ml/backend/train-backend'), import('../core/ml/inference/export-model')]);
  if (format === 'onnx') await chooseBackend('auto'); // the export reads the tfjs checkpoint's weights
  const r = await exportRunModel(lib, runId, format, outDir);
  return { dir: r.dir, files: r.files };
}

export interface ExportFile {
  file: string;
  name: string;
}

export interface ExportFolder {
  dir: string;
  name: string;
  files: string[];
}

/**
 * What `serve` offers as downloads, each written into the library's exports/ under a name core chooses.
 * Two requests for the same file share one write: a second writer would replace it under the first reader.
 */
export class LibraryExports {
  readonly #lib: Library;
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(lib: Library) {
    this.#lib = lib;
  }

  #once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.#inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const started = work().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }

  /** The run's full id: the URL may carry a prefix of it, and the file is named after the run. */
  async #runId(ref: string): Promise<string> {
    const { getRun } = await import('../core/ml/runs/store');
    return getRun(this.#lib.db, ref).id;
  }

  async submission(runRef: string, options: SubmissionOptions = {}): Promise<ExportFile> {
    const runId = await this.#runId(runRef);
    const name = submissionFileName(runId);
    const file = join(exportsDir(this.#lib), name);
    return this.#once(`${file}?${JSON.stringify(options)}`, async () => ({ file: (await writeSubmissionTo(this.#lib, runId, file, options)).out, name }));
  }

  /** The note of the submission written with these options (refused when no row needed filling or leaving out). */
  async submissionNote(runRef: string, options: SubmissionOptions): Promise<ExportFile> {
    const runId = await this.#runId(runRef);
    const csv = join(exportsDir(this.#lib), submissionFileName(runId));
    return this.#once(`${csv}#note?${JSON.stringify(options)}`, async () => {
      const r = await writeSubmissionTo(this.#lib, runId, csv, options);
      if (r.note === null) throw new AppError('NOT_FOUND', `run ${runId} has a probability for every sample row: its submission needs no note`);
      return { file: r.note, name: basename(r.note) };
    });
  }

  report(split: EvalSplit): Promise<ExportFile> {
    const name = reportFileName(this.#lib.dir, split);
    const file = join(exportsDir(this.#lib), name);
    return this.#once(file, async () => ({ file: (await writeReportTo(this.#lib, split, file)).out, name }));
  }

  async model(runRef: string, format: ExportFormat): Promise<ExportFolder> {
    const runId = await this.#runId(runRef);
    const name = modelExportName(runId, format);
    const dir = join(exportsDir(this.#lib), name);
    return this.#once(dir, async () => {
      const r = await writeModelTo(this.#lib, runId, format, dir);
      // only what this export wrote: an older export's leftovers in the folder are not sent
      const present = new Set(await readdir(r.dir));
      return { dir: r.dir, name, files: r.files.filter((f) => present.has(f)) };
    });
  }
}
