/**
 * `npm run bench -- ui [--n 10000] [--scale] [--fresh]`: the Library view in Chromium against `mask-studio serve`
 * on a library of N small generated images (kept in the temp folder between runs unless --fresh). With
 * --scale the images are the scale bench's (test/fixtures/scale.ts: duplicates, near copies and broken files,
 * so the audit has thousands of findings for the Review queue), e.g. `--n 100000 --scale` (issue 14).
 *  - time to first grid paint (navigation start → first cell drawn → first thumbnail decoded)
 *  - scrolling from the top to the bottom of the grid, one animation frame at a time: frames over 50 ms
 *    (cold: thumbnails made on demand by sharp; warm: second pass, served from the cache)
 *  - label keypress → stored: keydown's timestamp to the server's answer, as the page's status line reports it
 *  - a class filter and a name search: the change to the grid's new total drawn (the search box waits
 *    SEARCH_WAIT_MS after the last key of a typed word (lib/search-pace.ts; a single change asks at once)
 *  - the Review queue: the Review tab's click to the first finding's evidence drawn
 * Figures are noisy on a shared machine: say so when quoting them.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Random } from '../fixtures/random';
import { generateScaleDataset } from '../fixtures/scale';
import { runCli } from '../helpers';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, ensureBuilt, launchBrowser, serve } from '../e2e/harness';
import type { PageGlobals } from '../e2e/page-types';

interface ScrollGlobals {
  document: { querySelector(sel: string): { scrollTop: number; scrollHeight: number; clientHeight: number } | null };
}

/**
 * Scrolls the grid STEP px per animation frame to the bottom and returns the frame intervals. A string: tsx
 * would wrap a named function in a helper the page does not have.
 */
const SCROLL_SCRIPT = `new Promise((done) => {
  const el = document.querySelector('[data-testid=grid]');
  if (!el) return done([]);
  el.scrollTop = 0;
  const deltas = [];
  let last = -1;
  const tick = (t) => {
    if (last >= 0) deltas.push(t - last);
    last = t;
    if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) return done(deltas);
    el.scrollTop += STEP;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})`;

