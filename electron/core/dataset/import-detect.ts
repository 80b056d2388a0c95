/**
 * What the import dialog can fill in by itself: the CSVs and the test folder beside an image folder, as a
 * Zindi download lays them out (`images/`, `labels.csv` or `Train.csv`, `test_images/`, `SampleSubmission.csv`).
 * Only names and header lines are read; nothing is imported.
 */
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ImportDetected } from '../../../shared/contract';
import { columnIndexes, parseCsv } from '../csv';

function headerOf(file: string): string[] {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const firstLine = buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
    return parseCsv(firstLine)[0]?.fields ?? [];
  } catch {
    return [];
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function entries(dir: string): Array<{ name: string; path: string; isDir: boolean }> {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .map((e) => ({ name: e.name, path: join(dir, e.name), isDir: e.isDirectory() }))
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

const SAMPLE = /sample|submission/i;

/** Which folders may be looked in: a page's DataRoots (core/paths/data-roots.ts); the CLI and tests look anywhere. */
export interface DetectScope {
  allows(path: string): boolean;
}

/**
 * The CSVs and test folder beside `dir` (in its parent) or inside it; `exists: false` when there is no such
 * folder. With a scope, only folders inside it are listed: a page learns no name outside its allowed folders.
 */
export function detectImport(dir: string, scope?: DetectScope): ImportDetected {
  const abs = resolve(dir);
  const st = statSync(abs, { throwIfNoEntry: false });
  const empty: ImportDetected = { dir: abs, exists: false, labels: null, testDir: null, sampleSubmission: null, looked: [] };
  if (!st?.isDirectory()) return empty;
  const places = [dirname(abs), abs].filter((p, i, all) => all.indexOf(p) === i && (scope?.allows(p) ?? true));
  const inScope = (e: { path: string }): boolean => scope?.allows(e.path) ?? true; // a symlink may lead out
  const csvs = places.flatMap((p) => entries(p).filter((e) => !e.isDir && /\.csv$/i.test(e.name) && inScope(e)));
  const withImage = csvs.filter((c) => columnIndexes(headerOf(c.path), ['image']) !== null);
  const labelled = withImage.filter((c) => !SAMPLE.test(c.name) && columnIndexes(headerOf(c.path), ['image', 'target']) !== null);
  // labels.csv / train.csv before any other CSV with the columns
  const labels = labelled.find((c) => /label|train/i.test(c.name)) ?? labelled[0] ?? null;
  const sample = withImage.find((c) => SAMPLE.test(c.name)) ?? null;
  const test = (places.includes(dirname(abs)) ? entries(dirname(abs)) : []).find((e) => e.isDir && e.path !== abs && /^test/i.test(e.name) && inScope(e)) ?? null;
  return { dir: abs, exists: true, labels: labels?.path ?? null, testDir: test?.path ?? null, sampleSubmission: sample?.path ?? null, looked: places };
}
