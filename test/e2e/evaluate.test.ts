/**
 * "Score on another folder…" in the Compare view, in Chromium against `mask-studio serve --data-root EXT`: two
 * tiny scratch runs trained through the CLI, then an external folder of other generated faces in two class
 * subfolders (`no_mask/`, `mask/`, with an unreadable file and a note) scored from the dialog. The table's AUC
 * per run and DeLong's p are those `mask-studio evaluate --json` gives for the same input. Bad input shows
 * its message in the dialog: a folder outside the data root (the core's), subfolders not mapped (the dialog's),
 * a class subfolder without images (the core's); a started scoring can be cancelled. Waits are on data-testids.
 */
import { mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { RunInfo } from '../../shared/contract';
import type { EvaluateResult } from '../../shared/contract-evaluate';
import { generateClassFolders, type ClassFoldersManifest } from '../fixtures/synthetic';
import { browserMissing, closeStudio, libraryCli, openStudio, screenshotter, serve, smallLibrary, type Served } from './harness';

const skip = browserMissing();

describe('scoring runs on another folder from the Compare view (serve mode)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let library: string;
  let root: string;
  /** The external folder: `no_mask/` and `mask/` (its class names are '0' "no mask" and '1' "mask"). */
  let faces: ClassFoldersManifest;
  let runs: RunInfo[] = [];
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  const cli = libraryCli(() => library);
  const shot = screenshotter(() => page);

  before(async () => {
    ({ root, library } = await smallLibrary('e2e-evaluate', cleanups, { n: 40, testN: 4, seed: 11, minSize: 64, maxSize: 128 }, 'labels'));
    for (const seed of ['1', '2']) await cli('train', '--model', 'scratch', '--epochs', '2', '--input-size', '32', '--seed', seed);
    runs = await cli<RunInfo[]>('runs');
    faces = await generateClassFolders(join(root, 'external', 'faces'), { n: 24, seed: 5, minSize: 64, maxSize: 128 });
    writeFileSync(join(faces.root, 'mask', 'broken.jpg'), 'not a JPEG at all');
    writeFileSync(join(faces.root, 'mask', 'notes.txt'), 'where these came from');
    // a class subfolder without images: the core refuses it when scoring starts
    const oneClass = join(root, 'external', 'one-class');
    mkdirSync(join(oneClass, 'no_mask'), { recursive: true });
    mkdirSync(join(oneClass, 'mask'));
    copyFileSync(join(faces.root, faces.classes.no_mask[0] ?? ''), join(oneClass, 'no_mask', 'a.jpg'));
    writeFileSync(join(oneClass, 'mask', 'readme.txt'), 'no images here');
    server = await serve(library, {}, [join(root, 'external')]);
    ({ browser, page } = await openStudio(server, problems, { viewport: { width: 1280, height: 800 } }));
  });

  after(() => closeStudio(browser, server, cleanups));

  /** Types a folder and waits until the dialog has asked the core about it (listed, or its message shown). */
  async function folder(path: string): Promise<void> {
    await page.getByTestId('eval-folder').fill(path);
    await page.getByTestId('eval-folder').blur();
    await page.locator(`[data-testid=eval-dialog][data-answered="${path}"]`).waitFor();
  }

  test('two finished runs; the dialog opens on the runs the view selected', async () => {
    assert.equal(runs.length, 2);
    await page.getByTestId('nav-compare').click();
    await page.locator('[data-testid=compare-row]').nth(1).waitFor();
    await page.getByTestId('open-evaluate').click();
    await page.getByTestId('eval-dialog').waitFor();
    const ticked = await page.locator('[data-testid=eval-run]:checked').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    assert.deepEqual(new Set(ticked), new Set(runs.map((r) => r.id)));
    assert.match(await page.getByTestId('eval-roots').innerText(), /must be inside this folder/);
  });

  test('a folder outside the data root: the core says so in the dialog, nothing starts', async () => {
    await folder(join(root, 'data'));
    const error = page.getByTestId('eval-error');
    assert.match(await error.innerText(), /the labelled folder .*data is outside the allowed folders \(only this folder may be read from this page: .*external\)/);
    assert.equal(await page.getByTestId('eval-classes').count(), 0);
    await page.getByTestId('eval-start').click();
    await page.getByTestId('eval-error').filter({ hasText: 'outside the allowed folders' }).waitFor();
    assert.equal(await page.getByTestId('eval-progress').count(), 0);
    await shot('evaluate-outside-root');
  });

  test('subfolders named like the classes are offered (in another spelling too); one not chosen is asked for', async () => {
    await folder(faces.root);
    assert.equal(await page.getByTestId('eval-error').count(), 0);
    // 'mask' is class 1's display name; 'no_mask' is 'no mask' spelt otherwise
    assert.equal(await page.getByTestId('eval-class-1').inputValue(), 'mask');
    assert.equal(await page.getByTestId('eval-class-0').inputValue(), 'no_mask');
    const options = await page.getByTestId('eval-class-0').locator('option').allInnerTexts();
    assert.deepEqual(options, ['choose…', `mask/ (${faces.classes.mask.length + 1} images)`, `no_mask/ (${faces.classes.no_mask.length} images)`]);
    // what Score will do, before it is pressed
    const n = faces.classes.mask.length + 1 + faces.classes.no_mask.length;
    assert.match(await page.getByTestId('eval-workload').innerText(), new RegExp(`^To score: ${n} images \\(${faces.classes.no_mask.length} \\+ ${faces.classes.mask.length + 1}\\) × `));
    await page.getByTestId('eval-class-0').selectOption('');
    await page.getByTestId('eval-start').click();
    assert.match(await page.getByTestId('eval-error').innerText(), /choose the subfolder that stands for each class/);
    await shot('evaluate-unmapped');
  });

  test('a class subfolder without images: the core refuses it in one line', async () => {
    await folder(join(root, 'external', 'one-class'));
    await page.getByTestId('eval-class-0').selectOption('no_mask');
    await page.getByTestId('eval-class-1').selectOption('mask');
    await page.getByTestId('eval-start').click();
    await page.getByTestId('eval-error').filter({ hasText: 'has no image' }).waitFor();
    assert.match(await page.getByTestId('eval-error').innerText(), /one-class\/mask has no image \(by extension\): evaluate needs images of both classes/);
  });

  test('a started scoring shows its progress and can be cancelled', async () => {
    await folder(faces.root);
    await page.getByTestId('eval-class-0').selectOption('no_mask');
    await page.getByTestId('eval-start').click();
    await page.getByTestId('eval-progress').waitFor();
    await shot('evaluate-running');
    await page.getByTestId('eval-cancel').click();
    await page.getByTestId('eval-error').filter({ hasText: 'the evaluation was cancelled' }).waitFor();
    await page.getByTestId('eval-progress').waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('eval-result').count(), 0);
  });

  test("the result beside the runs: each run's AUC, and DeLong's p, as `mask-studio evaluate --json` gives them", async () => {
    // a short window, as with many runs: the result comes below the table, out of sight, and is brought into view
    const size = page.viewportSize() ?? { width: 1280, height: 800 };
    await page.setViewportSize({ width: size.width, height: 420 });
    await page.getByTestId('eval-start').click();
    await page.getByTestId('eval-result').waitFor({ timeout: 600_000 });
    await page.getByTestId('eval-dialog').waitFor({ state: 'detached' });
    const seen = await page.getByTestId('eval-result').boundingBox();
    await page.setViewportSize(size);
    assert.ok(seen && seen.y >= 0 && seen.y < 420, `the result is in view: ${JSON.stringify(seen)} in a 420 px window`);
    const ids = runs.map((r) => ['--run', r.id]).flat();
    const expected = await cli<EvaluateResult>('evaluate', ...ids, faces.root, '--classes', 'no_mask,mask');
    const shown = page.locator('[data-testid=eval-row]');
    assert.deepEqual(await shown.evaluateAll((els) => els.map((e) => e.getAttribute('data-id'))), expected.runs.map((r) => r.runId));
    for (const [i, r] of expected.runs.entries()) {
      const row = shown.nth(i);
      assert.ok(r.row.auc !== null, `run ${r.runId} has no AUC`);
      assert.equal(Number(await row.getAttribute('data-auc')), r.row.auc);
      assert.ok((await row.getByTestId('eval-auc').innerText()).startsWith(r.row.auc.toFixed(4)));
      assert.match(await row.getByTestId('eval-own').innerText(), /^(\d\.\d{4}|–)\s+val$/);
      assert.equal(await row.getAttribute('data-drop'), r.drop === null ? '' : String(r.drop));
    }
    assert.ok(expected.delong);
    assert.equal(Number(await page.getByTestId('eval-delong').getAttribute('data-p')), expected.delong.p);
    assert.equal(await page.getByTestId('eval-unreadable').getAttribute('data-count'), '1');
    assert.equal(await page.getByTestId('eval-skipped').getAttribute('data-count'), '1');
    assert.deepEqual([expected.unreadable.length, expected.skipped], [1, 1]);
    await page.getByTestId('eval-result').scrollIntoViewIfNeeded();
    await shot('evaluate-result');
  });

  test('the table fits the window at 1,280 px, and stays until closed', async () => {
    const fits = await page.getByTestId('eval-table').evaluate((el) => {
      const t = el as unknown as { scrollWidth: number; parentElement: { clientWidth: number } | null };
      return t.scrollWidth <= (t.parentElement?.clientWidth ?? 0);
    });
    assert.ok(fits, 'the result table scrolls sideways at 1,280 px');
    await page.getByTestId('nav-train').click();
    await page.getByTestId('nav-compare').click();
    await page.getByTestId('eval-result').waitFor();
    await page.getByTestId('eval-result-close').click();
    await page.getByTestId('eval-result').waitFor({ state: 'detached' });
  });

  test('no page errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

if (skip) test('scoring runs on another folder', { skip }, () => {});