async function makeImages(dir: string, n: number): Promise<void> {
  const images = join(dir, 'images');
  mkdirSync(images, { recursive: true });
  const rng = new Random(11);
  const rows: string[] = ['image,target'];
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) {
    const w = rng.int(64, 128);
    const h = rng.int(64, 128);
    const px = Buffer.alloc(w * h * 3);
    for (let b = 0; b < 6; b++) {
      const [x0, y0, bw, bh] = [rng.int(0, w - 1), rng.int(0, h - 1), rng.int(4, w), rng.int(4, h)];
      const rgb = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
      for (let y = y0; y < Math.min(h, y0 + bh); y++) for (let x = x0; x < Math.min(w, x0 + bw); x++) px.set(rgb, (y * w + x) * 3);
    }
    const name = `bench_${String(i).padStart(6, '0')}.jpg`;
    rows.push(`${name},${i % 2}`);
    pending.push(sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 70 }).toFile(join(images, name)));
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function spread(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${quantile(sorted, 0.5).toFixed(1)} ms, p95 ${quantile(sorted, 0.95).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`;
}

/** The library to serve: generated and imported once (then audited, so Review has its findings), kept after. */
async function prepareLibrary(n: number, scale: boolean, fresh: boolean): Promise<string> {
  const root = join(tmpdir(), `mask-studio-bench-ui-${n}${scale ? '-scale' : ''}`);
  if (fresh) rmSync(root, { recursive: true, force: true });
  const library = join(root, 'library');
  if (existsSync(join(library, 'studio.db'))) return library;
  let t = performance.now();
  let images = join(root, 'data', 'images');
  let labels = join(root, 'data', 'labels.csv');
  if (scale) {
    // the scale bench's folder: generated once, reused by either bench
    const m = await generateScaleDataset(join(tmpdir(), `mask-studio-scale-n${n}-s1`), { n, seed: 1 });
    [images, labels] = [m.imagesDir, m.labelsCsv];
  } else await makeImages(join(root, 'data'), n);
  console.log(`generated ${n} images in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  for (const args of [['import', images, '--labels', labels], ['audit']]) {
    const r = await runCli(['--library', library, ...args]);
    if (r.code !== 0 && !(args[0] === 'audit' && r.code === 1)) throw new Error(`${args[0]} failed: ${r.stderr}`);
  }
  console.log(`imported and audited them in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return library;
}

const VIEWPORT = { width: 1280, height: 800 };

/** Records, in the page, when the first cell with a row enters the DOM and the frame after (it is painted). */
const FIRST_CELL_SCRIPT = `(() => {
  const seen = () => document.querySelector('[data-testid=cell][data-id]');
  const mo = new MutationObserver(() => {
    if (!seen()) return;
    mo.disconnect();
    globalThis.__firstCell = performance.now();
    requestAnimationFrame(() => { globalThis.__firstCellPainted = performance.now(); });
  });
  document.addEventListener('DOMContentLoaded', () => mo.observe(document.body, { subtree: true, childList: true, attributes: true }));
})()`;

interface FirstPaint {
  /** when Playwright saw the first cell (its polling and a round trip included): the figure quoted since the start */
  observed: number;
  /** the frame after the first cell entered the DOM, by the page's own clock */
  painted: number;
  thumb: number;
}

async function firstPaintOnce(page: Page, url: string): Promise<FirstPaint> {
  await page.goto(url);
  await page.locator('[data-testid=cell][data-id]').first().waitFor();
  const observed = await page.evaluate(() => performance.now());
  await page.waitForFunction(() => {
    const img = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid=cell] img'))[0];
    return img !== undefined && img.complete && img.naturalWidth > 0;
  });
  const thumb = await page.evaluate(() => performance.now());
  await page.waitForFunction('globalThis.__firstCellPainted !== undefined');
  const painted = Number(await page.evaluate('globalThis.__firstCellPainted'));
  return { observed, painted, thumb };
}

/** Three fresh pages (navigation start → first cell); the median of each figure, and every run's. */
async function firstPaint(browser: Browser, page: Page, url: string): Promise<void> {
  const runs: FirstPaint[] = [];
  for (let i = 0; i < 3; i++) {
    const fresh = await browser.newPage({ viewport: VIEWPORT });
    await fresh.addInitScript(FIRST_CELL_SCRIPT);
    runs.push(await firstPaintOnce(fresh, url));
    await fresh.close();
  }
  await page.goto(url);
  await page.locator('[data-testid=cell][data-id]').first().waitFor();
  const total = await page.getByTestId('grid').getAttribute('data-total');
  const median = (pick: (r: FirstPaint) => number): string => quantile(runs.map(pick).sort((a, b) => a - b), 0.5).toFixed(0);
  const each = (pick: (r: FirstPaint) => number): string => runs.map((r) => pick(r).toFixed(0)).join(', ');
  console.log(
    `grid of ${total} images (median of 3 page loads): first cell seen by the bench ${median((r) => r.observed)} ms after navigation start (target ≤ 1000; ${each((r) => r.observed)}), ` +
      `painted ${median((r) => r.painted)} ms by the page's clock (${each((r) => r.painted)}), first thumbnail ${median((r) => r.thumb)} ms`,
  );
}

async function scrolling(page: Page): Promise<void> {
  for (const pass of ['cold', 'warm']) {
    const frames = (await page.evaluate(SCROLL_SCRIPT.replace('STEP', '240'))) as number[];
    const sorted = [...frames].sort((a, b) => a - b);
    const slow = frames.filter((d) => d > 50).length;
    const seconds = frames.reduce((a, b) => a + b, 0) / 1000;
    console.log(
      `scroll ${pass} (240 px per frame, top to bottom): ${frames.length} frames in ${seconds.toFixed(1)} s, ` +
        `median ${quantile(sorted, 0.5).toFixed(1)} ms (target ≤ 16.7), p95 ${quantile(sorted, 0.95).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms, ` +
        `${slow} frames over 50 ms (${((100 * slow) / Math.max(1, frames.length)).toFixed(1)} %; target ≤ 5 %)`,
    );
  }
}

async function keypresses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = (globalThis as unknown as ScrollGlobals).document.querySelector('[data-testid=grid]');
    if (el) el.scrollTop = 0;
  });
  // the grid redraws its rows as the scroll settles: click until the first cell is the one selected
  await page.locator('[data-testid=cell][data-index="0"][data-id]').waitFor();
  for (let tries = 0; tries < 20 && (await page.locator('[data-testid=cell][data-index="0"][aria-selected=true]').count()) === 0; tries++) {
    await page.locator('[data-testid=cell][data-index="0"]').click();
  }
  const latencies: number[] = [];
  for (let i = 0; i < 40; i++) {
    const label = i % 2 === 0 ? '1' : '0';
    await page.keyboard.press(label);
    await page.locator(`[data-testid=cell][data-index="0"][data-label="${label}"]`).waitFor();
    const status = page.locator('[data-testid=save-status][data-pending="0"]');
    await status.waitFor();
    latencies.push(Number(await status.getAttribute('data-ms')));
  }
  console.log(`label keypress → stored (${latencies.length} presses): ${spread(latencies)} (target ≤ 100)`);
}

