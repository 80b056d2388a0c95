/**
 * Findings from a walk of the studio as a new user, checked in Chromium on a library of the synthetic dataset
 * with its planted defects: near-duplicate pairs sit together under the finding filter, a small photo fills
 * the preview, the "!" badge opens Review on its image's findings, a label doubt highlights its suggestion
 * only on strong evidence, and Train marks a run trained before the data changed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { excludeImages } from '../../electron/core/dataset/edits';
import { saveDoubts, writeDoubtFindings } from '../../electron/core/doubts/store';
import { openLibrary } from '../../electron/core/library';
import { createRun, trainingSet } from '../../electron/core/ml/runs/store';
import { browserMissing, closeStudio, libraryCli, openStudio, screenshotter, serve, serverApi, smallLibrary, type Served } from './harness';

const skip = browserMissing();

/** What the test plants straight into the library before the server opens it: two label doubts and two runs. */
function plant(library: string): { strong: number; weak: number } {
  const lib = openLibrary(library, { create: false });
  try {
    const set = trainingSet(lib.db);
    const [a, b] = set.train;
    if (!a || !b) throw new Error('the split left fewer than two training images');
    const doubt = (img: { id: number; sha256: string; label: number }, rank: number, probability: number, expectedPrecision: number) => ({
      imageId: img.id, sha256: img.sha256, given: set.classes[img.label] ?? '', suggested: set.classes[1 - img.label] ?? '', probability, rank, expectedPrecision,
    });
    saveDoubts(
      lib.db,
      { model: 'planted', weights: 'imagenet', inputSize: 96, runId: null, folds: 5, seed: 1, images: set.train.length, thresholds: {}, oofAuc: 0.95, l2: 1, seconds: 1, calibration: null, tta: null, faces: false },
      [doubt(a, 1, 0.02, 0.9), doubt(b, 2, 0.3, 0.5)],
    );
    writeDoubtFindings(lib.db);
    // a run, then an exclusion, then a run: the first trained on data the library no longer has
    const run = (id: string): void => {
      createRun(lib.db, { id, model: 'scratch', config: {}, backend: 'cpu', jobId: null, set: trainingSet(lib.db), weightsSource: 'none', inputSize: 32 });
      lib.db.prepare("UPDATE runs SET status = 'done', finished_at = started_at WHERE id = ?").run(id);
    };
    run('20260101-000000-scratch-before');
    const last = set.train.at(-1);
    const name = last ? (lib.db.prepare('SELECT rel_path FROM images WHERE id = ?').get(last.id) as { rel_path: string }).rel_path : '';
    excludeImages(lib.db, [name], 'blurry');
    run('20260101-000100-scratch-after');
    return { strong: a.id, weak: b.id };
  } finally {
    lib.close();
  }
}

