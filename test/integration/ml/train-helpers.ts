/** Temp libraries for the training tests: images inserted as rows with a chosen split, and the wasm backend. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { columnIndexes, parseCsv } from '../../../electron/core/csv';
import { openLibrary, type Library } from '../../../electron/core/library';
import { chooseBackend } from '../../../electron/core/ml/backend/train-backend';
import { Rng } from '../../../electron/core/random';
import assert from 'node:assert/strict';
import type { TrainInput } from '../../../shared/contract';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { getRun, runPredictions } from '../../../electron/core/ml/runs/store';
import { startTraining } from '../../../electron/core/ml/train/start';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { generateDataset, type DatasetOptions } from '../../fixtures/synthetic';

export type SplitName = 'train' | 'val' | 'test' | 'submission';

export interface TempLibrary {
  lib: Library;
  dir: string;
  cleanup(): void;
}

export function tempLibrary(prefix = 'ms-train-'): TempLibrary {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const lib = openLibrary(join(dir, 'lib'), { create: true });
  return {
    lib,
    dir,
    cleanup: () => {
      lib.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Rows as an import would leave them (classes '0' and '1', one source, decoded fine), with the split given.
 * The training engine reads only these columns; the import itself has its own tests.
 */
export function insertImages(lib: Library, root: string, rows: ReadonlyArray<{ path: string; label: '0' | '1' | null; split: SplitName }>, sampleSubmission?: string): number[] {
  const db = lib.db;
  db.prepare("INSERT OR IGNORE INTO classes (name, display_name, hotkey, position) VALUES ('0', 'no mask', '0', 0), ('1', 'mask', '1', 1)").run();
  const src = db
    .prepare("INSERT INTO sources (root, layout, labels_csv, sample_submission, imported_at) VALUES (?, 'zindi', NULL, ?, ?)")
    .run(root, sampleSubmission ?? null, new Date().toISOString());
  const insert = db.prepare(
    `INSERT INTO images (source_id, path, rel_path, file_name, bytes, mtime_ms, sha256, decode_status, label, split, scanned_at)
     VALUES (?, ?, ?, ?, ?, 0, ?, 'ok', ?, ?, ?)`,
  );
  const ids: number[] = [];
  db.transaction(() => {
    for (const r of rows) {
      const buf = readFileSync(r.path);
      const sha = createHash('sha256').update(buf).digest('hex');
      const name = basename(r.path);
      const info = insert.run(src.lastInsertRowid, r.path, name, name, buf.byteLength, sha, r.label, r.split, new Date().toISOString());
      ids.push(Number(info.lastInsertRowid));
    }
  })();
  return ids;
}

/**
 * Seeded "faces": a skin-coloured ellipse on a random background, position and size varying; class 1
 * wears a mask (a light-blue or white band over the lower half), class 0 shows a mouth.
 */
