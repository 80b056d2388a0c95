/**
 * `npm run bench -- ui [--n 10000] [--fresh]`: the Library view in Chromium against `mask-studio serve` on a
 * library of N small generated images (kept in the temp folder between runs unless --fresh).
 *  - time to first grid paint (navigation start → first cell drawn → first thumbnail decoded)
 *  - scrolling from the top to the bottom of the grid, one animation frame at a time: frames over 50 ms
 *    (cold: thumbnails made on demand by sharp; warm: second pass, served from the cache)
 *  - label keypress → stored: keydown's timestamp to the server's answer, as the page's status line reports it
 * Figures are noisy on a shared machine: say so when quoting them.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Random } from '../fixtures/random';
import { runCli } from '../helpers';
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

export async function run(args: string[]): Promise<void> {
  const missing = browserMissing();
  if (missing) {
    console.log(`ui bench skipped: ${missing}`);
    return;
  }
  const nIdx = args.indexOf('--n');
  const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 10_000;
  const root = join(tmpdir(), `mask-studio-bench-ui-${n}`);
  if (args.includes('--fresh')) rmSync(root, { recursive: true, force: true });
  const library = join(root, 'library');
  ensureBuilt();
  if (!existsSync(join(library, 'studio.db'))) {
    let t = performance.now();
    await makeImages(join(root, 'data'), n);
    console.log(`generated ${n} images in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    const r = await runCli(['--library', library, 'import', join(root, 'data', 'images'), '--labels', join(root, 'data', 'labels.csv')]);
    if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
    console.log(`imported them in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  const server = await serve(library);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url);
    await page.locator('[data-testid=cell][data-id]').first().waitFor();
    const firstCell = await page.evaluate(() => performance.now());
    await page.waitForFunction(() => {
      const img = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('[data-testid=cell] img'))[0];
      return img !== undefined && img.complete && img.naturalWidth > 0;
    });
    const firstThumb = await page.evaluate(() => performance.now());
    const total = await page.getByTestId('grid').getAttribute('data-total');
    console.log(`grid of ${total} images: first cell drawn ${firstCell.toFixed(0)} ms after navigation start, first thumbnail ${firstThumb.toFixed(0)} ms`);

    for (const pass of ['cold', 'warm']) {
      const frames = (await page.evaluate(SCROLL_SCRIPT.replace('STEP', '240'))) as number[];
      const sorted = [...frames].sort((a, b) => a - b);
      const slow = frames.filter((d) => d > 50).length;
      const seconds = frames.reduce((a, b) => a + b, 0) / 1000;
      console.log(
        `scroll ${pass} (240 px per frame, top to bottom): ${frames.length} frames in ${seconds.toFixed(1)} s, ` +
          `median ${quantile(sorted, 0.5).toFixed(1)} ms, p95 ${quantile(sorted, 0.95).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms, ` +
          `${slow} frames over 50 ms (${((100 * slow) / Math.max(1, frames.length)).toFixed(1)} %)`,
      );
    }

    await page.evaluate(() => {
      const el = (globalThis as unknown as ScrollGlobals).document.querySelector('[data-testid=grid]');
      if (el) el.scrollTop = 0;
    });
    await page.locator('[data-testid=cell][data-index="0"]').click();
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const label = i % 2 === 0 ? '1' : '0';
      await page.keyboard.press(label);
      await page.locator(`[data-testid=cell][data-index="0"][data-label="${label}"]`).waitFor();
      const status = page.locator('[data-testid=save-status][data-pending="0"]');
      await status.waitFor();
      latencies.push(Number(await status.getAttribute('data-ms')));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `label keypress → stored (${latencies.length} presses): median ${quantile(sorted, 0.5).toFixed(1)} ms, p95 ${quantile(sorted, 0.95).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}
