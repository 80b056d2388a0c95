/**
 * compare / ensemble on a temp library whose runs and predictions are inserted directly (no training):
 * the ranking, seed groups, DeLong on shared images, skipped runs, per-run evaluation, an ensemble and
 * its submission, and `compare --json` / `ensemble` through the real bin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompareRow } from '../../../shared/contract-compare';
import { Comparison, RunEvaluation } from '../../../shared/contract-compare';
import { isAppError } from '../../../shared/errors';
import { compareHandlers } from '../../../electron/core/api/compare-handlers';
import type { CoreContext } from '../../../electron/core/api/context';
import { compareRuns } from '../../../electron/core/compare/compare';
import { createEnsemble } from '../../../electron/core/compare/ensemble';
import { evaluateRun } from '../../../electron/core/compare/evaluate';
import { delongTest } from '../../../electron/core/stats/intervals';
import { columnIndexes, parseCsv } from '../../../electron/core/csv';
import { exportRunModel } from '../../../electron/core/ml/inference/export-model';
import { logLoss, rocAuc, youdenThreshold } from '../../../electron/core/stats/metrics';
import { predictRun } from '../../../electron/core/ml/inference/predict';
import { writeSubmission } from '../../../electron/core/ml/inference/submission';
import { createRun, deleteRun, finishRun, getRun, insertEpoch, insertPredictions, setRunEnvironment, type TrainingSet } from '../../../electron/core/ml/runs/store';
import { Rng } from '../../../electron/core/random';
import { parseJson, runCli } from '../../helpers';
import { insertImages, tempLibrary, writeSampleSubmission, type SplitName, type TempLibrary } from '../ml/train-helpers';

interface Img {
  id: number;
  split: SplitName;
  label: number;
  name: string;
}

const SPLITS: Array<[SplitName, number]> = [['train', 20], ['val', 60], ['test', 24], ['submission', 8]];

describe('compare and ensembles', () => {
  let t: TempLibrary;
  let images: Img[] = [];
  let sample = '';
  const ids: Record<string, string> = {};

  /** A run as training would leave it: row, environment, epochs, predictions (quality: how far the classes sit apart). */
  function addRun(key: string, model: string, config: Record<string, unknown>, opts: { quality: number; seed: number; dataHash?: string; status?: 'done' | 'running'; predict?: (img: Img) => boolean }): void {
    const id = `2025-run-${key}`;
    const set = { classes: ['0', '1'], train: [], val: [], test: [], submission: [], dataHash: opts.dataHash ?? 'a'.repeat(64), splitSeed: 1 } as unknown as TrainingSet;
    createRun(t.lib.db, { id, model, config: { model, ...config }, backend: 'wasm', jobId: null, set, weightsSource: String(config['weights'] ?? 'none'), inputSize: Number(config['inputSize'] ?? 32) });
    setRunEnvironment(t.lib.db, id, { backend: 'wasm', device: 'wasm simd', engine: 'none', params: 1000 + opts.seed });
    for (let e = 1; e <= 3; e++) {
      insertEpoch(t.lib.db, id, { epoch: e, fold: null, stage: 1, loss: 0.5, acc: 0.7, auc: 0.8, valLoss: 0.5, valAcc: 0.7, valAuc: 0.8 + e / 100, lr: 0.01, seconds: 1, imagesPerSecond: 100 });
    }
    const rng = new Rng(opts.seed);
    const rows = images
      .filter((img) => img.split !== 'train' && (opts.predict?.(img) ?? true))
      .map((img) => {
        const y = img.split === 'submission' ? rng.next() < 0.5 ? 1 : 0 : img.label;
        // rounded to 2 decimals: ties between classes happen, as with a real model's saturated outputs
        const p = Math.round(Math.min(1, Math.max(0, 0.5 + (y - 0.5) * opts.quality + (rng.next() - 0.5) * 0.9)) * 100) / 100;
        return { imageId: img.id, split: img.split, probability: p };
      });
    if (opts.status !== 'running') {
      insertPredictions(t.lib.db, id, rows);
      finishRun(t.lib.db, id, { status: 'done', seconds: 10 + opts.seed, best: { epoch: 3, valAuc: 0.83, valLogLoss: 0.5 }, imagesPerSecond: 100, error: null });
    }
    ids[key] = id;
  }

  before(() => {
    t = tempLibrary('ms-compare-');
    const dir = join(t.dir, 'files');
    mkdirSync(dir);
    const rows: Array<{ path: string; label: '0' | '1' | null; split: SplitName }> = [];
    for (const [split, n] of SPLITS) {
      for (let i = 0; i < n; i++) {
        const name = `${split}_${String(i).padStart(3, '0')}.jpg`;
        const path = join(dir, name);
        writeFileSync(path, `${name} bytes`); // only hashed: the comparison never decodes
        rows.push({ path, label: split === 'submission' ? null : i % 5 < 2 ? '1' : '0', split });
      }
    }
    sample = join(t.dir, 'sample_submission.csv');
    // the sample's order is not the insertion order: the submission must follow the sample
    const subNames = rows.filter((r) => r.split === 'submission').map((r) => r.path.split('/').pop() ?? '').reverse();
    writeSampleSubmission(sample, subNames);
    const imageIds = insertImages(t.lib, dir, rows, sample);
    images = rows.map((r, k) => ({ id: imageIds[k] ?? -1, split: r.split, label: r.label === '1' ? 1 : 0, name: r.path.split('/').pop() ?? '' }));

    const scratch = { inputSize: 32, weights: 'none', lr: 0.01, epochs: 5, optimizer: 'sgd' };
    addRun('s1', 'scratch', { ...scratch, seed: 1, backend: 'wasm', engineProvider: 'cpu' }, { quality: 0.5, seed: 1 });
    addRun('s2', 'scratch', { ...scratch, seed: 2, backend: 'cpu' }, { quality: 0.45, seed: 2 });
    addRun('s3', 'scratch', { ...scratch, lr: 0.001, seed: 3 }, { quality: 0.2, seed: 3 }); // other lr: not a repeat
    // the best, but it missed a few val images: DeLong pairs only the images both scored
    addRun('vgg', 'vgg19', { inputSize: 64, weights: 'imagenet', lr: 0.001, seed: 1 }, { quality: 0.8, seed: 4, predict: (img) => !(img.split === 'val' && img.id % 11 === 0) });
    addRun('running', 'resnet50', { inputSize: 64, weights: 'imagenet', seed: 1 }, { quality: 0.5, seed: 5, status: 'running' });
    addRun('testonly', 'xception', { inputSize: 71, weights: 'imagenet', seed: 1 }, { quality: 0.5, seed: 6, predict: (img) => img.split !== 'val' });
    addRun('olddata', 'scratch', { ...scratch, seed: 9 }, { quality: 0.5, seed: 7, dataHash: 'b'.repeat(64) });
  });
  after(() => t.cleanup());

  const scored = (runId: string): Map<number, number> =>
    new Map((t.lib.db.prepare("SELECT image_id AS id, probability AS p FROM predictions WHERE run_id = ? AND split = 'val'").all(runId) as Array<{ id: number; p: number }>).map((r) => [r.id, r.p]));
  const labelOf = new Map<number, number>();

  test("getRun takes an id's first characters as text: '%' and '_' are not wildcards", () => {
    assert.equal(getRun(t.lib.db, '2025-run-vg').id, ids['vgg']);
    assert.throws(() => getRun(t.lib.db, '2025-run-s'), /is the start of \d+ run ids/);
    assert.throws(() => getRun(t.lib.db, '%'), /no run '%'/);
    assert.throws(() => getRun(t.lib.db, '2025_run_vgg'), /no run '2025_run_vgg'/); // '_' would match '-' as a LIKE pattern
  });

  test('compareRuns: ranked by AUC then log loss, best first, runs not done or without val predictions skipped', () => {
    for (const img of images) labelOf.set(img.id, img.label);
    const c = Comparison.parse(compareRuns(t.lib.db, 'val'));
    // every metric recomputed here from the stored rows
    const expected = ['s1', 's2', 's3', 'vgg', 'olddata'].map((k) => {
      const p = scored(ids[k] ?? '');
      const labels = [...p.keys()].map((id) => labelOf.get(id) ?? -1);
      return { id: ids[k] ?? '', auc: rocAuc(labels, [...p.values()]) ?? -1, logLoss: logLoss(labels, [...p.values()]), count: p.size };
    });
    expected.sort((a, b) => b.auc - a.auc || a.logLoss - b.logLoss);
    assert.deepEqual(c.rows.map((r) => r.id), expected.map((e) => e.id));
    assert.equal(c.rows[0]?.id, ids['vgg'], 'the strong model is best');
    c.rows.forEach((r, k) => {
      const e = expected[k];
      assert.ok(e && Math.abs((r.auc ?? -1) - e.auc) < 1e-12 && Math.abs(r.logLoss - e.logLoss) < 1e-12, `${r.id}`);
      assert.equal(r.count, e?.count);
      assert.equal(r.best, k === 0);
      assert.ok(r.aucCi && r.aucCi.low <= (r.auc ?? -1) && (r.auc ?? 2) <= r.aucCi.high, `${r.id} AUC CI ${JSON.stringify(r.aucCi)}`);
      assert.ok(r.logLossCi && r.logLossCi.low <= r.logLoss && r.logLoss <= r.logLossCi.high, `${r.id} log loss CI`);
    });
    const vgg = c.rows[0] as CompareRow;
    assert.deepEqual([vgg.model, vgg.kind, vgg.epochs, vgg.bestEpoch, vgg.inputSize, vgg.weightsSource, vgg.params, vgg.seed], ['vgg19', 'trained', 3, 3, 64, 'imagenet', 1004, 1]);
    assert.deepEqual(c.skipped.map((s) => s.id).sort(), [ids['running'], ids['testonly']].sort());
    assert.match(c.skipped.find((s) => s.id === ids['running'])?.reason ?? '', /running/);
    assert.match(c.skipped.find((s) => s.id === ids['testonly'])?.reason ?? '', /no predictions on labelled val/);
    // the same data gives the same intervals
    assert.deepEqual(compareRuns(t.lib.db, 'val'), c);
  });

  test('seed groups: same model and settings, different seeds (the backend does not matter; other data does)', () => {
    // what a run records of itself after training is not a setting: two repeats still group
    const note = t.lib.db.prepare(`UPDATE runs SET config = json_set(config, ?, json(?)) WHERE id = ?`);
    note.run('$.throughputBasis', '"pixels"', ids['s1'] ?? '');
    note.run('$.facesScored', '{"seconds":12.5,"faces":3}', ids['s2'] ?? '');
    const c = compareRuns(t.lib.db, 'val');
    assert.equal(c.seedGroups.length, 1);
    const g = c.seedGroups[0];
    assert.ok(g);
    assert.deepEqual([...g.runs].sort(), [ids['s1'], ids['s2']].sort());
    assert.match(g.settings, /input 32/);
    assert.doesNotMatch(g.settings, /throughputBasis|facesScored/);
    const aucs = g.runs.map((id) => c.rows.find((r) => r.id === id)?.auc ?? Number.NaN);
    const mean = (aucs[0] + aucs[1]) / 2;
    assert.ok(g.auc && Math.abs(g.auc.mean - mean) < 1e-12);
    assert.ok(Math.abs(g.auc.sd - Math.abs((aucs[0] as number) - (aucs[1] as number)) / Math.SQRT2) < 1e-12, 'sample sd of two values');
  });

  test('DeLong between the two best, on the images both scored', () => {
    const c = compareRuns(t.lib.db, 'val');
    const [a, b] = c.rows;
    assert.ok(a && b && c.delong);
    const pa = scored(a.id);
    const pb = scored(b.id);
    const shared = [...pa.keys()].filter((id) => pb.has(id));
    assert.ok(shared.length < Math.max(pa.size, pb.size), 'vgg missed some images');
    const d = delongTest(shared.map((id) => labelOf.get(id) ?? -1), shared.map((id) => pa.get(id) ?? -1), shared.map((id) => pb.get(id) ?? -1));
    assert.ok(d);
    assert.deepEqual(c.delong, { a: a.id, b: b.id, images: shared.length, ...d });
    assert.ok(c.delong.p > 0 && c.delong.p <= 1);
  });

  test('evaluateRun: curves, calibration and confusion cells that hold every scored image once', async () => {
    const ctx = { lib: t.lib } as unknown as CoreContext;
    const e = RunEvaluation.parse(await compareHandlers['compare.run'](ctx, { id: ids['s1'] ?? '', split: 'val' }));
    const p = scored(ids['s1'] ?? '');
    assert.equal(e.count, p.size);
    assert.equal(e.positives, [...p.keys()].filter((id) => labelOf.get(id) === 1).length);
    assert.deepEqual(e.classes, ['0', '1']);
    assert.deepEqual(e.roc[0], { threshold: null, fpr: 0, tpr: 0 });
    assert.deepEqual(e.roc.at(-1)?.fpr, 1);
    assert.equal(e.calibration.length, 10);
    assert.equal(e.calibration.reduce((s, b) => s + b.count, 0), p.size);
    for (const at of [e.atHalf, e.atYouden]) {
      const cells = [at.tp, at.fp, at.tn, at.fn];
      const all = cells.flatMap((c) => c.imageIds).sort((x, y) => x - y);
      assert.deepEqual(all, [...p.keys()].sort((x, y) => x - y));
      for (const id of at.tp.imageIds) assert.ok(labelOf.get(id) === 1 && (p.get(id) ?? -1) >= at.threshold, `tp ${id}`);
      for (const id of at.fp.imageIds) assert.ok(labelOf.get(id) === 0 && (p.get(id) ?? -1) >= at.threshold, `fp ${id}`);
      for (const id of at.tn.imageIds) assert.ok(labelOf.get(id) === 0 && (p.get(id) ?? 2) < at.threshold, `tn ${id}`);
      cells.forEach((c) => assert.equal(c.count, c.imageIds.length));
      // each cell lists its most confident images first (farthest from the threshold), as the report does
      for (const c of cells) {
        const margins = c.imageIds.map((id) => Math.abs((p.get(id) ?? Number.NaN) - at.threshold));
        margins.slice(1).forEach((m, k) => assert.ok(m <= (margins[k] ?? -1), `margins ${margins.join(', ')}`));
      }
    }
    assert.equal(e.atHalf.threshold, 0.5);
    const labels = [...p.keys()].map((id) => labelOf.get(id) ?? -1);
    assert.deepEqual({ threshold: e.atYouden.threshold, j: e.atYouden.j }, youdenThreshold(labels, [...p.values()]));
    assert.throws(() => evaluateRun(t.lib.db, ids['running'] ?? '', 'val'), /running/);
  });

  test('ensemble: the mean of its members on the images all predicted, ranked like any run, writes a submission', async () => {
    // members that trained on ONNX Runtime make an ensemble whose 'trained on' says so (it read their tfjs backend)
    const setEngine = t.lib.db.prepare('UPDATE runs SET engine = ? WHERE id IN (?, ?)');
    setEngine.run('onnx', ids['vgg'], ids['s1']);
    const runId = createEnsemble(t.lib.db, [(ids['vgg'] ?? '').slice(0, 12), ids['s1'] ?? ''], 'vgg+scratch');
    setEngine.run('none', ids['vgg'], ids['s1']);
    const run = getRun(t.lib.db, runId);
    assert.equal(run.engine, 'onnx');
    // members of different input sizes: no "0 px"; where the members ran, not an empty device
    assert.deepEqual([run.model, run.status, run.weightsSource, run.inputSize, run.dataHash], ['ensemble', 'done', 'ensemble', null, 'a'.repeat(64)]);
    assert.deepEqual([run.backend, run.device], ['wasm', 'wasm simd']);
    assert.deepEqual(run.config['members'], [ids['vgg'], ids['s1']]);
    const pa = scored(ids['vgg'] ?? '');
    const pb = scored(ids['s1'] ?? '');
    const pe = scored(runId);
    assert.deepEqual([...pe.keys()].sort(), [...pa.keys()].filter((id) => pb.has(id)).sort());
    for (const [id, p] of pe) assert.ok(Math.abs(p - ((pa.get(id) ?? 0) + (pb.get(id) ?? 0)) / 2) < 1e-12, `image ${id}`);

    const row = compareRuns(t.lib.db, 'val').rows.find((r) => r.id === runId);
    assert.ok(row);
    assert.deepEqual([row.kind, row.members, row.name, row.epochs], ['ensemble', [ids['vgg'], ids['s1']], 'vgg+scratch', 0]);
    // the runs list (Train view) shows the AUC Compare shows, with no epoch
    assert.ok(run.best);
    assert.deepEqual([run.best.epoch, run.best.valAuc, run.best.valLogLoss], [null, row.auc, row.logLoss]);
    assert.equal(row.inputSize, null);

    // the submission: the sample's ids in the sample's order, through the project's CSV reader
    const out = join(t.dir, 'ensemble-submission.csv');
    const sub = await writeSubmission(t.lib, runId, out);
    const parsed = parseCsv(readFileSync(out, 'utf8'));
    const sampleRows = parseCsv(readFileSync(sample, 'utf8'));
    const cols = columnIndexes(parsed[0]?.fields ?? [], ['image', 'target'] as const);
    assert.ok(cols);
    assert.equal(sub.rows, 8);
    assert.deepEqual(parsed.slice(1).map((r) => r.fields[cols.image]), sampleRows.slice(1).map((r) => r.fields[0]));
    const subPred = new Map((t.lib.db.prepare("SELECT i.file_name AS n, p.probability AS p FROM predictions p JOIN images i ON i.id = p.image_id WHERE run_id = ? AND p.split = 'submission'").all(runId) as Array<{ n: string; p: number }>).map((r) => [r.n, r.p]));
    for (const r of parsed.slice(1)) assert.equal(Number(r.fields[cols.target]), subPred.get(r.fields[cols.image] ?? ''));

    // it has no weights: predict and export refuse it by name
    await assert.rejects(predictRun(t.lib, runId, [out]), (err: unknown) => isAppError(err) && err.code === 'CONFLICT' && /ensemble/.test(err.message) && err.message.includes(ids['vgg'] ?? '?'));
    await assert.rejects(exportRunModel(t.lib, runId, 'tfjs', join(t.dir, 'export')), (err: unknown) => isAppError(err) && err.code === 'CONFLICT' && /ensemble/.test(err.message));
  });

  test('ensemble refuses runs trained on other data, unfinished runs, and fewer than two runs', () => {
    const refuses = (refs: string[], code: string, message: RegExp): void =>
      assert.throws(() => createEnsemble(t.lib.db, refs), (err: unknown) => isAppError(err) && err.code === code && message.test(err.message));
    refuses([ids['s1'] ?? '', ids['olddata'] ?? ''], 'CONFLICT', /trained on different data/);
    refuses([ids['s1'] ?? '', ids['running'] ?? ''], 'CONFLICT', /is running/);
    refuses([ids['s1'] ?? '', ids['s1'] ?? ''], 'BAD_INPUT', /at least two different runs/);
  });

  test('an ensemble among the runs stands for its own runs: each run counts once', async () => {
    const pair = createEnsemble(t.lib.db, [ids['vgg'] ?? '', ids['s1'] ?? '']);
    const three = createEnsemble(t.lib.db, [pair, ids['s2'] ?? '', ids['vgg'] ?? '']);
    try {
      assert.deepEqual(getRun(t.lib.db, three).config['members'], [ids['vgg'], ids['s1'], ids['s2']]);
      const parts = ['vgg', 's1', 's2'].map((k) => scored(ids[k] ?? ''));
      for (const [id, p] of scored(three)) {
        const mean = parts.reduce((a, m) => a + (m.get(id) ?? Number.NaN), 0) / 3;
        assert.ok(Math.abs(p - mean) < 1e-12, `image ${id}: ${p} vs the three runs' mean ${mean}`);
      }
    } finally {
      await deleteRun(t.lib, three);
      await deleteRun(t.lib, pair);
    }
  });

  test('CLI: compare --json best first, the text table, ensemble --runs', async () => {
    const lib = join(t.dir, 'lib');
    const r = await runCli(['--library', lib, 'compare', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseJson<{ split: string; runs: CompareRow[]; seedGroups: unknown[]; delong: { a: string } | null; skipped: unknown[] }>(r.stdout);
    const core = compareRuns(t.lib.db, 'val');
    assert.deepEqual(doc.runs.map((x) => x.id), core.rows.map((x) => x.id));
    assert.equal(doc.runs[0]?.best, true);
    assert.deepEqual([doc.delong?.a, doc.seedGroups.length, doc.skipped.length], [core.delong?.a, core.seedGroups.length, core.skipped.length]);

    const text = await runCli(['--library', lib, 'compare', '--split', 'test']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^\*\s+\S+-vgg\s+vgg19/m);
    assert.match(text.stdout, /\d\.\d{3} \[\d\.\d{2}, \d\.\d{2}\]/);
    assert.match(text.stdout, /best vs second on the \d+ images both scored: AUC \d\.\d{3} vs \d\.\d{3}, ΔAUC -?\d\.\d{3}, z -?\d+\.\d{2}, p [\d.e-]+ \((not )?significant at 0\.05/);
    assert.match(text.stdout, /seeds: scratch \(input 32.*\) over 2 runs: AUC \d\.\d{3} ± \d\.\d{3}/);
    assert.match(text.stdout, /skipped 2025-run-running: running/);

    const bad = await runCli(['--library', lib, 'compare', '--split', 'train']);
    assert.equal(bad.code, 2);
    const ens = await runCli(['--library', lib, '--json', 'ensemble', '--runs', `${ids['s1']},${ids['s2']}`, '--name', 'seeds']);
    assert.equal(ens.code, 0, ens.stderr);
    const made = parseJson<{ runId: string; val: CompareRow | null }>(ens.stdout);
    assert.equal(getRun(t.lib.db, made.runId).model, 'ensemble');
    assert.equal(made.val?.name, 'seeds');
    const refused = await runCli(['--library', lib, 'ensemble', '--runs', `${ids['s1']},${ids['olddata']}`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /trained on different data/);
  });
});