export async function makeFaces(dir: string, count: number, seed: number): Promise<Array<{ path: string; label: '0' | '1' }>> {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const out: Array<{ path: string; label: '0' | '1' }> = [];
  for (let i = 0; i < count; i++) {
    const mask = i % 2 === 1;
    const size = 96;
    const bg = [0, 0, 0].map(() => Math.floor(rng.range(40, 210))).join(',');
    const skin = [Math.floor(rng.range(120, 240)), Math.floor(rng.range(90, 180)), Math.floor(rng.range(60, 150))].join(',');
    const cx = rng.range(36, 60);
    const cy = rng.range(36, 60);
    const r = rng.range(18, 30);
    const band = rng.next() < 0.5 ? '110,170,230' : '235,235,235';
    const lower = mask
      ? `<rect x="${cx - r * 0.8}" y="${cy + r * 0.05}" width="${r * 1.6}" height="${r * 0.75}" rx="${r * 0.2}" fill="rgb(${band})"/>`
      : `<ellipse cx="${cx}" cy="${cy + r * 0.5}" rx="${r * 0.32}" ry="${r * 0.1}" fill="rgb(140,40,50)"/>`;
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="rgb(${bg})"/>` +
      `<ellipse cx="${cx}" cy="${cy}" rx="${r * 0.8}" ry="${r}" fill="rgb(${skin})"/>` +
      `<circle cx="${cx - r * 0.3}" cy="${cy - r * 0.3}" r="${r * 0.08}" fill="rgb(30,30,30)"/><circle cx="${cx + r * 0.3}" cy="${cy - r * 0.3}" r="${r * 0.08}" fill="rgb(30,30,30)"/>` +
      `${lower}</svg>`;
    const path = join(dir, `face_${String(i).padStart(4, '0')}.jpg`);
    await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toFile(path);
    out.push({ path, label: mask ? '1' : '0' });
  }
  return out;
}

/** Assigns train/val/test by position: 60 / 25 / 15 per 20 images, both classes in each. */
export function splitByPosition(i: number): SplitName {
  const k = i % 20;
  return k < 12 ? 'train' : k < 17 ? 'val' : 'test';
}

export async function useWasm(): Promise<void> {
  await chooseBackend('wasm');
  if (tf.getBackend() !== 'wasm') throw new Error(`expected the wasm backend, got ${tf.getBackend()}`);
}

export function writeSampleSubmission(file: string, names: readonly string[]): void {
  writeFileSync(file, `image,target\n${names.map((n) => `${n},0`).join('\n')}\n`);
}

/** The labelled rows of a Zindi-layout labels.csv whose image file is present, read with the project's CSV reader. */
export function labelledRows(dataDir: string): Array<[string, '0' | '1']> {
  const rows = parseCsv(readFileSync(join(dataDir, 'labels.csv'), 'utf8'));
  const cols = columnIndexes(rows[0]?.fields ?? [], ['image', 'target']);
  if (!cols) throw new Error(`${dataDir}/labels.csv has no image and target columns`);
  const out: Array<[string, '0' | '1']> = [];
  for (const r of rows.slice(1)) {
    const name = r.fields[cols.image] ?? '';
    const target = r.fields[cols.target];
    if ((target === '0' || target === '1') && existsSync(join(dataDir, 'images', name))) out.push([name, target]);
  }
  return out;
}

/**
 * A temp library of `count` synthetic portraits: the last six are Zindi's unlabelled test images, named in a
 * sample submission; the others labelled and split by position.
 */
export async function portraitLibrary(prefix: string, count: number, seed: number): Promise<TempLibrary> {
  const t = tempLibrary(prefix);
  const faces = await makeFaces(join(t.dir, 'images'), count, seed);
  const labelled = count - 6;
  const sample = join(t.dir, 'sample.csv');
  writeSampleSubmission(sample, faces.slice(labelled).map((f) => basename(f.path)));
  insertImages(t.lib, join(t.dir, 'images'), faces.map((f, i) => ({ path: f.path, label: i < labelled ? f.label : null, split: i < labelled ? splitByPosition(i) : 'submission' })), sample);
  return t;
}

/** A temp library of generated faces (test/fixtures/synthetic.ts), imported and split: what a trained-run test starts from. */
export async function syntheticLibrary(prefix: string, data: DatasetOptions, split: { seed: number; val: number; test: number }): Promise<TempLibrary> {
  const t = tempLibrary(prefix);
  const made = await generateDataset(join(t.dir, 'data'), data);
  await importDataset(t.lib.db, { dir: made.imagesDir, labels: made.labelsCsv });
  splitLibrary(t.lib.db, split);
  return t;
}

/** Trains a run in this process (its job awaited) and returns its id; the run must end done, without an error. */
export async function trainInProcess(lib: Library, input: TrainInput, onEvent: ConstructorParameters<typeof JobRunner>[1] = () => {}): Promise<string> {
  const runner = new JobRunner(lib.db, onEvent);
  const start = startTraining(lib, runner, input, { inProcess: true, initBackend: chooseBackend });
  await runner.wait(start.jobId);
  const run = getRun(lib.db, start.runId);
  assert.equal(run.status, 'done', run.error ?? '');
  return run.id;
}

/** A run's stored rows of one split, with each image's file under the library's images folder. */
export function storedRows(t: TempLibrary, runId: string, split: string): Array<{ file: string; imageId: number; probability: number; label: string | null }> {
  return runPredictions(t.lib.db, runId)
    .filter((p) => p.split === split)
    .map((p) => ({ file: join(t.dir, 'images', p.fileName), imageId: p.imageId, probability: p.probability, label: p.label }));
}

/** Each of `a` within 1e-4 of `b`'s value at the same place. */
export function assertNear(a: readonly number[], b: readonly number[], what: string): void {
  a.forEach((v, i) => assert.ok(Math.abs(v - (b[i] ?? Number.NaN)) < 1e-4, `${what} ${i}: ${v} vs ${b[i]}`));
}
