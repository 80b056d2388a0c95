/**
 * The studio in a real browser: Debian's Chromium against `mask-studio serve` on a fresh library of the
 * synthetic dataset. Import, see the grid, label with the keyboard and undo, exclude a duplicate from Review,
 * see Insights' charts drawn, train a tiny scratch run and watch it finish, read the Doctor. Every step is checked in the page and in the library through the CLI's --json;
 * waits are on data-testids and events, never on time.
 */
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { HistoryEntry, RunInfo, Stats } from '../../shared/contract';
import type { DoctorReport } from '../../shared/doctor';
import type { DatasetManifest } from '../fixtures/synthetic';
import type { CanvasLike, PageGlobals } from './page-types';
import { browserMissing, closeStudio, libraryCli, openStudio, screenshotter, serve, serverApi, smallLibrary, type Served } from './harness';

const skip = browserMissing();

interface AuditDoc {
  findings: Array<{ id: number; kind: string; status: string; images: string[] }>;
}

describe('the studio in Chromium (serve mode)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let data: DatasetManifest;
  let library: string;
  /** The library's numbers right after the import, read through the CLI. */
  let stats: Stats;
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  const cli = libraryCli(() => library);
  const api = serverApi(() => server);
  const shot = screenshotter(() => page);

  before(async () => {
    const made = await smallLibrary('e2e', cleanups, { n: 40, defects: true, seed: 3, maxSize: 256 });
    ({ library, data } = made);
    server = await serve(library, {}, [made.dataRoot]);
    ({ browser, page } = await openStudio(server, problems, { viewport: { width: 1280, height: 800 } }));
  });

  after(() => closeStudio(browser, server, cleanups));

  test('the token moved into a cookie and out of the address bar', () => {
    assert.ok(!page.url().includes('token='), page.url());
  });

  test('import: a wrong folder is an error message, the right one a finished job', async () => {
    await page.getByTestId('library-empty').waitFor();
    await page.getByTestId('open-import').click();
    await page.getByTestId('import-dir').fill(join(data.root, 'no-such-folder'));
    await page.getByTestId('import-start').click();
    const error = page.getByTestId('import-error');
    await error.waitFor();
    assert.match(await error.innerText(), /^the image folder was not found: /);

    await page.getByTestId('import-dir').fill(data.imagesDir);
    // the error was about the folder typed before: it goes with a new path
    await error.waitFor({ state: 'detached' });
    // Into the labels field: leaving the folder looks beside it, and what it finds is not written into the
    // field the person is in (it once was, in front of the path being typed: 'labels.csv/…/labels.csv').
    await page.getByTestId('import-labels').focus();
    await page.locator(`[data-testid=import-dialog][data-detected="${data.imagesDir}"]`).waitFor();
    assert.equal(await page.getByTestId('import-labels').inputValue(), '');
    await page.getByTestId('import-labels').fill(data.labelsCsv);
    await page.getByTestId('import-test-dir').fill(data.testDir);
    // the sample submission was found beside the folder; emptied by the person, it stays empty
    assert.equal(await page.getByTestId('import-sample').inputValue(), data.sampleSubmission);
    await page.getByTestId('import-sample').fill('');
    // the classes, as --classes gives them: one alone is said at once and nothing can start
    await page.getByTestId('import-classes').fill('1');
    assert.equal(await page.getByTestId('import-classes-problem').innerText(), 'give two classes or more, separated by commas');
    assert.ok(await page.getByTestId('import-start').isDisabled());
    await page.getByTestId('import-classes').fill(' 0, 1 ');
    await page.getByTestId('import-start').click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor().catch(async (err: unknown) => {
      // What the page and the server said, so a failure here names its cause rather than only the wait.
      await shot('import-failed');
      const dialog = await page.getByTestId('import-dialog').innerText().catch(() => '(no dialog)');
      const jobList = await api('jobs.list', {}).catch((e: unknown) => String(e));
      throw new Error(`no import summary: ${String(err)}\ndialog: ${dialog}\njobs: ${JSON.stringify(jobList)}\nproblems: ${problems.join('; ')}`);
    });
    stats = await cli<Stats>('stats');
    assert.equal(stats.images, Object.keys(data.paths).length);
    assert.equal((await api('library.info', {})).sampleSubmission, null);
    assert.match(await summary.innerText(), new RegExp(`Imported ${stats.images} files`));
    await shot('import');
    await page.getByTestId('import-done').click();
  });

  test('the grid shows every image with its thumbnail', async () => {
    await page.locator(`[data-testid=grid][data-total="${stats.images}"]`).waitFor();
    assert.equal(await page.getByTestId('grid-count').innerText(), `${stats.images} images`);
    await page.locator('[data-testid=cell][data-id] img').first().waitFor();
    await page.waitForFunction(() => {
      const imgs = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid=cell] img'));
      return imgs.length > 0 && imgs.slice(0, 8).every((i) => i.complete && i.naturalWidth > 0);
    });
    await shot('library');
  });

  test('label with the keyboard, then undo with z', async () => {
    const first = page.locator('[data-testid=cell][data-index="0"]');
    await first.click();
    const before = await first.getAttribute('data-label');
    const name = await first.locator('img').getAttribute('alt');
    assert.ok(name);
    const target = before === '1' ? '0' : '1';
    await page.keyboard.press(target);
    await page.locator(`[data-testid=cell][data-index="0"][data-label="${target}"]`).waitFor();
    await page.locator('[data-testid=save-status][data-pending="0"]:not([data-ms=""])').waitFor();
    const labelled = await cli<HistoryEntry[]>('history', '--limit', '1');
    assert.equal(labelled[0]?.kind, 'label');
    assert.ok(labelled[0]?.image.endsWith(name), `${labelled[0]?.image} is ${name}`);
    assert.equal(labelled[0]?.newValue, target);
    assert.equal(labelled[0]?.state, 'done');

    await page.keyboard.press('z');
    await page.locator(`[data-testid=cell][data-index="0"][data-label="${before ?? ''}"]`).waitFor();
    await page.getByTestId('notice-info').filter({ hasText: 'Undid 1 change' }).waitFor();
    const undone = await cli<HistoryEntry[]>('history', '--limit', '1');
    assert.equal(undone[0]?.state, 'undone');
  });

  test('a key on a submission image asks first: its label would be used by nothing', async () => {
    await page.getByTestId('filter-split').selectOption('submission');
    const first = page.locator('[data-testid=cell][data-index="0"]');
    await first.waitFor();
    await first.click();
    const before = await first.getAttribute('data-label');
    const history = (await cli<HistoryEntry[]>('history', '--limit', '1'))[0]?.id;
    await page.keyboard.press('1');
    assert.match(await page.getByTestId('confirm-dialog').innerText(), /This image is in the submission split/);
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    assert.equal(await first.getAttribute('data-label'), before);
    assert.equal((await cli<HistoryEntry[]>('history', '--limit', '1'))[0]?.id, history);
    await page.getByTestId('filter-split').selectOption('any');
    await page.locator('[data-testid=cell][data-index="0"]').waitFor();
    // a selection of every image, some in the submission split: the question names the whole change
    const total = (await api('images.list', { filter: {}, limit: 1 })).total;
    await page.locator(`[data-testid=grid][data-total="${total}"]`).waitFor();
    await page.locator('[data-testid=cell][data-index="0"]').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('1');
    const asked = await page.getByTestId('confirm-dialog').innerText();
    assert.match(asked, new RegExp(`Relabel ${total.toLocaleString('en')} selected images as “`));
    assert.match(asked, new RegExp(`\\d+ images? of the ${total.toLocaleString('en')} (is|are) in the submission split`));
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    assert.equal((await cli<HistoryEntry[]>('history', '--limit', '1'))[0]?.id, history);
    await page.locator('[data-testid=cell][data-index="0"]').click();
  });

  test('a page read that began before a keypress was stored does not show the old label again', async () => {
    const [a, b] = [page.locator('[data-testid=cell][data-index="0"]'), page.locator('[data-testid=cell][data-index="1"]')];
    await a.click();
    const aBefore = await a.getAttribute('data-label');
    const bBefore = await b.getAttribute('data-label');
    const bId = Number(await b.getAttribute('data-id'));
    const target = aBefore === '1' ? '0' : '1';
    const other = bBefore === '1' ? '0' : '1';
    // hold the page's labels.set until the grid has read its page again without it
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const routed = new Set<Promise<void>>();
    await page.route('**/api/call', (route) => {
      const going = (route.request().postData()?.includes('"labels.set"') ? held : Promise.resolve()).then(() => route.continue());
      routed.add(going);
      return going;
    });
    try {
      await page.keyboard.press(target);
      await page.locator(`[data-testid=cell][data-index="0"][data-label="${target}"]`).waitFor();
      // another writer's change: the server says library.changed and the page reads its rows again
      await api('labels.set', { images: [bId], label: other });
      await page.locator(`[data-testid=cell][data-index="1"][data-label="${other}"]`).waitFor();
      assert.equal(await a.getAttribute('data-label'), target, 'the read without the keypress must not undo it on screen');
    } finally {
      release();
      await Promise.all(routed);
      await page.unroute('**/api/call');
    }
    await page.locator('[data-testid=save-status][data-pending="0"]').waitFor();
    await page.locator(`[data-testid=cell][data-index="0"][data-label="${target}"]`).waitFor();
    // as it was, for the tests after this one
    assert.ok(aBefore && bBefore, 'the synthetic images are labelled');
    await api('labels.set', { images: [bId], label: bBefore });
    await page.keyboard.press(aBefore);
    await page.locator(`[data-testid=cell][data-index="0"][data-label="${aBefore}"]`).waitFor();
    await page.locator(`[data-testid=cell][data-index="1"][data-label="${bBefore}"]`).waitFor();
  });

  test('preview, range selection, select all, and a class filter', async () => {
    await page.locator('[data-testid=cell][data-index="0"]').click();
    await page.keyboard.press(' ');
    await page.locator('[data-testid=preview] img').waitFor();
    await page.waitForFunction(() => {
      const img = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid=preview] img'))[0];
      return img !== undefined && img.complete && img.naturalWidth > 0;
    });
    await page.keyboard.press('Escape');
    await page.getByTestId('preview').waitFor({ state: 'detached' });
    // a mouse closes it too
    await page.keyboard.press(' ');
    await page.getByTestId('preview-close').click();
    await page.getByTestId('preview').waitFor({ state: 'detached' });

    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await page.getByTestId('bulk-bar').filter({ hasText: '3 selected' }).waitFor();
    await page.keyboard.press('Control+a');
    await page.getByTestId('bulk-bar').filter({ hasText: `${stats.images} selected` }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('bulk-bar').waitFor({ state: 'detached' });

    const masks = stats.byClassAndSplit.filter((r) => r.label === '1').reduce((a, r) => a + r.count, 0);
    await page.getByTestId('filter-label').selectOption('1');
    await page.locator(`[data-testid=grid][data-total="${masks}"]`).waitFor();
    assert.equal(await page.locator('[data-testid=cell][data-id]:not([data-label="1"])').count(), 0);
    await page.getByTestId('filter-label').selectOption('any');
    await page.locator(`[data-testid=grid][data-total="${stats.images}"]`).waitFor();
  });

  test('exclude a duplicate from Review, keeping the suggested keeper', async () => {
    await page.getByTestId('nav-review').click();
    const item = page.getByTestId('review-item');
    await item.waitFor();
    // Skip to the exact duplicate group: one decision at a time, as a person would.
    for (let i = 0; i < 40 && (await item.getAttribute('data-kind')) !== 'exact-duplicate'; i++) {
      const id = await item.getAttribute('data-finding-id');
      await page.keyboard.press('s');
      await page.locator(`[data-testid=review-item]:not([data-finding-id="${id}"]), [data-testid=review-done]`).first().waitFor();
    }
    assert.equal(await item.getAttribute('data-kind'), 'exact-duplicate');
    await page.locator('[data-testid=evidence-image]').nth(1).waitFor();
    const keeperName = await page.locator('[data-testid=evidence-image][data-keeper="true"] strong').innerText();
    const others = await page.locator('[data-testid=evidence-image][data-keeper="false"] strong').allInnerTexts();
    assert.ok(others.length >= 1);
    await shot('review');
    const findingId = await item.getAttribute('data-finding-id');
    await page.keyboard.press('x');
    await page.locator(`[data-testid=review-item]:not([data-finding-id="${findingId}"]), [data-testid=review-done]`).first().waitFor();
    assert.match(await page.getByTestId('review-progress').innerText(), /decided\s*1 \/ /);

    // A fresh audit no longer sees the group: only the keeper of those bytes is still included.
    const audit = await cli<AuditDoc>('audit');
    const stillOpen = audit.findings.filter((f) => f.kind === 'exact-duplicate' && f.status === 'open' && f.images.includes(keeperName));
    assert.deepEqual(stillOpen, []);
    const hist = await cli<HistoryEntry[]>('history', '--limit', '5');
    const excluded = hist.filter((h) => h.kind === 'exclusion' && h.state === 'done' && h.newValue !== null).map((h) => h.image);
    assert.deepEqual(excluded.sort(), [...others].sort());
    assert.ok(!excluded.includes(keeperName));
  });

  test("Insights draws its charts and box plots", async () => {
    await page.getByTestId('nav-insights').click();
    for (const id of ['chart-balance', 'chart-formats', 'chart-scatter']) {
      await page.locator(`[data-testid=${id}][data-rendered="true"]`).waitFor();
      const painted = await page.getByTestId(id).evaluate((el) => {
        const c = el as unknown as CanvasLike;
        const ctx = c.getContext('2d');
        if (!ctx) return 0;
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) n++;
        return n;
      });
      assert.ok(painted > 500, `${id} painted ${painted} pixels`);
    }
    assert.ok(stats.width);
    const outliers = await page.getByTestId('box-width-outliers').innerText();
    assert.equal(outliers, `${stats.width.outliers} ${stats.width.outliers === 1 ? 'outlier' : 'outliers'}`);
    await shot('insights');
  });

  test('train a tiny scratch run from the Train view and watch its progress reach the end', async () => {
    await cli('split', '--seed', '1');
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-view').waitFor();
    await page.getByTestId('train-model-scratch').check();
    // a bad value is said in the form at once, in the contract's words, and nothing can start
    await page.getByTestId('train-epochs').fill('0');
    await page.getByTestId('train-input-size').fill('4');
    assert.equal(await page.getByTestId('train-settings-error').innerText(), 'The number of epochs must be more than 0 (got 0). The input size must be at least 8 (got 4).');
    assert.ok(await page.getByTestId('train-start').isDisabled());
    // text that is no number is quoted as typed, not "got NaN", beside the other complaints
    await page.getByTestId('train-epochs').fill('abc');
    assert.equal(await page.getByTestId('train-settings-error').innerText(), "The number of epochs must be a number (got 'abc'). The input size must be at least 8 (got 4).");
    // a ticked model these settings cannot train says why, where Train was only disabled
    await page.getByTestId('train-model-inception_v3').check();
    await page.getByTestId('train-input-size').fill('48');
    assert.match(await page.locator('[data-testid=train-will-skip] li[data-model=inception_v3]').innerText(), /inception_v3 will not train: needs an input size of at least 75 px; the input size is 48 px/);
    await page.getByTestId('train-model-inception_v3').uncheck();
    await page.getByTestId('train-will-skip').waitFor({ state: 'detached' });
    await page.getByTestId('train-epochs').fill('2');
    await page.getByTestId('train-input-size').fill('32');
    await page.getByTestId('train-settings-error').waitFor({ state: 'detached' });
    await page.getByTestId('train-faces').check();
    await page.getByTestId('train-start').click();
    // The bar stays once the job ends: full when it finished, where it stopped otherwise.
    const ended = page.locator('[data-testid=train-run-progress]:not([data-status=running])');
    await ended.waitFor({ timeout: 90_000 });
    assert.equal(await ended.getAttribute('data-status'), 'done');
    const bar = page.getByTestId('train-progress');
    const total = Number(await bar.getAttribute('data-total'));
    assert.ok(total > 0, `total ${total}`);
    assert.equal(Number(await bar.getAttribute('data-done')), total);
    // the last phase's "3 / 3" after 2 epochs read as a third epoch: a finished run says "done" alone
    assert.equal((await bar.innerText()).trim(), 'this run: done');
    const row = page.locator('[data-testid=run-row][data-status=done]');
    await row.waitFor();
    assert.equal(await page.getByTestId('run-row').count(), 1);
    assert.match(await row.innerText(), /scratch/);
    await page.locator('[data-testid=train-curves][data-rendered="true"]').waitFor();
    // a single-split run: its four series and an epochs table without a fold column (folds.test.ts has a K-fold run's)
    assert.deepEqual(JSON.parse((await page.getByTestId('train-curves').getAttribute('data-series')) ?? '[]'), ['loss', 'val loss', 'AUC', 'val AUC']);
    assert.equal(await page.getByTestId('train-epochs-detail').getAttribute('data-folds'), 'false');
    assert.equal(await page.getByTestId('epoch-row').count(), 2);
    assert.equal(await page.getByTestId('epochs-fold-head').count(), 0);

    const runs = await cli<RunInfo[]>('runs');
    assert.equal(runs.length, 1);
    const run = runs[0];
    assert.ok(run);
    assert.equal(run.status, 'done');
    assert.equal(run.model, 'scratch');
    assert.equal(run.inputSize, 32);
    assert.equal(run.config['epochs'], 2);
    // the box reaches the run: its rows were scored with their faces after training
    assert.equal(run.config['faces'], true);
    assert.equal(typeof run.config['facesScored'], 'object', JSON.stringify(run.config));
    assert.ok(run.trainImages > 0 && run.valImages > 0, `${run.trainImages} train, ${run.valImages} val`);
    await shot('train');
  });

  test('the Doctor shows the backend in use, as `mask-studio doctor` reports it', async () => {
    await page.getByTestId('nav-doctor').click();
    await page.getByTestId('doctor-view').waitFor();
    const expected = await cli<DoctorReport>('doctor');
    const backend = page.getByTestId('doctor-backend');
    await backend.waitFor({ timeout: 60_000 });
    assert.equal(await backend.getAttribute('data-backend'), expected.chosen.name);
    assert.ok((await backend.innerText()).includes(expected.chosen.device), await backend.innerText());
    const engine = await page.getByTestId('doctor-engine').innerText();
    assert.ok(expected.onnxRuntime.loads ? engine.includes(`ONNX Runtime on ${expected.onnxRuntime.report.trains.provider}`) : engine.includes('TensorFlow.js'), engine);
    assert.equal(await page.getByTestId('doctor-backend-row').count(), expected.backends.length);
    const loads = await page.locator('[data-testid=doctor-backend-row][data-loads="true"]').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { name: string } }).dataset.name));
    assert.deepEqual(loads, expected.backends.filter((b) => b.loads).map((b) => b.name));
    const missing = expected.weights.models.filter((w) => w.pretrained && !w.present);
    for (const w of missing) {
      const text = await page.locator(`[data-testid=doctor-weights-row][data-model="${w.model}"]`).innerText();
      assert.ok(text.includes(`mask-studio weights fetch ${w.model}`), text);
      // InceptionV3 trains offline from nsfwjs: not "missing" beside a Train view that offers it
      assert.equal(/^\S+\s+missing/.test(text), w.alternatives.length === 0, text);
      if (w.alternatives.length > 0) assert.ok(text.includes(`trains offline with --weights ${w.alternatives.join(', ')}`), text);
    }
    assert.ok(missing.some((w) => w.alternatives.length > 0), 'nsfwjs is installed: InceptionV3 has an offline alternative');
    assert.equal(await page.getByTestId('doctor-error').count(), 0);
    await shot('doctor');
  });

  test('the run trained from the Train view is in Compare, marked best', async () => {
    await page.getByTestId('nav-compare').click();
    await page.getByTestId('compare-view').waitFor();
    const [run] = await cli<RunInfo[]>('runs');
    assert.ok(run);
    const row = page.locator(`[data-testid=compare-row][data-id="${run.id}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-best'), 'true');
    // the comparison tests (compare.test.ts) take the Compare screenshots, with several runs
  });

  test('deleting a run asks first: Cancel keeps it, the confirmed delete removes it', async () => {
    await page.getByTestId('nav-train').click();
    const [run] = await cli<RunInfo[]>('runs');
    assert.ok(run);
    const row = page.locator(`[data-testid=run-row][data-id="${run.id}"]`);
    await row.getByTestId('run-delete').click();
    assert.match(await page.getByTestId('confirm-dialog').innerText(), /cannot be undone/);
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    assert.deepEqual((await cli<RunInfo[]>('runs')).map((r) => r.id), [run.id]);
    await row.getByTestId('run-delete').click();
    await page.getByTestId('confirm-ok').click();
    await row.waitFor({ state: 'detached' });
    assert.deepEqual(await cli<RunInfo[]>('runs'), []);
  });

  test('no page errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

if (skip) test('the studio in Chromium', { skip }, () => {});
