/**
 * A K-fold run in Chromium (serve mode), and the Compare table on a laptop's window: a 3-fold scratch run
 * trained from the Train view draws one line per fold and metric, each fold's epochs from 1, and its epochs
 * table says each row's fold; Compare draws its folds apart too; with several runs (a rerun, another TTA, the
 * fold run, an ensemble) the Compare table fits 1,280 px and 1,600 px windows without sideways scrolling.
 * Waits are on data-testids, never on time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { RunInfo } from '../../shared/contract';
import { browserMissing, closeStudio, compareTableFit, libraryCli, openStudio, serve, smallLibrary, type Served } from './harness';

const skip = browserMissing();

/** The labels of the series a chart drew (ChartCanvas's data-series). */
async function series(page: Page, testid: string): Promise<string[]> {
  return JSON.parse((await page.getByTestId(testid).getAttribute('data-series')) ?? '[]') as string[];
}

describe('a K-fold run and the Compare table at 1,280 px (serve mode)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let library: string;
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  const cli = libraryCli(() => library);

  before(async () => {
    ({ library } = await smallLibrary('e2e-folds', cleanups, { n: 48, testN: 10, seed: 11, minSize: 64, maxSize: 128 }, 'zindi'));
    const tiny = ['train', '--model', 'scratch', '--epochs', '2', '--input-size', '32'];
    // a rerun of the same seed (its name ends in its id's tail), another TTA, the faces scored too
    for (const extra of [['--seed', '1'], ['--seed', '1', '--lr', '0.02'], ['--seed', '2', '--tta', 'flip'], ['--seed', '3', '--faces']]) await cli(...tiny, ...extra);
    const runs = await cli<RunInfo[]>('runs');
    await cli('ensemble', '--runs', runs.slice(0, 3).map((r) => r.id).join(','), '--name', 'three-way blend');
    server = await serve(library);
    ({ browser, page } = await openStudio(server, problems, { viewport: { width: 1280, height: 800 } }));
  });

  after(() => closeStudio(browser, server, cleanups));

  test('a 3-fold run from the Train view: one line per fold and metric, each fold from epoch 1, and a fold column', async () => {
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-view').waitFor();
    await page.getByTestId('train-model-scratch').check();
    await page.getByTestId('train-epochs').fill('2');
    await page.getByTestId('train-input-size').fill('32');
    await page.getByTestId('train-folds').selectOption('3');
    await page.getByTestId('train-start').click();
    const ended = page.locator('[data-testid=train-run-progress]:not([data-status=running])');
    await ended.waitFor({ timeout: 180_000 });
    assert.equal(await ended.getAttribute('data-status'), 'done');
    const run = (await cli<RunInfo[]>('runs')).find((r) => r.folds !== null);
    assert.deepEqual(run?.folds, { k: 3, finished: [1, 2, 3] });

    // the chart is drawn from the finished run (its last refresh): 3 folds × loss, val loss, AUC, val AUC
    const chart = page.locator('[data-testid=train-curves][data-rendered="true"]');
    await page.locator('[data-testid=train-curves][data-series*="fold 3 · val AUC"]').waitFor();
    await chart.waitFor();
    const drawn = await series(page, 'train-curves');
    assert.equal(drawn.length, 12, drawn.join(', '));
    for (const f of [1, 2, 3]) {
      for (const m of ['loss', 'val loss', 'AUC', 'val AUC']) assert.ok(drawn.includes(`fold ${f} · ${m}`), `no fold ${f} ${m} in ${drawn.join(', ')}`);
    }

    await page.locator('[data-testid=train-epochs-detail] summary').click();
    await page.getByTestId('epochs-fold-head').waitFor();
    const rows = await page.getByTestId('epoch-row').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-fold'), tr.getAttribute('data-epoch')]));
    assert.deepEqual(rows, [['1', '1'], ['1', '2'], ['2', '1'], ['2', '2'], ['3', '1'], ['3', '2']]);
    assert.deepEqual(await page.getByTestId('epoch-fold').allInnerTexts(), ['1', '1', '2', '2', '3', '3']);

    // a past run's curves and epochs, picked in the runs table (an ensemble trained nothing to show)
    const single = (await cli<RunInfo[]>('runs')).find((r) => r.folds === null && r.model === 'scratch' && r.config['tta'] === 'flip');
    assert.ok(single, 'the flip run');
    assert.equal(await page.locator('[data-testid=run-row][data-model=ensemble] [data-testid=run-show]').count(), 0);
    // an ensemble's row says what it averages (it read only "ensemble")
    const ensembleRow = page.locator('[data-testid=run-row][data-model=ensemble]').first();
    assert.match(await ensembleRow.getByTestId('run-ensemble').innerText(), / · of \d+ runs$/);
    // and trained on nothing: no backend of its own, its time marked as its runs' sum
    assert.equal(await ensembleRow.getByTestId('run-trained-on').innerText(), '–');
    assert.match(await ensembleRow.getByTestId('run-time').innerText(), /^Σ \d+ s$/);
    await page.locator(`[data-testid=run-row][data-id="${single.id}"] [data-testid=run-show]`).click();
    await page.locator(`[data-testid=run-row][data-id="${single.id}"] [data-testid=run-show][aria-pressed=true]`).waitFor();
    // the K-fold run's bar stays with that run: above a past run shown instead it read "done" for the wrong run
    assert.equal(await page.getByTestId('train-run-progress').count(), 0);
    await page.locator('[data-testid=train-curves][data-rendered="true"]:not([data-series*="fold"])').waitFor();
    assert.deepEqual(await series(page, 'train-curves'), ['loss', 'val loss', 'AUC', 'val AUC']);
    // its heading says what trained it (ONNX Runtime here), not the TensorFlow.js backend that saved it
    assert.equal(single.engine, 'onnx');
    assert.match(await page.getByTestId('train-run-heading').innerText(), /· onnx · done/);
    assert.equal(await page.getByTestId('epoch-row').count(), 2);
    await page.locator(`[data-testid=run-row][data-id="${run?.id ?? ''}"] [data-testid=run-show]`).click();
    await page.locator('[data-testid=train-curves][data-series*="fold 3 · val AUC"]').waitFor();
    assert.equal((await series(page, 'train-curves')).length, 12);
  });

  for (const width of [1100, 1280]) {
    test(`Train at ${width} px: the runs table fits its box, each run's delete button in view`, async () => {
      await page.setViewportSize({ width, height: 800 });
      await page.getByTestId('nav-train').click();
      const table = page.getByTestId('runs-table');
      await table.locator('[data-testid=run-delete]').first().waitFor();
      const [scrollWidth, clientWidth] = await table.evaluate((t) => {
        const box = (t as unknown as { parentElement: { scrollWidth: number; clientWidth: number } }).parentElement;
        return [box.scrollWidth, box.clientWidth];
      });
      assert.ok(scrollWidth <= clientWidth, `the runs table is ${scrollWidth} px in a ${clientWidth} px box`);
      for (const b of await table.getByTestId('run-delete').all()) {
        const bb = await b.boundingBox();
        assert.ok(bb && bb.x + bb.width <= width, `a delete button at ${JSON.stringify(bb)}`);
      }
    });
  }

  for (const width of [1100, 1280, 1600]) {
    test(`Compare at ${width} px: the table fits with room to spare, the fold run's curves are drawn per fold`, async () => {
      await page.setViewportSize({ width, height: 800 });
      await page.getByTestId('nav-compare').click();
      const rows = page.locator('[data-testid=compare-row]');
      await rows.nth(5).waitFor();
      assert.equal(await rows.count(), 6);
      const { scrollWidth, clientWidth, narrowest } = await compareTableFit(page);
      assert.ok(scrollWidth <= clientWidth, `the table is ${scrollWidth} px in a ${clientWidth} px box`);
      assert.ok(narrowest + 40 <= clientWidth, `the table needs ${narrowest} px at its narrowest, in a ${clientWidth} px box`);
      for (const b of await page.getByTestId('download-submission').all()) {
        const bb = await b.boundingBox();
        assert.ok(bb && bb.x + bb.width <= width, `a submission button at ${JSON.stringify(bb)}`);
      }

      const fold = rows.filter({ has: page.locator('[data-testid=compare-basis]', { hasText: '3-fold' }) });
      assert.equal(await fold.count(), 1);
      const select = fold.getByTestId('compare-select');
      if (!(await select.isChecked())) await select.check();
      await page.locator('[data-testid=chart-learning][data-rendered="true"][data-series*="fold 3 val AUC"]').waitFor();
      const drawn = await series(page, 'chart-learning');
      for (const f of [1, 2, 3]) assert.ok(drawn.some((label) => label.endsWith(`· fold ${f} val AUC`)), drawn.join(', '));
    });
  }

  test('no page errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

if (skip) test('a K-fold run and the Compare table at 1,280 px', { skip }, () => {});
