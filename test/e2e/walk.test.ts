/**
 * A new user's walk through the studio in Chromium (serve mode) on the synthetic set with planted defects and
 * a format shortcut, checking each rough edge issue 11 found on the way: import through the dialog (the
 * labels CSV found beside the folder), label by keyboard (one focus ring, plurals), review a shortcut and a
 * label conflict (no bulk action without a question, undo reopens), split, "train all and compare" (scratch
 * and every model with offline weights; the others skipped with their reason), Compare at 1400 px (the table
 * fits, colours stay, a cell's images come into view), the submission, the model (a tar) and the report. Error
 * notices wrap, close, and never cover a dialog. Waits are on data-testids and events, never on time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { HistoryEntry } from '../../shared/contract';
import { findNsfwjs } from '../../electron/core/ml/weights/nsfwjs';
import type { DatasetManifest } from '../fixtures/synthetic';
import { browserMissing, closeStudio, compareTableFit, openStudio, screenshotter, serve, serverApi, smallLibrary, type Served } from './harness';
import type { ElementLike, PageGlobals } from './page-types';

const skip = browserMissing();
const VIEWPORT = { width: 1400, height: 900 };

describe('a new user walks the studio (serve mode, issue 11)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let data: DatasetManifest;
  let root: string;
  let library: string;
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  const api = serverApi(() => server);
  const shot = screenshotter(() => page);
  const lastHistory = async (): Promise<HistoryEntry | undefined> => (await api('history.list', { limit: 1 })).entries[0];

  before(async () => {
    ({ root, library, data } = await smallLibrary('e2e-walk', cleanups, { n: 120, testN: 8, defects: true, shortcut: true, seed: 5, minSize: 64, maxSize: 160 }));
    const weights = join(root, 'no-weights');
    mkdirSync(weights);
    // An empty weights cache: the machine's own downloads would change what "train all" trains. The page
    // imports from the data folder, as `serve --data-root` allows.
    server = await serve(library, { MASK_STUDIO_WEIGHTS_DIR: weights }, [join(root, 'data')]);
    ({ browser, page } = await openStudio(server, problems, { viewport: VIEWPORT, acceptDownloads: true }));
  });

  after(() => closeStudio(browser, server, cleanups));

  test('import: a folder with nothing beside it says so; the Zindi folder fills in its CSVs and test folder (bug 6)', async () => {
    await page.getByTestId('library-empty').waitFor();
    await page.getByTestId('open-import').click();
    const bare = join(root, 'data', 'bare', 'photos'); // inside the served --data-root
    mkdirSync(bare, { recursive: true });
    await page.getByTestId('import-dir').fill(bare);
    await page.getByTestId('import-labels-missing').waitFor();
    assert.match(await page.getByTestId('import-labels-missing').innerText(), /No labels CSV/);

    await page.getByTestId('import-dir').fill(data.imagesDir);
    await page.locator('[data-testid=import-labels][data-found=true]').waitFor();
    assert.equal(await page.getByTestId('import-labels').inputValue(), data.labelsCsv);
    assert.equal(await page.getByTestId('import-test-dir').inputValue(), data.testDir);
    assert.equal(await page.getByTestId('import-sample').inputValue(), data.sampleSubmission);
    assert.equal(await page.getByTestId('import-labels-missing').count(), 0);
    await shot('import-found');
    await page.getByTestId('import-start').click();
    await page.getByTestId('import-summary').waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('import-no-labels').count(), 0);
    const labelled = Number((await page.getByTestId('import-summary').innerText()).match(/(\d+) labelled/)?.[1]);
    assert.equal(labelled, Object.keys(data.labels).length);
    await page.getByTestId('import-done').click();
  });

  test('library: after a click and arrow keys one cell looks focused; a label by keyboard is stored; "1 image" (bug 15)', async () => {
    await page.locator('[data-testid=cell][data-index="0"] img').waitFor();
    await page.locator('[data-testid=cell][data-index="0"]').click();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.locator('[data-testid=cell][data-index="2"].focused').waitFor();
    const looksFocused = await page.locator('[data-testid=cell]').evaluateAll((cells) => {
      const g = globalThis as unknown as PageGlobals;
      return (cells as unknown as ElementLike[]).filter((c) => {
        const ring = c.matches(':focus-visible') && g.getComputedStyle(c).outlineStyle !== 'none';
        return ring || c.classList.contains('focused');
      }).length;
    });
    assert.equal(looksFocused, 1);

    const cell = page.locator('[data-testid=cell][data-index="2"]');
    const before = await cell.getAttribute('data-label');
    const target = before === '1' ? '0' : '1';
    await page.keyboard.press(target);
    await page.locator(`[data-testid=cell][data-index="2"][data-label="${target}"]`).waitFor();
    await page.locator('[data-testid=save-status][data-pending="0"]:not([data-ms=""])').waitFor();
    const h = await lastHistory();
    assert.equal(h?.newValue, target);
    assert.equal(h?.source, 'user');

    const name = (await cell.locator('img').getAttribute('alt')) ?? '';
    await page.getByTestId('filter-search').fill(name);
    await page.locator('[data-testid=grid][data-total="1"]').waitFor();
    assert.equal(await page.getByTestId('grid-count').innerText(), '1 image');
    await page.getByTestId('filter-search').fill('');
    await page.locator('[data-testid=grid]:not([data-total="1"])').waitFor();
  });

  test('review: the shortcut finding offers no relabel or exclude, and 0 changes nothing (bug 4)', async () => {
    const before = await lastHistory();
    await page.getByTestId('nav-review').click();
    await page.getByTestId('review-item').waitFor();
    await page.getByTestId('review-kind').selectOption('shortcut');
    const item = page.locator('[data-testid=review-item][data-kind=shortcut]');
    await item.waitFor();
    // the format shortcut (its PNGs) is the one a person would relabel by mistake
    for (let i = 0; i < 5 && (await item.getAttribute('data-images')) === '0'; i++) {
      const id = await item.getAttribute('data-finding-id');
      await page.getByTestId('review-skip').click();
      await page.locator(`[data-testid=review-item]:not([data-finding-id="${id}"])`).waitFor();
    }
    assert.ok(Number(await item.getAttribute('data-images')) > 1, 'no shortcut with images');
    await item.locator('[data-testid=evidence-image]').nth(1).waitFor();
    assert.equal(await page.getByTestId('review-exclude').count(), 0);
    assert.equal(await page.locator('[data-testid^=review-relabel-]').count(), 0);
    await page.getByTestId('review-shortcut-hint').waitFor();
    await shot('review-shortcut');
    const id = await item.getAttribute('data-finding-id');
    await page.keyboard.press('0');
    await page.keyboard.press('x');
    await page.keyboard.press('k'); // keep: the next item shows once the decision is written
    await page.locator(`[data-testid=review-item]:not([data-finding-id="${id}"]), [data-testid=review-done]`).first().waitFor();
    assert.equal(await page.getByTestId('confirm-dialog').count(), 0);
    assert.deepEqual(await lastHistory(), before, 'the shortcut keys changed the library');
  });

  test('review: relabelling a two-image finding asks first; undo restores the labels and reopens the finding (bug 4)', async () => {
    await page.getByTestId('review-kind').selectOption('label-conflict');
    const item = page.locator('[data-testid=review-item][data-kind=label-conflict]');
    await item.waitFor();
    const id = await item.getAttribute('data-finding-id');
    const before = await lastHistory();
    await page.keyboard.press('0');
    await page.getByTestId('confirm-dialog').waitFor();
    assert.match(await page.getByTestId('confirm-dialog').innerText(), /Relabel 2 images/);
    await shot('review-confirm');
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
    assert.deepEqual(await lastHistory(), before, 'cancelled, yet the labels changed');
    assert.equal(await item.getAttribute('data-finding-id'), id);

    await page.keyboard.press('0');
    await page.getByTestId('confirm-dialog').waitFor();
    await page.keyboard.press('Enter');
    await page.locator(`[data-testid=review-item]:not([data-finding-id="${id}"]), [data-testid=review-done]`).first().waitFor();
    // the image labelled 1 changed (the other one was 0 already)
    const done = await lastHistory();
    assert.ok(done && done.id !== before?.id);
    assert.deepEqual([done.newValue, done.state, done.source], ['0', 'done', 'user']);

    // z undoes in Review as in the Library (it did nothing here)
    await page.keyboard.press('z');
    const undoNotice = page.getByTestId('notice-info').filter({ hasText: 'the finding is open again' });
    await undoNotice.waitFor();
    await page.locator(`[data-testid=review-item][data-finding-id="${id}"]`).waitFor();
    const undone = (await api('history.list', { limit: 5 })).entries.filter((h) => h.batch === done.batch);
    assert.ok(undone.length > 0 && undone.every((h) => h.state === 'undone'), JSON.stringify(undone));
    const open = await api('findings.list', { kind: 'label-conflict', status: 'open' });
    assert.ok(open.findings.some((f) => String(f.id) === id), 'the label conflict is not open again');
    // an info notice goes by itself (bug 3); errors stay until closed
    await undoNotice.waitFor({ state: 'detached', timeout: 20_000 });
  });

  test('split from Insights', async () => {
    await page.getByTestId('nav-insights').click();
    await page.getByTestId('split-seed').fill('1');
    // a share written as a fraction (sklearn's 0.15) is 0.15 % here: said, not split into a handful of images
    await page.getByTestId('split-val').fill('0.15');
    await page.getByTestId('split-run').click();
    assert.equal(await page.getByTestId('split-problem').innerText(), 'the validation share is in percent: 0.15 % is almost no image (did you mean 15 %?)');
    await page.getByTestId('split-val').fill('15');
    const current = await api('stats.get', {});
    const assigned = current.byClassAndSplit.filter((c) => c.split === 'val' || c.split === 'test').length > 0;
    await page.getByTestId('split-run').click();
    // a library split already asks before assigning every image again
    if (assigned) await page.getByTestId('confirm-ok').click();
    await page.locator('[data-testid=split-summary][data-seed="1"]').waitFor();
  });

  test('a long error notice wraps inside the window, closes, and never covers a dialog (bug 3)', async () => {
    await page.getByTestId('nav-train').click();
    await page.getByTestId('train-models').waitFor({ timeout: 60_000 });
    await page.getByTestId('train-model-scratch').uncheck();
    await page.getByTestId('train-weights').selectOption('file');
    const missing = join(root, `${'a-folder-with-a-long-name-'.repeat(6)}`, 'weights-that-are-not-there.h5');
    await page.getByTestId('train-weights-file').fill(missing);
    await page.getByTestId('train-model-resnet50').check();
    await page.getByTestId('train-start').click();
    const notice = page.getByTestId('notice-error').filter({ hasText: 'resnet50 did not start' });
    await notice.waitFor();
    const box = await notice.boundingBox();
    const close = await notice.getByTestId('notice-close').boundingBox();
    assert.ok(box && close);
    assert.ok(box.x >= 0 && box.x + box.width <= VIEWPORT.width && box.width <= 481, `notice at ${JSON.stringify(box)}`);
    assert.ok(close.x + close.width <= VIEWPORT.width && close.y + close.height <= VIEWPORT.height, `close at ${JSON.stringify(close)}`);
    assert.ok(box.height > 40, 'the long text did not wrap');

    await page.getByTestId('open-import').click();
    await page.getByTestId('import-dialog').waitFor();
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const onTop = await page.evaluate(({ x, y }) => {
      const el = (globalThis as unknown as PageGlobals).document.elementFromPoint(x, y);
      return el?.closest('[data-testid=notice-error]') ? 'notice' : 'something else';
    }, centre);
    assert.equal(onTop, 'something else', 'the notice is drawn above the import dialog');
    await page.keyboard.press('Escape');
    await page.getByTestId('import-dialog').waitFor({ state: 'detached' });
    await notice.getByTestId('notice-close').click();
    await notice.waitFor({ state: 'detached' });
    await page.getByTestId('train-model-resnet50').uncheck();
    await page.getByTestId('train-weights').selectOption('best');
  });

  test('"Train all and compare": scratch and every model with offline weights, the others skipped with their reason', async () => {
    const offline = findNsfwjs() !== null;
    const expected = offline ? ['scratch', 'inception_v3'] : ['scratch'];
    for (const model of ['vgg19', 'inception_resnet_v2', 'resnet50', 'xception']) {
      const row = page.locator(`[data-testid=train-model-row][data-model=${model}]`);
      assert.equal(await row.getAttribute('data-available'), 'false', model);
      assert.match(await row.getByTestId('train-model-why').innerText(), new RegExp(`mask-studio weights fetch ${model}`));
    }
    assert.equal(await page.locator('[data-testid=train-model-row][data-model=inception_v3]').getAttribute('data-available'), offline ? 'true' : 'false');
    await page.getByTestId('train-epochs').fill('2');
    await page.getByTestId('train-input-size').fill('75');
    await page.getByTestId('train-all').click();
    // hours of work on a real machine: the studio asks first, naming the models
    assert.match(await page.getByTestId('confirm-dialog').innerText(), new RegExp(`Train ${expected.length} models?[\\s\\S]*${expected[0]}`));
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('train-queue-progress').waitFor();
    // the queue says which model of how many, not a percentage written as a count ('44 / 100')
    assert.match(await page.getByTestId('train-queue-progress').innerText(), new RegExp(`^queue: model \\d of ${expected.length} \\(`));
    await page.getByTestId('train-skipped').waitFor();
    await shot('train-all');
    await page.locator(`[data-testid=compare-view] [data-testid=compare-row] >> nth=${expected.length - 1}`).waitFor({ timeout: 240_000 });

    const runs = await api('runs.list', {});
    assert.deepEqual(runs.map((r) => r.model).sort(), [...expected].sort());
    assert.ok(runs.every((r) => r.status === 'done' && r.inputSize === 75), JSON.stringify(runs.map((r) => [r.model, r.status, r.inputSize])));
    assert.equal(await page.locator('[data-testid=compare-select]:checked').count(), runs.length);

    await page.getByTestId('nav-train').click();
    // The Train view draws after the click returns: wait for its card, or the rows are read before they exist.
    await page.getByTestId('train-skipped').waitFor();
    const skipped = await page.locator('[data-testid=train-skipped-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-model')));
    assert.deepEqual(skipped.sort(), ['inception_resnet_v2', 'resnet50', 'vgg19', 'xception', ...(offline ? [] : ['inception_v3'])].sort());
    for (const r of runs) {
      const row = page.locator(`[data-testid=run-row][data-id="${r.id}"]`);
      assert.equal(await row.getByTestId('run-input').innerText(), '75 px');
      assert.equal(await row.getByTestId('run-weights').innerText(), r.model === 'scratch' ? 'random init' : 'nsfwjs (offline)');
      assert.equal(await row.getByTestId('run-id').innerText(), r.id);
    }
  });

  test('compare at 1400 px: the table fits, colours stay with their runs, a cell opens in view (bug 13)', async () => {
    await page.getByTestId('nav-compare').click();
    const rows = page.locator('[data-testid=compare-row]');
    await rows.first().waitFor();
    // a table that only just fits here overflowed by 3 px on CI's: compareTableFit's narrowest must leave room
    const { scrollWidth, clientWidth, narrowest } = await compareTableFit(page);
    assert.ok(scrollWidth <= clientWidth + 1, `the table is ${scrollWidth} px in a ${clientWidth} px box`);
    assert.ok(narrowest + 40 <= clientWidth, `the table needs ${narrowest} px at its narrowest, in a ${clientWidth} px box`);
    for (const b of await page.getByTestId('download-submission').all()) {
      const bb = await b.boundingBox();
      assert.ok(bb && bb.x + bb.width <= VIEWPORT.width, `a submission button at ${JSON.stringify(bb)}`);
    }
    const colours = async (): Promise<string[]> => rows.evaluateAll((rs) => rs.map((r) => `${r.getAttribute('data-id')}=${r.getAttribute('data-colour')}`));
    const before = await colours();
    assert.equal(new Set(before.map((c) => c.split('=')[1])).size, before.length);
    const first = page.getByTestId('compare-select').first();
    await first.uncheck();
    await page.locator('[data-testid=chart-roc][data-rendered="true"]').waitFor();
    assert.deepEqual(await colours(), before);
    await first.check();
    assert.deepEqual(await colours(), before);
    await page.getByTestId('compare-view').evaluate((el) => {
      (el as unknown as { scrollTop: number }).scrollTop = 0;
    });
    await shot('compare-train-all');

    const cell = page.locator('[data-testid=confusion-atHalf] [data-testid=confusion-cell]:not([disabled])').first();
    await cell.click();
    const panel = page.getByTestId('cell-images');
    await panel.locator('[data-testid=cell-image] img').first().waitFor();
    const box = await panel.boundingBox();
    const img = await panel.locator('[data-testid=cell-image] img').first().boundingBox();
    assert.ok(box && box.y >= 0 && box.y < VIEWPORT.height, `the cell's panel opens at y ${box?.y}`);
    assert.ok(img && img.y + img.height <= VIEWPORT.height, `its first image ends at y ${img ? img.y + img.height : '?'}`);
    await shot('compare-cell-open');
  });

  test('the submission, the model as a tar and the report download (bug 16)', async () => {
    const best = page.locator('[data-testid=compare-row]').first();
    const [sub] = await Promise.all([page.waitForEvent('download'), best.getByTestId('download-submission').click()]);
    const lines = readFileSync(await sub.path(), 'utf8').trim().split(/\r?\n/);
    const sample = readFileSync(data.sampleSubmission, 'utf8').trim().split(/\r?\n/);
    assert.equal(lines.length, sample.length);

    await best.locator('td').nth(1).click();
    const exportButton = page.locator('[data-testid=export-model]:not([disabled])');
    await exportButton.waitFor();
    assert.match(await exportButton.innerText(), /^Download model/);
    // TensorFlow.js: the ONNX export builds its graph for a while, and the export tests cover it
    await page.getByTestId('export-format').selectOption('tfjs');
    const [model] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), exportButton.click()]);
    const folder = model.suggestedFilename().match(/^(.+-tfjs)\.tar$/)?.[1];
    assert.ok(folder, model.suggestedFilename());
    const tarPath = await model.path();
    const listed = spawnSync('tar', ['-tf', tarPath], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n').sort(), ['model-card.json', 'model.json', 'weights.bin'].map((f) => `${folder}/${f}`));
    const cardText = spawnSync('tar', ['-xOf', tarPath, `${folder}/model-card.json`], { encoding: 'utf8' });
    assert.equal(cardText.status, 0, cardText.stderr);
    const card = JSON.parse(cardText.stdout) as { inputSize?: number };
    assert.equal(card.inputSize, 75);

    const [report] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-report').click()]);
    assert.match(readFileSync(await report.path(), 'utf8'), /^<!doctype html>/i);
  });

  test('no page errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

if (skip) test('a new user walks the studio', { skip }, () => {});
