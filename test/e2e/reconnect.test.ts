/**
 * A page that loses its event socket while a job ends: the job.finished sent meanwhile is gone, and after the
 * reconnect (or when its wait begins) the page asks the job table (jobs.get) instead of waiting forever.
 * Chromium's socket to serve is routed through Playwright, which drops the import's job.finished and then
 * closes the socket.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { DatasetManifest } from '../fixtures/synthetic';
import { browserMissing, closeStudio, launchBrowser, serve, smallLibrary, watchProblems, type Served } from './harness';

const skip = browserMissing();

describe('a lost job.finished (serve mode)', { skip: skip ?? false }, () => {
  let browser: Browser;
  let page: Page;
  let server: Served;
  let data: DatasetManifest;
  const problems: string[] = [];
  const cleanups: Array<() => void> = [];
  /** Sockets the page opened, and the job.finished events kept from it. */
  let sockets = 0;
  const dropped: string[] = [];
  // events of the route, awaited rather than timed: the drop, and the page's second socket
  let dropDone!: () => void;
  const droppedOne = new Promise<void>((resolve) => (dropDone = resolve));
  let reopened!: () => void;
  const reconnected = new Promise<void>((resolve) => (reopened = resolve));

  before(async () => {
    const made = await smallLibrary('e2e-reconnect', cleanups, { n: 16, seed: 5, maxSize: 160 });
    data = made.data;
    server = await serve(made.library, {}, [made.dataRoot]);
    browser = await launchBrowser();
    page = await browser.newPage();
    watchProblems(page, problems);
    await page.routeWebSocket(/\/api\/events/, (ws) => {
      const first = sockets++ === 0;
      if (sockets === 2) reopened();
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        const text = typeof message === 'string' ? message : message.toString();
        if (first && text.includes('"job.finished"')) {
          dropped.push(text);
          dropDone();
          ws.close(); // the page sees its socket close after the event was lost
          return;
        }
        ws.send(message);
      });
    });
    await page.goto(server.url);
  });

  after(() => closeStudio(browser, server, cleanups));

  test('the import ends in the page after the reconnect, from the job table', async () => {
    await page.getByTestId('library-empty').waitFor();
    await page.getByTestId('open-import').click();
    await page.getByTestId('import-dir').fill(data.imagesDir);
    await page.getByTestId('import-labels').fill(data.labelsCsv);
    await page.getByTestId('import-start').click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor();
    // the summary came from the job table: the event was dropped (and the page opened a new socket after)
    await droppedOne;
    await reconnected;
    assert.equal(dropped.length, 1);
    assert.match(dropped[0] ?? '', /"status":"done"/);
    assert.match(await summary.innerText(), new RegExp(`Imported ${Object.keys(data.paths).length} files`));
    assert.deepEqual(problems, []);
  });
});
