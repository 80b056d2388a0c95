/**
 * A page that loses its event socket while a job ends: the job.finished sent meanwhile is gone, and after the
 * reconnect the page asks the job table (jobs.get) instead of waiting forever. Chromium's socket to serve is
 * routed through Playwright, which drops the import's job.finished and then closes the socket.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { generateDataset, type DatasetManifest } from '../fixtures/synthetic';
import { tempDir } from '../helpers';
import { browserMissing, closeStudio, ensureBuilt, launchBrowser, serve, watchProblems, type Served } from './harness';

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

  before(async () => {
    ensureBuilt();
    const root = tempDir('e2e-reconnect', { after: (fn) => cleanups.push(fn) });
    const library = join(root, 'library');
    mkdirSync(library);
    data = await generateDataset(join(root, 'data'), { n: 16, seed: 5, maxSize: 160 });
    server = await serve(library, {}, [join(root, 'data')]);
    browser = await launchBrowser();
    page = await browser.newPage();
    watchProblems(page, problems);
    await page.routeWebSocket(/\/api\/events/, (ws) => {
      const first = sockets++ === 0;
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        const text = typeof message === 'string' ? message : message.toString();
        if (first && text.includes('"job.finished"')) {
          dropped.push(text);
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
    assert.equal(dropped.length, 1, 'the job.finished was dropped');
    assert.ok(sockets >= 2, `the page reconnected (${sockets} sockets)`);
    assert.match(await summary.innerText(), new RegExp(`Imported ${Object.keys(data.paths).length} files`));
    assert.deepEqual(problems, []);
  });
});
