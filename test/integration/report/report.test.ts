/**
 * The HTML report on a temp library: the synthetic set with planted defects imported, audited and split,
 * two runs whose epochs and predictions are inserted directly. One file holds the run ids and AUCs,
 * chart.js, the JSON data and the thumbnails, and nothing it loads comes from the network; report.write
 * and `mask-studio report` write the same kind of file; Chromium opens it and draws every chart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { dispatch } from '../../../electron/core/api/dispatch';
import { compareRuns } from '../../../electron/core/compare/compare';
import { runAudit } from '../../../electron/core/dataset/audit';
import { importDataset } from '../../../electron/core/dataset/import';
import { splitLibrary } from '../../../electron/core/dataset/split';
import { JobRunner } from '../../../electron/core/jobs/runner';
import { createRun, finishRun, insertEpoch, insertPredictions, setRunEnvironment, trainingSet } from '../../../electron/core/ml/runs/store';
import { Rng } from '../../../electron/core/random';
import { writeReport } from '../../../electron/core/report/report';
import { DOUBTS_SHOWN } from '../../../electron/core/report/report-doubts';
import { listDoubts, saveDoubts, writeDoubtFindings } from '../../../electron/core/doubts/store';
import { decideFinding } from '../../../electron/core/dataset/findings-query';
import type { ReportData } from '../../../electron/core/report/report-data';
import { browserMissing, launchBrowser } from '../../e2e/harness';
import type { CanvasLike } from '../../e2e/page-types';
import { generateDataset } from '../../fixtures/synthetic';
import { parseJson, runCli } from '../../helpers';
import { tempLibrary, type TempLibrary } from '../ml/train-helpers';

/** The page as the test reads it inside evaluate (the node tsconfig has no DOM lib). */
interface ReportPage {
  document: { body: { dataset: Record<string, string | undefined> }; querySelectorAll(selector: 'canvas'): ArrayLike<CanvasLike & { id: string; dataset: Record<string, string | undefined> }> };
}

