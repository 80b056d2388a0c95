/**
 * Reload and Back as a person uses them: the address names the view, and a page reloaded while a training
 * runs follows that training's own run (not a CLI run beside it), with its bar and Cancel.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { RunInfo } from '../../shared/contract';
import { REPO_ROOT } from '../helpers';
import { browserMissing, closeStudio, libraryCli, openStudio, serve, serverApi, smallLibrary, type Served } from './harness';

const skip = browserMissing();

describe('reload and Back (serve mode)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let library: string;
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  const cli = libraryCli(() => library);
  const api = serverApi(() => server);

  before(async () => {
    const made = await smallLibrary('e2e-reload', cleanups, { n: 24, seed: 7, maxSize: 128 }, 'labels');
    library = made.library;
    server = await serve(library, {}, [made.dataRoot]);
    ({ browser, page } = await openStudio(server, problems, { viewport: { width: 1280, height: 800 } }));
  });

  after(() => closeStudio(browser, server, cleanups));

  test('the address names the view: a reload keeps it, Back returns to the last one', async () => {
    await page.getByTestId('nav-compare').click();
    await page.getByTestId('compare-view').waitFor();
    await page.getByTestId('nav-doctor').click();
    await page.getByTestId('doctor-view').waitFor();
    assert.equal(new URL(page.url()).hash, '#/doctor');
    await page.reload();
    await page.getByTestId('doctor-view').waitFor();
    await page.goBack();
    await page.getByTestId('compare-view').waitFor();
    assert.equal(new URL(page.url()).hash, '#/compare');
    await page.goForward();
    await page.getByTestId('doctor-view').waitFor();
  });

  test('a training the page did not start is followed after a reload: its own run (not a CLI run beside it), its bar and Cancel', async () => {
    const running = async (n: number): Promise<void> => {
      while ((await cli<RunInfo[]>('runs')).filter((r) => r.status === 'running').length < n) await new Promise((r) => setTimeout(r, 200));
    };
    // a CLI training in another process, older, also 'running' in the runs table (listed first): the page must
    // not take it for its job's run. Neither stops early (patience): each runs until it is cancelled.
    const long = ['--epochs', '5000', '--input-size', '16', '--patience', '5000'];
    const other = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), '--library', library, 'train', '--model', 'scratch', ...long], { stdio: 'ignore' });
    const otherEnded = new Promise<number | null>((resolve) => other.on('close', resolve));
    try {
      await running(1);
      // started as another window (or this page before its reload) would: the page learns of it only from its events
      const started = await api('train.start', { model: 'scratch', epochs: 5_000, inputSize: 16, patience: 5_000, tta: 'flip' });
      await running(2);
      await page.reload();
      await page.getByTestId('nav-train').click();
      await page.locator('[data-testid=train-run-progress][data-status=running]').waitFor({ timeout: 60_000 });
      await page.locator('[data-testid=train-run-heading][data-run]').waitFor();
      assert.equal(await page.getByTestId('train-run-heading').getAttribute('data-run'), started.runId);
      // the form shows the settings the running job was started with, not the defaults
      await page.getByTestId('train-adopted').waitFor();
      assert.equal(await page.getByTestId('train-epochs').inputValue(), '5000');
      assert.equal(await page.getByTestId('train-input-size').inputValue(), '16');
      assert.equal(await page.getByTestId('train-tta').inputValue(), 'flip');
      assert.ok(await page.getByTestId('train-model-scratch').isChecked());
      await page.getByTestId('train-cancel').click();
      await page.locator('[data-testid=train-run-progress][data-status=cancelled]').waitFor({ timeout: 60_000 });
      await page.getByTestId('train-adopted').waitFor({ state: 'detached' });
      assert.equal((await cli<RunInfo[]>('runs')).find((r) => r.id === started.runId)?.status, 'cancelled');
    } finally {
      other.kill('SIGINT');
      await otherEnded;
    }
    assert.deepEqual((await cli<RunInfo[]>('runs')).map((r) => r.status), ['cancelled', 'cancelled']);
  });

  test('a job waiting its turn is shown after a reload, with what it waits for, and can be cancelled there', async () => {
    const training = await api('train.start', { model: 'scratch', epochs: 5_000, inputSize: 16, patience: 5_000 });
    try {
      // label doubts asked for behind the training (another window, or this page before its reload): they wait,
      // and a waiting job sends no event the reloaded page could learn of it from
      const doubts = await api('doubts.start', {});
      await page.reload();
      await page.getByTestId('nav-review').click();
      const bar = page.locator('[data-testid=doubts-progress][data-status=running] [data-testid=doubts-bar]');
      await bar.waitFor({ timeout: 60_000 });
      assert.match(await bar.innerText(), new RegExp(`label doubts: waiting for a training run \\(job ${training.jobId.slice(0, 8)}\\) to end`));
      await page.getByTestId('cancel-doubts').click();
      await page.locator('[data-testid=doubts-progress][data-status=cancelled]').waitFor({ timeout: 60_000 });
      assert.equal((await api('jobs.get', { jobId: doubts.jobId })).status, 'cancelled');
      assert.equal((await api('jobs.get', { jobId: training.jobId })).status, 'running', 'the training goes on');
    } finally {
      await api('jobs.cancel', { jobId: training.jobId });
    }
  });

  test('no page errors, console errors or CSP violations', () => {
    assert.deepEqual(problems, []);
  });
});

if (skip) test('reload and Back', { skip }, () => {});