describe('the walk\'s findings in Chromium (serve mode)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let library: string;
  let doubts: { strong: number; weak: number };
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  const cli = libraryCli(() => library);
  const api = serverApi(() => server);
  const shot = screenshotter(() => page);

  before(async () => {
    const made = await smallLibrary('e2e-views', cleanups, { n: 40, defects: true, seed: 3, maxSize: 256 }, 'zindi');
    library = made.library;
    await cli('audit');
    doubts = plant(library);
    server = await serve(library, {}, [made.dataRoot]);
    ({ browser, page } = await openStudio(server, problems, { viewport: { width: 1280, height: 800 } }));
  });

  after(() => closeStudio(browser, server, cleanups));

  test('the near-duplicate filter lists each group together', async () => {
    const expected = await api('images.list', { filter: { findingKind: 'near-duplicate' }, limit: 100 });
    assert.ok(expected.total >= 4, `the two planted near-duplicate pairs (${expected.total} images)`);
    await page.getByTestId('filter-finding').selectOption('near-duplicate');
    await page.locator(`[data-testid=grid][data-total="${expected.total}"]`).waitFor();
    await page.locator(`[data-testid=cell][data-index="${expected.total - 1}"][data-group]`).waitFor();
    const groups = await page.locator('[data-testid=cell][data-id]').evaluateAll((cells) =>
      cells
        .map((c) => c as unknown as { dataset: { index?: string; group?: string } })
        .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
        .map((c) => c.dataset.group ?? ''),
    );
    assert.equal(groups.length, expected.total);
    // each group's members are one run of cells: a group seen once never comes back after another
    const seen = new Set<string>();
    groups.forEach((g, i) => {
      assert.ok(g !== '', `cell ${i} names its group`);
      if (i > 0 && groups[i - 1] !== g) assert.ok(!seen.has(g), `group ${g} is split apart: ${groups.join(' ')}`);
      seen.add(g);
    });
    await shot('views-near-duplicates');
    await page.getByTestId('filter-finding').selectOption('any');
  });

  test('a small photo is scaled up to fill the preview, its aspect kept', async () => {
    await page.locator('[data-testid=cell][data-index="0"]').click();
    await page.keyboard.press(' ');
    await page.waitForFunction(() => {
      const img = Array.from((globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean; naturalWidth: number }> } }).document.querySelectorAll('[data-testid=preview-image]'))[0];
      return img !== undefined && img.complete && img.naturalWidth > 0;
    });
    const size = await page.getByTestId('preview-image').evaluate((el) => {
      const img = el as unknown as { naturalWidth: number; naturalHeight: number; clientWidth: number; clientHeight: number };
      return { nw: img.naturalWidth, nh: img.naturalHeight, w: img.clientWidth, h: img.clientHeight };
    });
    assert.ok(size.nw <= 256 && size.nh <= 256, `a small synthetic photo (${size.nw}×${size.nh})`);
    // object-fit: contain draws the picture at the box's smaller ratio: well above 1 in a 1280×800 window
    const scale = Math.min(size.w / size.nw, size.h / size.nh);
    assert.ok(scale > 2, `the ${size.nw}×${size.nh} photo is drawn ${scale.toFixed(2)}× in a ${size.w}×${size.h} box`);
    await shot('views-preview');
    await page.keyboard.press('Escape');
    await page.getByTestId('preview').waitFor({ state: 'detached' });
  });

  test('the "!" badge opens Review on the findings of its image; f does the same from the keyboard', async () => {
    const flagged = page.locator('[data-testid=cell]:has([data-testid=cell-finding])').first();
    await flagged.waitFor();
    const id = await flagged.getAttribute('data-id');
    assert.ok(id);
    await flagged.getByTestId('cell-finding').click();
    await page.locator(`[data-testid=review-image-scope][data-image="${id}"]`).waitFor();
    await page.getByTestId('review-item').waitFor();
    // every finding in this queue names the image
    const mine = await api('findings.list', { status: 'open', imageId: Number(id) });
    assert.ok(mine.total >= 1);
    assert.match(await page.getByTestId('review-position').innerText(), new RegExp(`of ${mine.total}$`));
    await page.locator(`[data-testid=evidence-image][data-id="${id}"]`).first().waitFor();
    await shot('views-review-of-image');
    // the whole queue again
    const all = await api('findings.list', { status: 'open' });
    await page.getByTestId('review-all').click();
    await page.getByTestId('review-image-scope').waitFor({ state: 'detached' });
    await page.getByTestId('review-position').filter({ hasText: new RegExp(`of ${all.total}$`) }).waitFor();

    // from the keyboard: the focused image's findings
    await page.getByTestId('nav-library').click();
    await flagged.click();
    await page.keyboard.press('f');
    await page.locator(`[data-testid=review-image-scope][data-image="${id}"]`).waitFor();
    // Review opened from the menu shows the whole queue, not the last image's
    await page.getByTestId('nav-library').click();
    await page.getByTestId('nav-review').click();
    await page.getByTestId('review-item').waitFor();
    assert.equal(await page.getByTestId('review-image-scope').count(), 0);
  });

  test("a label doubt highlights 'accept' only on strong evidence, and 'keep' never", async () => {
    await page.getByTestId('review-kind').selectOption('label-doubt');
    const item = page.locator('[data-testid=review-item][data-kind=label-doubt]');
    await item.waitFor();
    await page.locator(`[data-testid=evidence-image][data-id="${doubts.strong}"]`).first().waitFor();
    await page.locator('[data-testid=doubt-precision]').waitFor();
    await page.locator('[data-testid=review-accept][data-default=true]').waitFor();
    assert.ok(await page.getByTestId('review-accept').evaluate((el) => (el as unknown as { classList: { contains(c: string): boolean } }).classList.contains('primary')));
    assert.ok(!(await page.getByTestId('review-keep').evaluate((el) => (el as unknown as { classList: { contains(c: string): boolean } }).classList.contains('primary'))));
    await shot('views-review-strong-doubt');
    await page.getByTestId('review-skip').click();
    await page.locator(`[data-testid=evidence-image][data-id="${doubts.weak}"]`).first().waitFor();
    await page.locator('[data-testid=doubt-precision][data-value="0.5"]').waitFor();
    assert.equal(await page.getByTestId('review-accept').getAttribute('data-default'), 'false');
    assert.equal(await page.locator('[data-testid=review-item] .actions button.primary').count(), 0, 'a weak doubt highlights no button');
  });

  test('Train marks the run trained before an exclusion: data changed since', async () => {
    await page.getByTestId('nav-train').click();
    const before = page.locator('[data-testid=run-row][data-id="20260101-000000-scratch-before"]');
    await before.getByTestId('run-data-changed').waitFor();
    assert.match((await before.getByTestId('run-data-changed').getAttribute('title')) ?? '', /changed after this run was trained/);
    const afterRow = page.locator('[data-testid=run-row][data-id="20260101-000100-scratch-after"]');
    await afterRow.waitFor();
    assert.equal(await afterRow.getByTestId('run-data-changed').count(), 0);
    await shot('views-train-data-changed');
  });

  test('no page errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

if (skip) test("the walk's findings in Chromium", { skip }, () => {});
