/**
 * What `evaluate` scores, worked out before anything heavy loads so bad input is refused at once: the runs
 * (finished, with weights), the folder's subfolders matched to the library's two classes, every image below
 * them, and the seeded --per-class sample. Only names are read here; no image is opened.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClassInfo, RunInfo } from '../../../shared/contract';
import type { EvaluateClass, EvaluateFolders, EvaluateInput } from '../../../shared/contract-evaluate';
import { AppError } from '../../../shared/errors';
import { listClasses } from '../dataset/classes';
import { IMAGE_EXTENSIONS } from '../dataset/scan';
import { extensionOf, walkFiles } from '../dataset/walk';
import type { Db } from '../db/open';
import { getRun, hasUsableCheckpoint } from '../ml/runs/store';
import { Rng } from '../random';
import { ENSEMBLE_MODEL } from '../../../shared/names';
import { binaryClasses, runMembers } from './evaluate';

export interface ExternalFile {
  /** Relative to the folder, '/'-separated. */
  rel: string;
  abs: string;
  /** 0: the library's first class, 1: its second. */
  label: 0 | 1;
}

export interface ExternalPlan {
  folder: string;
  runs: RunInfo[];
  classes: EvaluateClass[];
  /** The first class's images, then the second's, each in path order. */
  files: ExternalFile[];
  skipped: number;
  otherFolders: string[];
}

/** The run as predict would use it (an ensemble: each of its members), or why not (no such run, not finished). */
export function usableRun(db: Db, ref: string): RunInfo {
  const run = getRun(db, ref);
  if (run.model === ENSEMBLE_MODEL) {
    for (const m of runMembers(run)) usableRun(db, m);
    return run;
  }
  if (!hasUsableCheckpoint(run)) {
    const why = run.status === 'running' ? 'is still running' : run.status === 'failed' ? `failed (${run.error ?? 'no reason recorded'})` : `is ${run.status} and saved no checkpoint`;
    throw new AppError('CONFLICT', `run ${run.id} ${why}: only a finished run (or one stopped after saving a checkpoint) can be evaluated ('mask-studio runs' lists them)`);
  }
  return run;
}

/** The folder's subfolders (hidden ones left out), sorted; NOT_FOUND or BAD_INPUT when it is not a folder. */
export function subfolders(folder: string): string[] {
  const st = statSync(folder, { throwIfNoEntry: false });
  if (!st) throw new AppError('NOT_FOUND', `no folder ${folder}`);
  if (!st.isDirectory()) throw new AppError('BAD_INPUT', `${folder} is a file: evaluate takes a folder with one subfolder per class`);
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

const quoted = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.map((n) => `'${n}'`).join(', '));
const classText = (c: ClassInfo): string => (c.displayName !== c.name ? `'${c.name}' (${c.displayName})` : `'${c.name}'`);

/**
 * A class or folder name as words that mean the same whatever the spelling: `with_mask`, `WithMask` and
 * `mask` read "mask"; `without_mask`, `no-mask` and `NoMask` read "not mask". So the public mask datasets'
 * folders match a library's classes "mask" and "no mask" without --classes.
 */
export function nameSense(name: string): string {
  const words = name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '' && !FILLER.has(w));
  const negated = words.some((w) => NEGATIONS.has(w));
  const rest = words.filter((w) => !NEGATIONS.has(w));
  return `${negated ? 'not ' : ''}${rest.join(' ')}`;
}
const NEGATIONS = new Set(['no', 'not', 'without', 'non']);
const FILLER = new Set(['with', 'wearing', 'a', 'the']);

/**
 * The subfolder named like the class: its name, then its display name, any case; else the one only subfolder
 * whose name means the same (nameSense: `with_mask` for "mask", `without_mask` for "no mask").
 */
function namedLike(found: readonly string[], c: ClassInfo): string | undefined {
  const lower = (s: string): string => s.toLowerCase();
  const exact = found.find((f) => lower(f) === lower(c.name)) ?? found.find((f) => lower(f) === lower(c.displayName));
  if (exact !== undefined) return exact;
  const senses = new Set([nameSense(c.name), nameSense(c.displayName)]);
  const alike = found.filter((f) => senses.has(nameSense(f)));
  return alike.length === 1 ? alike[0] : undefined;
}