/** Every src / href / url(...) that names a network address (the report must load none). */
function externalRefs(html: string): string[] {
  const refs = [...html.matchAll(/\b(?:src|href|action|poster)\s*=\s*["']?\s*((?:https?:)?\/\/[^"'\s>]*)/gi), ...html.matchAll(/url\(\s*["']?((?:https?:)?\/\/[^"')]*)/gi)];
  return refs.map((m) => m[1] ?? '');
}

function reportJson(html: string): ReportData {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m?.[1], 'the JSON data block');
  return JSON.parse(m[1]) as ReportData;
}

describe('HTML report', () => {
  let t: TempLibrary;
  const runIds = ['2025-report-scratch-aaaa', '2025-report-vgg19-bbbb'];

  before(async () => {
    t = tempLibrary('ms-report-');
    const data = await generateDataset(join(t.dir, 'data'), { seed: 4, n: 60, testN: 6, defects: true, minSize: 64, maxSize: 128 });
    await importDataset(t.lib.db, { dir: data.imagesDir, labels: data.labelsCsv, testDir: data.testDir, sampleSubmission: data.sampleSubmission });
    runAudit(t.lib.db);
    splitLibrary(t.lib.db, { seed: 1, val: 0.3, test: 0.2 });
    const set = trainingSet(t.lib.db);
    runIds.forEach((id, k) => {
      const model = k === 0 ? 'scratch' : 'vgg19';
      createRun(t.lib.db, { id, model, config: { model }, backend: 'wasm', jobId: null, set, weightsSource: k === 0 ? 'none' : 'imagenet', inputSize: 64 });
      setRunEnvironment(t.lib.db, id, { backend: 'wasm', device: 'wasm simd', engine: 'none', params: 1000 * (k + 1) });
      for (let e = 1; e <= 4; e++) {
        // the second run stands for a 2-fold run: two folds of 2 epochs
        insertEpoch(t.lib.db, id, { epoch: e, fold: k === 0 ? null : e <= 2 ? 1 : 2, stage: 1, loss: 0.7 - e / 10, acc: 0.6, auc: 0.6 + e / 20, valLoss: 0.7 - e / 20, valAcc: 0.6, valAuc: 0.55 + e / 20, lr: 0.01, seconds: 1, imagesPerSecond: 50 });
      }
      const rng = new Rng(7 + k);
      const quality = k === 0 ? 0.4 : 0.8;
      const rows = [...set.val.map((i) => ({ i, split: 'val' })), ...set.test.map((i) => ({ i, split: 'test' }))].map(({ i, split }) => ({
        imageId: i.id,
        split,
        probability: Math.min(1, Math.max(0, 0.5 + (i.label - 0.5) * quality + (rng.next() - 0.5) * 0.8)),
      }));
      insertPredictions(t.lib.db, id, rows);
      finishRun(t.lib.db, id, { status: 'done', seconds: 12, best: { epoch: 4, valAuc: 0.75, valLogLoss: 0.5 }, imagesPerSecond: 50, error: null });
    });
  });

  after(() => t.cleanup());

  test('one self-contained file: run ids, AUCs, chart.js, parseable data, data-URL thumbnails, no external URLs', async () => {
    const out = join(t.dir, 'out', 'report.html');
    const started = performance.now();
    const r = await writeReport(t.lib, out, 'val');
    console.log(`report: ${(r.bytes / 1024).toFixed(0)} KiB in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    assert.equal(r.out, out);
    assert.deepEqual(readdirSync(join(t.dir, 'out')), ['report.html'], 'one file, no temp left');
    assert.equal(statSync(out).size, r.bytes);
    const html = readFileSync(out, 'utf8');

    const comparison = compareRuns(t.lib.db, 'val');
    assert.equal(comparison.rows.length, 2);
    for (const row of comparison.rows) {
      assert.ok(html.includes(row.id), `run id ${row.id}`);
      assert.ok(row.auc !== null && html.includes(row.auc.toFixed(4)), `AUC ${String(row.auc)} of ${row.id}`);
    }
    assert.match(html, /Chart\.js v4\./, 'chart.js inlined (its banner)');
    assert.ok(!/<script[^>]+src=/i.test(html), 'no script is loaded from elsewhere');
    assert.deepEqual(externalRefs(html), []);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);

    const data = reportJson(html);
    assert.equal(data.split, 'val');
    assert.deepEqual(data.runs.map((x) => x.evaluation.runId), comparison.rows.map((x) => x.id));
    assert.ok(data.runs.every((x) => x.evaluation.roc.length > 2 && x.epochs.length === 4));
    assert.ok(data.findings.length > 0, 'the planted defects are in the audit summary');
    assert.ok(data.stats.byClassAndSplit.some((c) => c.split === 'val'));

    const imgs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.ok(imgs.length >= 5, `${imgs.length} thumbnails`);
    for (const src of imgs) assert.match(src, /^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/);
    const meta = await sharp(Buffer.from((imgs[0] ?? '').split(',')[1] ?? '', 'base64')).metadata();
    assert.ok((meta.width ?? 0) <= 64 && (meta.height ?? 0) <= 64, `thumbnail ${meta.width}×${meta.height}`);
    // the misclassified images of the weaker run at 0.5 are shown
    const weak = data.runs.find((x) => x.evaluation.runId === runIds[0]);
    assert.ok(weak && weak.errors.atHalf.fp.length + weak.errors.atHalf.fn.length > 0);
    const firstError = weak.errors.atHalf.fp[0] ?? weak.errors.atHalf.fn[0];
    assert.ok(firstError && data.thumbs[String(firstError.id)], 'a thumbnail for an error');
  });

  test('report.write and `mask-studio report` write the same kind of file; a bad split is refused', async () => {
    const ctx = { lib: t.lib, jobs: new JobRunner(t.lib.db, () => {}), emit: () => {} };
    const viaApi = (await dispatch(ctx, 'report.write', { split: 'test' })) as { out: string; bytes: number };
    assert.equal(dirname(viaApi.out), join(t.lib.dir, 'exports'), 'the API writes only into the library');
    assert.match(basename(viaApi.out), /^mask-studio-report-[\w.-]+-test-\d{8}-\d{4}\.html$/, 'named after the library, split and time');
    assert.equal(viaApi.bytes, statSync(viaApi.out).size);
    await assert.rejects(dispatch(ctx, 'report.write', { out: join(t.dir, 'api.html') }), /not known here: 'out'/, 'a page cannot name the file');
    assert.equal(reportJson(readFileSync(viaApi.out, 'utf8')).split, 'test');

    const cliOut = join(t.dir, 'cli.html');
    const r = await runCli(['--json', 'report', '--library', join(t.dir, 'lib'), '--out', cliOut]);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseJson<{ out: string; bytes: number }>(r.stdout);
    assert.equal(doc.out, cliOut);
    assert.ok(readFileSync(cliOut, 'utf8').includes(runIds[1] ?? '?'));
    const bad = await runCli(['report', '--library', join(t.dir, 'lib'), '--out', cliOut, '--split', 'train']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected val or test/);
  });

  test('Chromium opens it offline and draws every chart without console errors', async (tt) => {
    const missing = browserMissing();
    if (missing) {
      tt.skip(missing);
      return;
    }
    const out = join(t.dir, 'browser.html');
    await writeReport(t.lib, out, 'val');
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) requests.push(req.url());
      });
      await page.goto(`file://${out}`);
      await page.waitForFunction(() => (globalThis as unknown as ReportPage).document.body.dataset['charts'] !== undefined, undefined, { timeout: 10_000 });
      const charts = await page.evaluate(() => Number((globalThis as unknown as ReportPage).document.body.dataset['charts']));
      // classes + ROC + PR + calibration + one learning curve per run
      assert.equal(charts, 4 + runIds.length);
      const painted = await page.evaluate(() =>
        Array.from((globalThis as unknown as ReportPage).document.querySelectorAll('canvas')).every(
          (c) => c.width > 0 && Array.from(c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? []).some((v) => v !== 0),
        ),
      );
      assert.ok(painted, 'every canvas has pixels');
      const series = await page.evaluate(() =>
        Array.from((globalThis as unknown as ReportPage).document.querySelectorAll('canvas'))
          .filter((c) => c.id.startsWith('chart-epochs-'))
          .map((c) => c.dataset['series'] ?? ''),
      );
      assert.deepEqual(series.map((s) => s.split('|').length).sort(), [4, 8], 'the fold run draws 4 lines per fold, the other 4');
      assert.ok(series.some((s) => s.includes('fold 2 · val AUC')), `the fold run's lines are per fold: ${series.join(' / ')}`);
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
    } finally {
      await browser.close();
    }
  });

  test('the label doubts: the top 20 with thumbnails to judge by eye, p(given), expected precision and what Review decided', async () => {
    const labelled = t.lib.db.prepare("SELECT id, sha256, label FROM images WHERE label IS NOT NULL AND split != 'submission' AND decode_status = 'ok' ORDER BY id LIMIT 25").all() as Array<{ id: number; sha256: string; label: string }>;
    assert.equal(labelled.length, 25);
    const other = (l: string): string => (l === '0' ? '1' : '0');
    saveDoubts(t.lib.db, {
      model: 'inception_v3', weights: 'nsfwjs', inputSize: 224, runId: null, folds: 5, seed: 1, images: 60, thresholds: { '0': 0.7, '1': 0.7 }, oofAuc: 0.97, l2: 1,
      seconds: 1, calibration: null, tta: 'flip-crops', faces: true,
    }, labelled.map((im, i) => ({ imageId: im.id, sha256: im.sha256, given: im.label, suggested: other(im.label), probability: 0.01 * (i + 1), rank: i + 1, expectedPrecision: i < 10 ? 0.8 : 0.5 })));
    writeDoubtFindings(t.lib.db);
    const doubts = listDoubts(t.lib.db);
    const second = doubts[1]?.findingId;
    assert.ok(second !== undefined && second !== null);
    decideFinding(t.lib.db, second, 'dismissed');

    const html = readFileSync((await writeReport(t.lib, join(t.dir, 'doubts.html'), 'val')).out, 'utf8');
    const section = /<section id="doubts">([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    assert.match(section, /25 doubts among 60 labelled images, from inception_v3 \(nsfwjs weights, 224 px, 5-fold, faces scored too\), out-of-fold AUC 0\.970/);
    const figures = [...section.matchAll(/<figure class="doubt" data-status="(\w+)"><img src="([^"]+)"[^>]*><figcaption>([^<]*)/g)];
    assert.equal(figures.length, DOUBTS_SHOWN.top, 'the top 20 of 25');
    const first = labelled[0]?.label ?? '?';
    assert.match(figures[0]?.[3] ?? '', new RegExp(`^#1 [\\w ]+\\(${first}\\) → [\\w ]+\\(${other(first)}\\), p\\(given\\) 0\\.010, expected precision 0\\.80 · not reviewed$`));
    assert.deepEqual(figures.slice(0, 3).map((f) => f[1]), ['open', 'dismissed', 'open']);
    assert.match(figures[1]?.[3] ?? '', /kept as labelled$/);
    // larger than the audit's thumbnails: a person judges the label by them
    const meta = await sharp(Buffer.from((figures[0]?.[2] ?? '').split(',')[1] ?? '', 'base64')).metadata();
    assert.ok(Math.max(meta.width ?? 0, meta.height ?? 0) > 64 && Math.max(meta.width ?? 0, meta.height ?? 0) <= DOUBTS_SHOWN.side, `${meta.width}×${meta.height}`);
    // the JSON block names them without their bytes again
    const data = reportJson(html);
    assert.equal(data.doubts?.top.length, DOUBTS_SHOWN.top);
    assert.ok(!JSON.stringify(data.doubts).includes('data:image'));
  });
});
