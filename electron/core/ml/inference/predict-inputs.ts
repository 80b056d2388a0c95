/**
 * What `predict` reads: files as named, every image below a named folder (recursively, by extension), and
 * lists of paths (`--files-from LIST`, '-' for stdin). Only paths are held, never pixels: a list of 10,000
 * paths is a megabyte. A path that does not exist stays in the list: its row will say so.
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../../shared/errors';
import { IMAGE_EXTENSIONS } from '../../dataset/scan';
import { extensionOf, walkFiles } from '../../dataset/walk';

export interface PredictFiles {
  /** In the order given; a folder's images sorted by path below it. */
  files: string[];
  /** Files in the named folders that are not images by their extension. */
  skipped: number;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** The paths of a list file: one a line (LF or CRLF, a leading BOM ignored), blank lines skipped. */
export async function readFileList(list: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string[]> {
  let text: string;
  if (list === '-') text = await readAll(stdin);
  else {
    try {
      text = await readFile(list, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new AppError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `--files-from ${list}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  return text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((line) => line.length > 0);
}

/** Folders become the images below them; anything else is kept as named. */
export function expandPaths(entries: readonly string[]): PredictFiles {
  const files: string[] = [];
  let skipped = 0;
  for (const entry of entries) {
    const st = statSync(entry, { throwIfNoEntry: false });
    if (!st?.isDirectory()) {
      files.push(entry);
      continue;
    }
    for (const f of walkFiles(entry)) {
      if (IMAGE_EXTENSIONS.has(extensionOf(f.rel))) files.push(join(entry, f.rel));
      else skipped++;
    }
  }
  return { files, skipped };
}

/** The files named on the command line and in the list, folders expanded. */
export async function collectPredictFiles(inputs: readonly string[], filesFrom?: string, stdin?: NodeJS.ReadableStream): Promise<PredictFiles> {
  const listed = filesFrom !== undefined ? await readFileList(filesFrom, stdin) : [];
  const expanded = expandPaths([...inputs, ...listed]);
  if (expanded.files.length === 0) {
    throw new AppError('BAD_INPUT', `no image to predict: ${expanded.skipped > 0 ? `the ${expanded.skipped} files found are not images` : 'the folders and lists given are empty'}`);
  }
  return expanded;
}
