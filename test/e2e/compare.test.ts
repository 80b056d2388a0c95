/**
 * The Compare view in Chromium against `mask-studio serve`: a fresh library of the synthetic dataset, two
 * scratch runs at 32 px trained through the CLI before the page opens, then the table (AUC, the best marked,
 * as `compare --json` ranks them), a confusion cell's images (each one really in that cell), the Grad-CAM
 * panel or its message, an ensemble as a third row, the submission download in the sample's order, and the
 * split control in Insights (its counts as `stats --json` reports them), the model download, and a label doubt's
 * evidence with its deliberate accept. Waits are on data-testids.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { HistoryEntry, RunInfo, Stats } from '../../shared/contract';
import type { CompareRow } from '../../shared/contract-compare';
import { ttaText } from '../../shared/scored-on';
import { DEFAULT_TTA } from '../../electron/core/ml/train/config';
import { STRONG_DOUBT } from '../../renderer/src/lib/findings';
import type { DatasetManifest } from '../fixtures/synthetic';
import { browserMissing, closeStudio, libraryCli, openStudio, screenshotter, serve, smallLibrary, type Served } from './harness';
import type { CanvasLike } from './page-types';

const skip = browserMissing();

interface CompareDoc {
  split: string;
  runs: CompareRow[];
}

function csvColumn(text: string, column: string): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const head = (lines[0] ?? '').split(',');
  const k = head.indexOf(column);
  assert.ok(k >= 0, `no ${column} column in ${head.join(',')}`);
  return lines.slice(1).map((l) => l.split(',')[k] ?? '');
}

describe('the Compare view in Chromium (serve mode)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let data: DatasetManifest;
  let library: string;
  let runs: RunInfo[] = [];
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  const cli = libraryCli(() => library);
  const shot = screenshotter(() => page);

  before(async () => {
    // No planted defects: every sample row must be readable for the submission to be complete.
    ({ library, data } = await smallLibrary('e2e-compare', cleanups, { n: 48, testN: 10, seed: 11, minSize: 64, maxSize: 128 }, 'zindi'));
    for (const seed of ['1', '2']) {
      // the second run with another TTA mode than the default: the table must tell them apart
      await cli('train', '--model', 'scratch', '--epochs', '2', '--input-size', '32', '--seed', seed, ...(seed === '2' ? ['--tta', 'flip'] : []));
    }
    runs = await cli<RunInfo[]>('runs');
    server = await serve(library);
    ({ browser, page } = await openStudio(server, problems, { viewport: { width: 1400, height: 900 }, acceptDownloads: true }));
  });

  after(() => closeStudio(browser, server, cleanups));

  test('two finished runs to compare', () => {
    assert.equal(runs.length, 2);
    assert.ok(runs.every((r) => r.status === 'done' && r.inputSize === 32), JSON.stringify(runs.map((r) => [r.id, r.status])));
  });

  test('the table lists both runs with AUC, ranked and marked as `compare --json` does', async () => {
    await page.getByTestId('nav-compare').click();
    await page.locator('[data-testid=compare-row]').nth(1).waitFor();
    const expected = await cli<CompareDoc>('compare');
    const ids = await page.locator('[data-testid=compare-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    assert.deepEqual(ids, expected.runs.map((r) => r.id));
    assert.deepEqual(new Set(ids), new Set(runs.map((r) => r.id)));
    const best = page.locator('[data-testid=compare-row][data-best=true]');
    assert.equal(await best.count(), 1);
    assert.equal(await best.getAttribute('data-id'), expected.runs[0]?.id);
    assert.equal(await best.getByTestId('compare-best').count(), 1);
    for (const [i, r] of expected.runs.entries()) {
      const auc = await page.locator('[data-testid=compare-row]').nth(i).getByTestId('compare-auc').innerText();
      assert.ok(r.auc !== null, `run ${r.id} has no AUC`);
      assert.ok(auc.startsWith(r.auc.toFixed(4)), `${auc} for AUC ${r.auc}`);
      const tta = await page.locator('[data-testid=compare-row]').nth(i).getByTestId('compare-tta').innerText();
      assert.equal(tta.trim(), ttaText(r));
    }
    assert.deepEqual(new Set(expected.runs.map((r) => r.tta)), new Set([DEFAULT_TTA, 'flip']));
  });

  test('the curves are drawn for the selected runs', async () => {
    for (const id of ['chart-roc', 'chart-pr', 'chart-calibration', 'chart-learning']) {
      await page.locator(`[data-testid=${id}][data-rendered="true"]`).waitFor();
      const painted = await page.getByTestId(id).evaluate((el) => {
        const c = el as unknown as CanvasLike;
        const px = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) n++;
        return n;
      });
      assert.ok(painted > 500, `${id} painted ${painted} pixels`);
    }
    await page.getByTestId('compare-view').evaluate((el) => {
      (el as unknown as { scrollTop: number }).scrollTop = 0;
    });
    await shot('compare');
  });

  test("a confusion cell shows its images, each really in that cell, and one opens with its heatmap or a message", async () => {
    const matrix = page.getByTestId('confusion-atHalf');
    await matrix.waitFor();
    const threshold = Number(await matrix.getAttribute('data-threshold'));
    assert.equal(threshold, 0.5);
    const cells = matrix.locator('[data-testid=confusion-cell]:not([disabled])');
    const n = await cells.count();
    assert.ok(n > 0, 'every cell is empty');
    const cell = cells.first();
    const key = await cell.getAttribute('data-cell');
    const count = Number(await cell.getAttribute('data-count'));
    await cell.click();
    const panel = page.locator(`[data-testid=cell-images][data-cell="${key}"]`);
    await panel.waitFor();
    assert.equal(Number(await panel.getAttribute('data-count')), count);
    await panel.locator('[data-testid=cell-image]').nth(Math.min(count, 48) - 1).waitFor();
    assert.equal(await panel.locator('[data-testid=cell-image]').count(), Math.min(count, 48));
    // tp/fn are labelled positive, tn/fp negative; tp/fp were scored at or over the threshold.
    const shown = await panel.locator('[data-testid=cell-image]').evaluateAll((els) =>
      els.map((e) => ({ label: e.getAttribute('data-label'), p: Number(e.getAttribute('data-p')) })),
    );
    const positive = key === 'tp' || key === 'fn';
    const over = key === 'tp' || key === 'fp';
    for (const s of shown) {
      assert.equal(s.label, positive ? '1' : '0', `${key} holds an image labelled ${s.label}`);
      assert.equal(s.p >= threshold, over, `${key} holds an image scored ${s.p}`);
    }
    await page.waitForFunction(() => {
      const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean; naturalWidth: number }> } };
      const imgs = Array.from(g.document.querySelectorAll('[data-testid=cell-image] img'));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    });
    await panel.scrollIntoViewIfNeeded();
    await shot('compare-cells');

    await panel.locator('[data-testid=cell-image]').first().click();
    const heat = page.locator('[data-testid=explain-heatmap]:not([data-state=loading])');
    await heat.waitFor({ timeout: 60_000 });
    const state = await heat.getAttribute('data-state');
    if (state === 'ready') {
      assert.match((await heat.locator('img').getAttribute('src')) ?? '', /^data:image\/png;base64,/);
      // the map's probability is the whole image seen once: where the run's own score averages views or a
      // face, the caption says so and gives that score (the two differed with no word why)
      const focusedId = await page.locator('[data-testid=compare-row][data-focus=true]').getAttribute('data-id');
      const focusedRow = (await cli<CompareDoc>('compare')).runs.find((r) => r.id === focusedId);
      assert.ok(focusedRow, `focused ${focusedId}`);
      const averaged = focusedRow.tta !== 'none' || focusedRow.faces;
      assert.equal(/This is the whole image seen once; the run's score of it, \d\.\d{3}, averages /.test(await heat.innerText()), averaged, await heat.innerText());
      await shot('compare-gradcam');
    } else {
      assert.equal(state, 'error');
      assert.ok((await page.getByTestId('explain-unavailable').innerText()).length > 20);
    }
    await page.keyboard.press('Escape');
    await page.getByTestId('explain').waitFor({ state: 'detached' });
    // the first Esc closed the explanation alone; the next closes the cell's images
    assert.equal(await panel.count(), 1);
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
  });

  test('"Ensemble selected" adds a third, ensemble row', async () => {
    assert.equal(await page.locator('[data-testid=compare-select]:checked').count(), 2);
    await page.getByTestId('ensemble-create').click();
    await page.locator('[data-testid=compare-row]').nth(2).waitFor();
    const ensemble = page.locator('[data-testid=compare-row][data-kind=ensemble]');
    assert.equal(await ensemble.count(), 1);
    assert.match(await ensemble.getByTestId('compare-auc').innerText(), /^\d\.\d{4}/);
    const expected = await cli<CompareDoc>('compare');
    assert.equal(expected.runs.length, 3);
    assert.deepEqual(expected.runs.find((r) => r.kind === 'ensemble')?.members.sort(), runs.map((r) => r.id).sort());

    // an ensemble has no weights to explain: an image of its confusion cell opens its best member's heatmap, said so
    await ensemble.locator('td').nth(1).click();
    await page.locator('[data-testid=compare-row][data-kind=ensemble][data-focus=true]').waitFor();
    await page.locator('[data-testid=confusion-atHalf] [data-testid=confusion-cell]:not([disabled])').first().click();
    await page.locator('[data-testid=cell-image]').first().click();
    const via = page.getByTestId('explain-via');
    await via.waitFor();
    assert.match(await via.innerText(), /averages its runs' probabilities and has no weights of its own to explain: this is where .+, its best-scoring run, looks/);
    await page.locator('[data-testid=explain-heatmap]:not([data-state=loading])').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=explain-heatmap]').getAttribute('data-state'), 'ready', await page.getByTestId('explain').innerText());
    await page.keyboard.press('Escape');
    await page.getByTestId('explain').waitFor({ state: 'detached' });
    await page.keyboard.press('Escape');
  });

  test('Download model hands over the focused run as ONNX with its model card, written only inside the library (bug 16)', async () => {
    const row = page.locator('[data-testid=compare-row][data-kind=trained]').first();
    const id = await row.getAttribute('data-id');
    assert.ok(id);
    await row.locator('td').nth(1).click(); // a click on the row focuses the run
    await page.locator(`[data-testid=export-model]:not([disabled])`).waitFor();
    await page.getByTestId('export-format').selectOption('onnx');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-model').click()]);
    await page.locator('[data-testid=export-model]:has-text("Download model")').waitFor();
    assert.equal(download.suggestedFilename(), `${id}-onnx.tar`);
    const listed = spawnSync('tar', ['-tf', await download.path()], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n').sort(), [`${id}-onnx/model-card.json`, `${id}-onnx/model.onnx`]);
    const dir = join(library, 'exports', `${id}-onnx`);
    const card = JSON.parse(readFileSync(join(dir, 'model-card.json'), 'utf8')) as { architecture: string; inputSize: number };
    assert.equal(card.architecture, 'scratch');
    assert.equal(card.inputSize, 32);
    assert.ok(existsSync(join(dir, 'model.onnx')), 'model.onnx written');
  });

  test('the submission download has the sample submission ids in its order', async () => {
    const row = page.locator('[data-testid=compare-row]').first();
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('download-submission').click()]);
    const file = await download.path();
    const text = readFileSync(file, 'utf8');
    assert.deepEqual(csvColumn(text, 'image'), csvColumn(readFileSync(data.sampleSubmission, 'utf8'), 'image'));
    const targets = csvColumn(text, 'target').map(Number);
    assert.ok(targets.every((p) => p >= 0 && p <= 1), targets.join(','));
    assert.match(download.suggestedFilename(), /^submission-.+\.csv$/);

    // other views than the run's own: the same rows, scored again (a flip changes every probability a little)
    await page.getByTestId('submission-tta').selectOption('none');
    const [again] = await Promise.all([page.waitForEvent('download'), row.getByTestId('download-submission').click()]);
    const plain = readFileSync(await again.path(), 'utf8');
    assert.deepEqual(csvColumn(plain, 'image'), csvColumn(text, 'image'));
    assert.notDeepEqual(csvColumn(plain, 'target'), csvColumn(text, 'target'), 'the views chose nothing');
    await page.getByTestId('submission-tta').selectOption('');
  });

  test('the download routes want the token, and a run id is never a pattern', async () => {
    const origin = new URL(server.url).origin;
    const id = runs[0]?.id ?? '';
    const bare = await fetch(`${origin}/api/runs/${id}/submission.csv`);
    assert.equal(bare.status, 401);
    assert.equal((await fetch(`${origin}/api/report.html`)).status, 401);
    const token = new URL(server.url).searchParams.get('token') ?? '';
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const ok = await fetch(`${origin}/api/runs/${id}/submission.csv`, auth);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-disposition') ?? '', /^attachment; filename="submission-/);
    // '%' is SQL LIKE's wildcard: a prefix lookup must not turn it into "any run".
    assert.equal((await fetch(`${origin}/api/runs/%25/submission.csv`, auth)).status, 404);
    assert.equal((await fetch(`${origin}/api/runs/no-such-run/submission.csv`, auth)).status, 404);
  });

  test('the split control in Insights writes a split and shows its summary', async () => {
    await page.getByTestId('nav-insights').click();
    await page.getByTestId('split-panel').waitFor();
    await page.getByTestId('split-seed').fill('7');
    await page.getByTestId('split-val').fill('20');
    await page.getByTestId('split-test').fill('20');
    await page.getByTestId('split-run').click();
    // the library is split already (its runs trained on it): a new split is confirmed first
    assert.match(await page.getByTestId('confirm-dialog').innerText(), /Split the library again\?[\s\S]*seed 7/);
    await page.getByTestId('confirm-ok').click();
    await page.locator('[data-testid=split-summary][data-seed="7"]').waitFor();
    const stats = await cli<Stats>('stats');
    for (const split of ['train', 'val', 'test'] as const) {
      const want = stats.byClassAndSplit.filter((r) => r.split === split && r.label !== null).reduce((a, r) => a + r.count, 0);
      const shown = await page.locator(`[data-testid=split-row][data-split=${split}]`).getAttribute('data-total');
      assert.equal(Number(shown), want, `${split}: shown ${shown}, library ${want}`);
    }
    assert.equal(await page.getByTestId('split-summary').getAttribute('data-leaks'), '0');
  });

  test('Export report downloads the self-contained HTML report', async () => {
    await page.getByTestId('nav-compare').click();
    await page.locator('[data-testid=compare-row]').nth(2).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-report').click()]);
    const html = readFileSync(await download.path(), 'utf8');
    assert.match(html, /^<!doctype html>/i);
    for (const r of runs) assert.ok(html.includes(r.id), `the report does not name run ${r.id}`);
    assert.match(download.suggestedFilename(), /^mask-studio-report-[\w.-]+-val-\d{8}-\d{4}\.html$/);
  });

  test('Review: "Find label doubts" adds label-doubt findings; accepting one relabels (model-suggestion), Undo takes it back', async () => {
    await page.getByTestId('nav-review').click();
    await page.getByTestId('find-doubts').click();
    // a long job in the background: asked first, with what it costs
    await page.getByTestId('confirm-dialog').waitFor();
    assert.match(await page.getByTestId('confirm-dialog').innerText(), /can be cancelled/);
    await page.getByTestId('confirm-ok').click();
    // the notice stays 6 s once the job ends; the job's own length is the machine's (minutes when it is shared)
    await page.getByTestId('notice-info').filter({ hasText: /The models doubt \d+ label/ }).waitFor({ timeout: 900_000 });
    const item = page.getByTestId('review-item');
    await item.waitFor();
    for (let i = 0; i < 60 && (await item.getAttribute('data-kind')) !== 'label-doubt'; i++) {
      const id = await item.getAttribute('data-finding-id');
      await page.getByTestId('review-skip').click();
      await page.locator(`[data-testid=review-item]:not([data-finding-id="${id}"]), [data-testid=review-done]`).first().waitFor();
    }
    assert.equal(await item.getAttribute('data-kind'), 'label-doubt', 'no label doubt in the queue');
    const given = await page.getByTestId('doubt-given').getAttribute('data-label');
    const suggested = await page.getByTestId('doubt-suggested').getAttribute('data-label');
    assert.ok(given !== null && suggested !== null && given !== suggested, `${given} → ${suggested}`);
    const p = Number((await page.getByTestId('doubt-p').innerText()).match(/[0-9.]+$/)?.[0]);
    assert.ok(p >= 0 && p <= 1, `p ${p}`);
    // the evidence: which model, how good out of fold, where this doubt ranks (bug 17)
    assert.match(await page.getByTestId('doubt-model').innerText(), /\w+ \(.+ weights, \d+ px, 5-fold\)/);
    assert.match(await page.getByTestId('doubt-auc').innerText(), /^(\d\.\d{3}|–)/);
    assert.match(await page.getByTestId('doubt-rank').innerText(), /^\d+ of \d+ doubts/);
    // the app calibrates: planted flips give each rank an expected precision (issue 13)
    assert.match(await page.getByTestId('doubt-precision').innerText(), /^[01]\.\d\d/);
    assert.match(await page.getByTestId('doubt-calibration').innerText(), /5 trials of 5 % of labels flipped at random/);
    // 'keep' is never put forward on a doubt; 'accept' only on strong evidence (lib/findings.ts strongDoubt), and
    // accepting is asked again before anything changes
    assert.doesNotMatch((await page.getByTestId('review-keep').getAttribute('class')) ?? '', /primary/);
    const auc = Number((await page.getByTestId('doubt-auc').innerText()).match(/^\d\.\d{3}/)?.[0] ?? Number.NaN);
    const precision = Number(await page.getByTestId('doubt-precision').getAttribute('data-value'));
    const strong = p <= STRONG_DOUBT.probability && auc >= STRONG_DOUBT.oofAuc && precision >= STRONG_DOUBT.precision;
    assert.equal(/primary/.test((await page.getByTestId('review-accept').getAttribute('class')) ?? ''), strong, `p ${p}, AUC ${auc}, precision ${precision}`);
    await shot('review-doubt');
    const findingId = await item.getAttribute('data-finding-id');
    const beforeAccept = await cli<HistoryEntry[]>('history', '--limit', '1');
    await page.keyboard.press('a');
    await page.getByTestId('confirm-dialog').waitFor();
    assert.match(await page.getByTestId('confirm-dialog').innerText(), /p = \d\.\d{3}/);
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    assert.deepEqual(await cli<HistoryEntry[]>('history', '--limit', '1'), beforeAccept, 'one key relabelled the image');
    assert.equal(await item.getAttribute('data-finding-id'), findingId);
    await page.getByTestId('review-accept').click();
    await page.getByTestId('confirm-ok').click();
    await page.locator(`[data-testid=review-item]:not([data-finding-id="${findingId}"]), [data-testid=review-done]`).first().waitFor();
    const accepted = await cli<HistoryEntry[]>('history', '--limit', '1');
    assert.equal(accepted[0]?.kind, 'label');
    assert.equal(accepted[0]?.source, 'model-suggestion');
    assert.equal(accepted[0]?.oldValue, given);
    assert.equal(accepted[0]?.newValue, suggested);
    await page.getByTestId('review-undo').click();
    await page.getByTestId('notice-info').filter({ hasText: 'Undid 1 change; the finding is open again' }).waitFor();
    await page.locator(`[data-testid=review-item][data-finding-id="${findingId}"]`).waitFor();
    const undone = await cli<HistoryEntry[]>('history', '--limit', '1');
    assert.equal(undone[0]?.id, accepted[0]?.id);
    assert.equal(undone[0]?.state, 'undone');
  });

  test('no page errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

if (skip) test('the Compare view in Chromium', { skip }, () => {});