/** Runs `change` and times it until the grid shows a total other than `before` with its first cell drawn. */
async function untilRegrid(page: Page, change: () => Promise<unknown>): Promise<number> {
  const grid = page.getByTestId('grid');
  const before = (await grid.getAttribute('data-total')) ?? '';
  const t = performance.now();
  await change();
  await page.waitForFunction((b) => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document;
    return doc.querySelector('[data-testid=grid]')?.getAttribute('data-total') !== b && doc.querySelector('[data-testid=cell][data-id]') !== null;
  }, before);
  return performance.now() - t;
}

async function filters(page: Page): Promise<void> {
  const label: number[] = [];
  const search: number[] = [];
  for (let i = 0; i < 5; i++) {
    label.push(await untilRegrid(page, () => page.getByTestId('filter-label').selectOption('1')));
    label.push(await untilRegrid(page, () => page.getByTestId('filter-label').selectOption('any')));
    search.push(await untilRegrid(page, () => page.getByTestId('filter-search').fill(`${i}7${i}`)));
    search.push(await untilRegrid(page, () => page.getByTestId('filter-search').fill('')));
  }
  console.log(`class filter → grid redrawn (${label.length} changes): ${spread(label)} (target ≤ 200)`);
  console.log(`name search → grid redrawn, debounce included (${search.length} changes): ${spread(search)} (target ≤ 200)`);
}

async function reviewQueue(page: Page): Promise<void> {
  const t = performance.now();
  await page.getByTestId('nav-review').click();
  await page.locator('[data-testid=review-item], [data-testid=review-empty]').first().waitFor();
  const ms = performance.now() - t;
  const position = (await page.getByTestId('review-position').textContent().catch(() => null)) ?? 'no findings';
  console.log(`Review queue opened (${position.trim()}): ${ms.toFixed(0)} ms (target ≤ 1000)`);
}

export async function run(args: string[]): Promise<void> {
  const missing = browserMissing();
  if (missing) {
    console.log(`ui bench skipped: ${missing}`);
    return;
  }
  const nIdx = args.indexOf('--n');
  const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 10_000;
  ensureBuilt();
  const library = await prepareLibrary(n, args.includes('--scale'), args.includes('--fresh'));
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
  const server = await serve(library);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await firstPaint(browser, page, server.url);
    await scrolling(page);
    await keypresses(page);
    await filters(page);
    await reviewQueue(page);
    console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}