/** The subfolder standing for each class: `given` in class order, else the one named like the class (its name, then its display name). */
export function matchSubfolders(folder: string, found: readonly string[], classes: readonly [ClassInfo, ClassInfo], given?: readonly string[]): [string, string] {
  if (given !== undefined) {
    const missing = given.filter((g) => !found.includes(g));
    if (missing.length > 0) {
      throw new AppError('BAD_INPUT', `--classes: ${folder} has no subfolder ${quoted(missing)} (its subfolders: ${quoted(found)})`);
    }
    return [given[0] ?? '', given[1] ?? ''];
  }
  const [a, b] = [namedLike(found, classes[0]), namedLike(found, classes[1])];
  if (a === undefined || b === undefined || a === b) {
    throw new AppError(
      'BAD_INPUT',
      `${folder} has subfolders ${quoted(found)}, but the library's classes are ${classText(classes[0])} and ${classText(classes[1])}: ` +
        'name the subfolders that stand for them with --classes A,B (first class first)',
    );
  }
  return [a, b];
}

/** Every image below one class's subfolder (recursively, by extension), and how many other files it holds. */
function imagesBelow(folder: string, sub: string): { rels: string[]; skipped: number } {
  const rels: string[] = [];
  let skipped = 0;
  for (const f of walkFiles(join(folder, sub))) {
    if (IMAGE_EXTENSIONS.has(extensionOf(f.rel))) rels.push(`${sub}/${f.rel}`);
    else skipped++;
  }
  return { rels, skipped };
}

/**
 * `n` of `items` drawn without replacement by a seeded shuffle, returned in their original order; all of
 * them when `n` is absent or not smaller. The same items, n and seed give the same sample on every machine.
 */
export function seededSample<T>(items: readonly T[], n: number | undefined, seed: number): T[] {
  if (n === undefined || n >= items.length) return [...items];
  const order = new Rng(seed).shuffle(items.map((_, i) => i)).slice(0, n);
  return order.sort((x, y) => x - y).map((i) => items[i] as T);
}

/** The library's two classes, first then second, with their display names. */
function classPair(db: Db): [ClassInfo, ClassInfo] {
  const info = listClasses(db);
  return binaryClasses(db).map((n) => info.find((c) => c.name === n) ?? { name: n, displayName: n, hotkey: null, position: 0 }) as [ClassInfo, ClassInfo];
}

/** The folder's subfolders with their image counts and the one named like each class (evaluate.folders). */
export function listExternal(db: Db, given: string): EvaluateFolders {
  const classes = classPair(db);
  const folder = resolve(given);
  const found = subfolders(folder);
  return {
    folder,
    subfolders: found.map((name) => ({ name, images: imagesBelow(folder, name).rels.length })),
    classes: classes.map((c) => ({ name: c.name, displayName: c.displayName })),
    suggested: classes.map((c) => namedLike(found, c) ?? null),
  };
}

export function planExternal(db: Db, input: EvaluateInput): ExternalPlan {
  const runs = input.runs.map((ref) => usableRun(db, ref));
  const classes = classPair(db);
  const folder = resolve(input.folder);
  const found = subfolders(folder);
  const chosen = matchSubfolders(folder, found, classes, input.classes);
  // one seed per class from the given one: a class's sample depends on its own images only
  const seeds = new Rng(input.seed);
  const files: ExternalFile[] = [];
  const used: EvaluateClass[] = [];
  let skipped = 0;
  for (const [label, sub] of chosen.entries()) {
    const below = imagesBelow(folder, sub);
    skipped += below.skipped;
    const cls = classes[label === 0 ? 0 : 1];
    if (below.rels.length === 0) {
      throw new AppError('BAD_INPUT', `${join(folder, sub)} has no image (by extension): evaluate needs images of both classes (it stands for ${classText(cls)})`);
    }
    const sample = seededSample(below.rels, input.perClass, seeds.seed());
    files.push(...sample.map((rel) => ({ rel, abs: join(folder, ...rel.split('/')), label: label === 0 ? (0 as const) : (1 as const) })));
    used.push({ name: cls.name, displayName: cls.displayName, folder: sub, found: below.rels.length, used: sample.length });
  }
  return { folder, runs, classes: used, files, skipped, otherFolders: found.filter((f) => !chosen.includes(f)) };
}
