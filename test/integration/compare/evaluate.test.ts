/**
 * `evaluate` on synthetic portraits: two tiny runs (one single-split, one 2-fold) trained in-process, an
 * external folder of other generated portraits in class subfolders (with an unreadable file, a note and a
 * subfolder of no class), scored through the contract's handler and through the real bin. Its AUC is the AUC
 * of predict's probabilities on the same files with the folder's labels; swapped --classes give 1 − AUC;
 * --per-class draws N per class, the same N for the same seed; unmatched subfolders and other bad input are
 * refused with one line; evaluate.folders lists the subfolders the app's dialog offers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvaluateFolders, EvaluateResult, type EvaluateInput } from '../../../shared/contract-evaluate';
import { isAppError } from '../../../shared/errors';
import type { CoreContext } from '../../../electron/core/api/context';
import { dispatch } from '../../../electron/core/api/dispatch';
import { planExternal } from '../../../electron/core/compare/external-folder';
import { createEnsemble } from '../../../electron/core/compare/ensemble';
import { parseCsv } from '../../../electron/core/csv';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { predictRun } from '../../../electron/core/ml/inference/predict';
import { createRun, getRun, type TrainingSet } from '../../../electron/core/ml/runs/store';
import { DataRoots } from '../../../electron/core/paths/data-roots';
import { bootstrapIntervals, delongTest } from '../../../electron/core/stats/intervals';
import { binaryMetrics } from '../../../electron/core/stats/metrics';
import { parseJson, runCli } from '../../helpers';
import { makeFaces, portraitLibrary, trainInProcess, type TempLibrary } from '../ml/train-helpers';

const TINY = { model: 'scratch', inputSize: 16, epochs: 3, batchSize: 8, optimizer: 'adam', lr: 0.003, augment: false, backend: 'wasm', seed: 4 } as const;
const PER_CLASS_FOUND = 15;

describe('evaluate: runs on an independent labelled folder', () => {
  let t: TempLibrary;
  let single = '';
  let folded = '';
  /** Class subfolders named like the library's classes ('0', '1'), plus a broken file, a note and a stray subfolder. */
  let ext = '';
  /** The same images under other names ('without_mask', 'with_mask'). */
  let renamed = '';
  /** Two class subfolders named for neither class ('bare', 'masked'; empty: refused before any image is read). */
  const oddNames = (): string => {
    const dir = join(t.dir, 'odd');
    for (const sub of ['bare', 'masked']) mkdirSync(join(dir, sub), { recursive: true });
    return dir;
  };
  /** ext's image files in evaluate's order (class '0', then '1', by path), with their labels. */
  const files: Array<{ rel: string; label: 0 | 1 }> = [];

  before(async () => {
    t = await portraitLibrary('ms-evaluate-', 46, 21);
    single = await trainInProcess(t.lib, TINY);
    folded = await trainInProcess(t.lib, { ...TINY, seed: 6, folds: 2 });
    const made = await makeFaces(join(t.dir, 'generated'), 2 * PER_CLASS_FOUND, 77);
    ext = join(t.dir, 'ext');
    renamed = join(t.dir, 'renamed');
    for (const [sub, other] of [['0', 'without_mask'], ['1', 'with_mask']] as const) {
      mkdirSync(join(ext, sub), { recursive: true });
      mkdirSync(join(renamed, other), { recursive: true });
    }
    for (const f of made) {
      const name = f.path.split('/').pop() ?? '';
      copyFileSync(f.path, join(ext, f.label, name));
      copyFileSync(f.path, join(renamed, f.label === '0' ? 'without_mask' : 'with_mask', name));
    }
    writeFileSync(join(ext, '1', 'broken.jpg'), 'not a JPEG at all');
    writeFileSync(join(ext, '1', 'notes.txt'), 'where these came from');
    mkdirSync(join(ext, 'extra'));
    copyFileSync(made[0]?.path ?? '', join(ext, 'extra', 'x.jpg'));
    for (const label of [0, 1] as const) {
      const names = made.filter((f) => f.label === String(label)).map((f) => f.path.split('/').pop() ?? '');
      if (label === 1) names.push('broken.jpg');
      for (const n of names.sort()) files.push({ rel: `${label}/${n}`, label });
    }
  });
  after(() => t.cleanup());

  /** The app's door: dispatch validates with the contract, the handler starts the job; its result. */
  async function evaluate(input: Partial<EvaluateInput> & { runs: string[]; folder: string }): Promise<EvaluateResult> {
    const finished: unknown[] = [];
    const emit: CoreContext['emit'] = (e) => {
      if (e.name === 'job.finished') finished.push(e.payload);
    };
    const jobs = new JobRunner(t.lib.db, emit);
    const ctx: CoreContext = { lib: t.lib, jobs, emit, readRoots: new DataRoots([t.dir], { howToAllow: '' }) };
    const { jobId } = (await dispatch(ctx, 'evaluate.start', input)) as { jobId: string };
    await jobs.wait(jobId);
    const end = finished[0] as { status: string; result?: unknown; error?: { code: string; message: string } };
    if (end.status !== 'done') throw new Error(`evaluate ${end.status}: ${end.error?.message ?? ''}`);
    return EvaluateResult.parse(end.result);
  }

  /** predict's probabilities for ext's files (its defaults: the run's own TTA and faces), scored with the folder's labels. */
  async function predicted(runId: string): Promise<{ labels: number[]; probs: number[]; all: Array<number | null> }> {
    const rows = (await predictRun(t.lib, runId, files.map((f) => join(ext, f.rel)))).predictions;
    const labels: number[] = [];
    const probs: number[] = [];
    rows.forEach((r, i) => {
      if (r.probability === null) return;
      labels.push(files[i]?.label ?? -1);
      probs.push(r.probability);
    });
    return { labels, probs, all: rows.map((r) => r.probability) };
  }

  test("its AUC, log loss, accuracy and intervals are those of predict's probabilities on the same files with the folder's labels", async () => {
    const r = await evaluate({ runs: [single], folder: ext });
    const p = await predicted(single);
    const m = binaryMetrics(p.labels, p.probs);
    const ci = bootstrapIntervals(p.labels, p.probs);
    const run = r.runs[0];
    assert.ok(run && r.runs.length === 1);
    assert.ok(m.auc !== null && Math.abs(m.auc - 0.5) > 0.05, `the tiny run must score away from chance for the swap test to mean something (AUC ${m.auc})`);
    assert.equal(run.row.auc, m.auc);
    assert.equal(run.row.logLoss, m.logLoss);
    assert.equal(run.row.accuracy, m.accuracy);
    assert.deepEqual(run.row.aucCi, ci.auc);
    assert.deepEqual(run.row.logLossCi, ci.logLoss);
    assert.deepEqual([run.row.count, run.positives, run.negatives, run.unreadable], [2 * PER_CLASS_FOUND, PER_CLASS_FOUND, PER_CLASS_FOUND, 1]);
    // every file has its row, in order, with predict's probability; the broken one is counted, not scored
    assert.deepEqual(r.rows.map((row) => [row.file, row.class, row.probability]), files.map((f, i) => [f.rel, String(f.label), p.all[i]]));
    assert.deepEqual(r.unreadable.map((u) => u.file), ['1/broken.jpg']);
    assert.deepEqual([r.files, r.skipped, r.otherFolders], [files.length, 1, ['extra']]);
    // the run's own score beside it, and the drop between them
    const own = getRun(t.lib.db, single).best?.valAuc ?? null;
    assert.deepEqual([run.recorded.on, run.recorded.auc], ['val', own]);
    assert.equal(run.drop, own === null ? null : own - m.auc);
    assert.equal(r.delong, null);
  });

  test('--classes names the subfolders; swapped, the AUC is 1 − AUC', async () => {
    const straight = await evaluate({ runs: [single], folder: renamed, classes: ['without_mask', 'with_mask'] });
    const swapped = await evaluate({ runs: [single], folder: renamed, classes: ['with_mask', 'without_mask'] });
    const p = await predicted(single);
    const auc = binaryMetrics(p.labels, p.probs).auc ?? Number.NaN;
    assert.equal(straight.runs[0]?.row.auc, auc);
    assert.ok(Math.abs((swapped.runs[0]?.row.auc ?? Number.NaN) - (1 - auc)) < 1e-12, `swapped ${swapped.runs[0]?.row.auc} vs 1 − ${auc}`);
    assert.deepEqual(swapped.classes.map((c) => [c.name, c.folder]), [['0', 'with_mask'], ['1', 'without_mask']]);
    assert.ok(swapped.rows.every((row) => row.class === (row.file.startsWith('with_mask/') ? '0' : '1')));
  });

  test('--per-class N: N images of each class, the same ones for the same seed, others for another', async () => {
    const plan = (seed: number, perClass?: number): string[] =>
      planExternal(t.lib.db, { runs: [single], folder: ext, seed, ...(perClass !== undefined ? { perClass } : {}) }).files.map((f) => f.rel);
    const a = plan(42, 5);
    assert.deepEqual(plan(42, 5), a);
    assert.equal(a.filter((f) => f.startsWith('0/')).length, 5);
    assert.equal(a.filter((f) => f.startsWith('1/')).length, 5);
    assert.notDeepEqual(plan(7, 5), a);
    assert.equal(plan(42, 500).length, files.length); // more than there are: every image
    assert.equal(plan(42).length, files.length);
    const r = await evaluate({ runs: [single], folder: ext, perClass: 5, seed: 42 });
    assert.deepEqual(r.rows.map((row) => row.file), a);
    assert.deepEqual(r.classes.map((c) => [c.found, c.used]), [[PER_CLASS_FOUND, 5], [PER_CLASS_FOUND + 1, 5]]);
  });

  test("two runs: a K-fold run scores with its folds' mean beside its out-of-fold score, and DeLong compares the two best on the same images", async () => {
    const r = await evaluate({ runs: [single, folded], folder: ext });
    const [pa, pb] = [await predicted(single), await predicted(folded)];
    const k = r.runs.find((x) => x.runId === folded);
    assert.equal(k?.row.auc, binaryMetrics(pb.labels, pb.probs).auc);
    assert.deepEqual([k?.row.folds, k?.recorded.on, k?.recorded.auc], [2, 'out-of-fold', getRun(t.lib.db, folded).best?.valAuc ?? null]);
    const best = r.runs[0];
    assert.ok(best?.row.best && !r.runs[1]?.row.best);
    assert.ok((best.row.auc ?? 0) >= (r.runs[1]?.row.auc ?? 0));
    const [first, second] = best.runId === single ? [pa, pb] : [pb, pa];
    const d = delongTest(pa.labels, first.probs, second.probs);
    assert.ok(d && r.delong);
    assert.deepEqual({ ...r.delong }, { a: best.runId, b: r.runs[1]?.runId, images: pa.labels.length, ...d });
    assert.equal(r.rows.length, 2 * files.length);
  });

  test("an ensemble scores with its members' mean probability per image, beside its recorded score", async () => {
    const ens = createEnsemble(t.lib.db, [folded, single]);
    const r = await evaluate({ runs: [ens, single], folder: ext });
    const [pa, pb] = [await predicted(single), await predicted(folded)];
    const mean = pa.probs.map((p, i) => (p + (pb.probs[i] ?? Number.NaN)) / 2);
    const e = r.runs.find((x) => x.runId === ens);
    assert.ok(e);
    assert.equal(e.row.auc, binaryMetrics(pa.labels, mean).auc);
    assert.equal(e.row.logLoss, binaryMetrics(pa.labels, mean).logLoss);
    // one member is a single-split run: the ensemble's own score is on the validation split
    assert.deepEqual([e.recorded.on, e.recorded.auc, e.unreadable], ['val', getRun(t.lib.db, ens).best?.valAuc ?? null, 1]);
    assert.deepEqual(r.rows.filter((x) => x.run === ens).map((x) => x.probability), pa.all.map((p, i) => (p === null ? null : (p + (pb.all[i] ?? Number.NaN)) / 2)));
  });

  test("evaluate.folders: the subfolders with their images, the one named like each class, and the page's folder rules", async () => {
    const ctx: CoreContext = { lib: t.lib, jobs: new JobRunner(t.lib.db, () => {}), emit: () => {}, readRoots: new DataRoots([t.dir], { howToAllow: '' }) };
    const listed = EvaluateFolders.parse(await dispatch(ctx, 'evaluate.folders', { folder: ext }));
    assert.equal(listed.folder, ext);
    assert.deepEqual(listed.subfolders, [{ name: '0', images: PER_CLASS_FOUND }, { name: '1', images: PER_CLASS_FOUND + 1 }, { name: 'extra', images: 1 }]);
    assert.deepEqual(listed.classes, [{ name: '0', displayName: 'no mask' }, { name: '1', displayName: 'mask' }]);
    assert.deepEqual(listed.suggested, ['0', '1']);
    // spelt otherwise: with_mask stands for 'mask', without_mask for 'no mask'
    const other = EvaluateFolders.parse(await dispatch(ctx, 'evaluate.folders', { folder: renamed }));
    assert.deepEqual([other.subfolders.map((f) => f.name), other.suggested], [['with_mask', 'without_mask'], ['without_mask', 'with_mask']]);
    // named otherwise: no class is guessed
    const odd = EvaluateFolders.parse(await dispatch(ctx, 'evaluate.folders', { folder: oddNames() }));
    assert.deepEqual([odd.subfolders.map((f) => f.name), odd.suggested], [['bare', 'masked'], [null, null]]);
    const outside = { ...ctx, readRoots: new DataRoots([join(t.dir, 'generated')], { howToAllow: 'Restart with --data-root.' }) };
    await assert.rejects(dispatch(outside, 'evaluate.folders', { folder: ext }), (err: unknown) => isAppError(err) && err.code === 'FORBIDDEN' && /outside the allowed folders/.test(err.message));
    await assert.rejects(dispatch(ctx, 'evaluate.folders', { folder: join(t.dir, 'nowhere') }), (err: unknown) => isAppError(err) && err.code === 'NOT_FOUND');
  });

  test('bad input is refused before the job starts, in one line', async () => {
    const refused = async (input: Record<string, unknown>, code: string, message: RegExp): Promise<void> => {
      await assert.rejects(evaluate({ runs: [single], folder: ext, ...input }), (err: unknown) => {
        assert.ok(isAppError(err), String(err));
        assert.equal(err.code, code);
        assert.match(err.message, message);
        assert.ok(!err.message.includes('\n'), err.message);
        return true;
      });
    };
    await refused({ folder: oddNames() }, 'BAD_INPUT', /has subfolders 'bare', 'masked', but the library's classes are '0' \(no mask\) and '1' \(mask\): .*--classes A,B/);
    await refused({ runs: ['no-such-run'] }, 'NOT_FOUND', /no run 'no-such-run'/);
    await refused({ folder: join(t.dir, 'nowhere') }, 'NOT_FOUND', /no folder .*nowhere/);
    await refused({ classes: ['0', 'missing'] }, 'BAD_INPUT', /no subfolder 'missing'/);
    await refused({ classes: ['0'] }, 'BAD_INPUT', /two different subfolders/);
    const noImages = join(t.dir, 'one-class');
    mkdirSync(join(noImages, '0'), { recursive: true });
    mkdirSync(join(noImages, '1'));
    copyFileSync(join(ext, files[0]?.rel ?? ''), join(noImages, '0', 'a.jpg'));
    writeFileSync(join(noImages, '1', 'readme.txt'), 'no images here');
    await refused({ folder: noImages }, 'BAD_INPUT', /has no image .*needs images of both classes/);
    const set = { classes: ['0', '1'], train: [], val: [], test: [], submission: [], dataHash: 'a'.repeat(64), splitSeed: 1 } as unknown as TrainingSet;
    createRun(t.lib.db, { id: 'still-running', model: 'scratch', config: { model: 'scratch' }, backend: 'wasm', jobId: null, set, weightsSource: 'none', inputSize: 16 });
    await refused({ runs: ['still-running'] }, 'CONFLICT', /still running: only a finished run/);
  });

  test('the bin: --json, --out rows, the progress line, and one-line errors with their exit codes', async () => {
    const lib = t.lib.dir;
    const out = join(t.dir, 'rows.csv');
    const ok = await runCli(['--library', lib, 'evaluate', '--run', single, '--run', folded, ext, '--out', out, '--json'], { MASK_STUDIO_PROGRESS: 'json' });
    assert.equal(ok.code, 0, ok.stderr);
    const doc = parseJson<EvaluateResult & { out: string }>(ok.stdout);
    const byCall = await evaluate({ runs: [single, folded], folder: ext });
    assert.deepEqual(doc.runs.map((r) => [r.runId, r.row.auc]), byCall.runs.map((r) => [r.runId, r.row.auc]));
    assert.equal(doc.out, out);
    const csv = parseCsv(readFileSync(out, 'utf8'));
    assert.deepEqual(csv[0]?.fields, ['file', 'class', 'run', 'probability', 'status', 'message']);
    assert.deepEqual(csv.slice(1).map((r) => r.fields.slice(0, 5)), byCall.rows.map((r) => [r.file, r.class, r.run, r.probability === null ? '' : String(r.probability), r.status]));
    const progress = ok.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => parseJson<{ progress: string; phase: string }>(l));
    assert.ok(progress.some((p) => p.progress === 'evaluate' && p.phase.startsWith('run 2/2')), ok.stderr);

    const text = await runCli(['--library', lib, 'evaluate', '--run', single, renamed, '--classes', 'without_mask,with_mask', '--per-class', '4']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /1 run\(s\) on 8 images of .*renamed: 4 of 15 in without_mask\/ as '0' \(no mask\), 4 of 15 in with_mask\/ as '1' \(mask\) \(--per-class 4, seed 42\)/);
    assert.match(text.stdout, /own AUC/);

    const mismatch = await runCli(['--library', lib, 'evaluate', '--run', single, oddNames()]);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /^mask-studio: .*has subfolders 'bare', 'masked'.*--classes A,B.*\n$/);
    const usage = await runCli(['--library', lib, 'evaluate', '--run', single, ext, '--per-class', '0']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^mask-studio: --per-class 0: at least 1\n/);
  });
});
