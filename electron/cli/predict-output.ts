/**
 * Where `predict` rows go as they come: lines on stdout (tab-separated), one JSON array streamed on stdout
 * (--json), or a CSV file (--out), written beside its name and renamed when complete, so a crash or Ctrl-C
 * never leaves a half file under the name asked for. Writes wait for the stream to drain: memory stays
 * bounded when stdout is a slow pipe.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { PredictRow } from '../../shared/contract-predict';
import { AppError } from '../../shared/errors';
import { csvLine } from '../core/csv';

export interface RowWriter {
  row(r: PredictRow): Promise<void>;
  /** Completes the output; returns the CSV's path for --out, else null. */
  end(): Promise<string | null>;
  /** After a failure: removes a partial file. */
  abort(): Promise<void>;
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((r) => stream.once('drain', () => r()));
}

export const CSV_HEADER = ['file', 'probability', 'label', 'status', 'message'] as const;

export function textLine(r: PredictRow): string {
  const scored = r.probability === null ? '—\t—' : `${r.probability.toFixed(4)}\t${r.label ?? ''}`;
  return `${r.file}\t${scored}${r.status === 'ok' ? '' : `\t${r.status}: ${r.message ?? ''}`}\n`;
}

export function textWriter(stdout: NodeJS.WritableStream): RowWriter {
  return { row: (r) => write(stdout, textLine(r)), end: async () => null, abort: async () => {} };
}

export function jsonWriter(stdout: NodeJS.WritableStream): RowWriter {
  let first = true;
  return {
    async row(r) {
      await write(stdout, `${first ? '[\n' : ',\n'}  ${JSON.stringify(r)}`);
      first = false;
    },
    async end() {
      await write(stdout, first ? '[]\n' : '\n]\n');
      return null;
    },
    abort: async () => {},
  };
}

export function csvWriter(out: string): RowWriter {
  const target = resolve(out);
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    throw new AppError('IO', `--out ${out}: cannot create its folder: ${(err as Error).message}`);
  }
  const partial = `${target}.partial-${process.pid}`;
  const stream = createWriteStream(partial);
  const failed = new Promise<never>((_, reject) => stream.once('error', (err) => reject(new AppError('IO', `--out ${out}: ${err.message}`))));
  failed.catch(() => {});
  const closed = (): Promise<void> => Promise.race([new Promise<void>((r) => stream.end(() => r())), failed]);
  let started = false;
  const header = async (): Promise<void> => {
    if (started) return;
    started = true;
    await Promise.race([write(stream, `${csvLine(CSV_HEADER)}\n`), failed]);
  };
  return {
    async row(r) {
      await header();
      const values = [r.file, r.probability === null ? '' : String(r.probability), r.label ?? '', r.status, r.message ?? ''];
      await Promise.race([write(stream, `${csvLine(values)}\n`), failed]);
    },
    async end() {
      await header();
      await closed();
      await rename(partial, target);
      return target;
    },
    async abort() {
      stream.destroy();
      await rm(partial, { force: true });
    },
  };
}
