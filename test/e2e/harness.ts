/**
 * What the browser tests and the UI bench share: Debian's Chromium through playwright-core, `mask-studio
 * serve` as a child process on a temp library, and the built renderer (built here when missing).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { MethodInput, MethodName, MethodOutput } from '../../shared/contract';
import { generateDataset, type DatasetManifest, type DatasetOptions } from '../fixtures/synthetic';
import { parseJson, REPO_ROOT, runCli, tempDir } from '../helpers';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export function browserMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** `npm test` builds before the tests; a test run on its own builds once here. */
export function ensureBuilt(): void {
  if (existsSync(join(REPO_ROOT, 'out', 'renderer', 'index.html'))) return;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('electron-vite build failed');
}

export interface Served {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `mask-studio --library DIR serve --json [--data-root D]...` and resolves with the URL it prints.
 * `dataRoots`: the folders the page may import from (none by default, like serve itself).
 */
export function serve(library: string, env: NodeJS.ProcessEnv = {}, dataRoots: readonly string[] = []): Promise<Served> {
  const roots = dataRoots.flatMap((d) => ['--data-root', d]);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'mask-studio.mjs'), '--library', library, 'serve', '--port', '0', '--json', ...roots], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        const doc = JSON.parse(out) as { url: string; port: number };
        resolve({ url: doc.url, port: doc.port, child, stop });
      } catch {
        // not the whole document yet
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`mask-studio serve exited (${code}) before printing its URL: ${err}`)));
  });
}

/** Where screenshots go: docs/screenshots/ when UPDATE_SCREENSHOTS=1 (to commit them), else test-results/. */
export function screenshotDir(): string {
  const dir = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(REPO_ROOT, 'docs', 'screenshots') : join(REPO_ROOT, 'test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `mask-studio --library DIR --json ARGS…` that must succeed, its stdout parsed: the library's own word. */
export function libraryCli(library: () => string): <T>(...args: string[]) => Promise<T> {
  return async <T>(...args: string[]): Promise<T> => {
    const r = await runCli(['--library', library(), '--json', ...args]);
    assert.equal(r.code, 0, `mask-studio ${args.join(' ')}: ${r.stderr}`);
    return parseJson<T>(r.stdout);
  };
}

/** Saves the page as NAME.png in screenshotDir(): palette PNGs, a quarter of the bytes, small enough to commit. */
export function screenshotter(page: () => Page): (name: string) => Promise<void> {
  const dir = screenshotDir();
  return async (name: string) => {
    await sharp(await page().screenshot()).png({ palette: true, quality: 80, effort: 8 }).toFile(join(dir, `${name}.png`));
  };
}

/** A browser test's temp folder: an empty library in `library`, a generated dataset in `data` (its folder the page may import from). */
export interface SmallLibrary {
  root: string;
  library: string;
  dataRoot: string;
  data: DatasetManifest;
}

/**
 * What every browser test makes first (the renderer built, a temp folder removed by `cleanups`, a generated
 * dataset beside an empty library), and, when asked, the dataset imported by the CLI (`'labels'`: images and
 * labels CSV; `'zindi'`: the test folder and sample submission too) and split with seed 1.
 */
export async function smallLibrary(name: string, cleanups: Array<() => void>, dataset: DatasetOptions, imported?: 'labels' | 'zindi'): Promise<SmallLibrary> {
  ensureBuilt();
  const root = tempDir(name, { after: (fn) => cleanups.push(fn) });
  const library = join(root, 'library');
  mkdirSync(library);
  const dataRoot = join(root, 'data');
  const data = await generateDataset(dataRoot, dataset);
  if (imported !== undefined) {
    const cli = libraryCli(() => library);
    const zindi = imported === 'zindi' ? ['--test-dir', data.testDir, '--sample-submission', data.sampleSubmission] : [];
    await cli('import', data.imagesDir, '--labels', data.labelsCsv, ...zindi);
    await cli('split', '--seed', '1');
  }
  return { root, library, dataRoot, data };
}

/** Chromium on the served studio with its problems watched: what each browser test opens first. */
export async function openStudio(server: Served, problems: string[], options: Parameters<Browser['newPage']>[0]): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage(options);
    watchProblems(page, problems);
    await page.goto(server.url);
    return { browser, page };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/** Closes what a browser test opened (either may be missing when its `before` failed), then its own cleanups. */
export async function closeStudio(browser: Browser | undefined, server: Served | undefined, cleanups: ReadonlyArray<() => void>): Promise<void> {
  await browser?.close();
  await server?.stop();
  for (const fn of cleanups) fn();
}

/**
 * Collects what must never happen on a page: uncaught errors, console errors, CSP violations. A refused call
 * is shown by the view (asserted where it matters); Chromium also logs its HTTP status, which is not a problem.
 */
export function watchProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Failed to load resource/.test(m.text()) && m.location().url.endsWith('/api/call')) return;
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()} (${m.location().url})`);
  });
}

/**
 * The served library's own answers, through `POST api/call` with the server's token: what the CLI's --json
 * says, without starting a process per question (a CLI start costs seconds on a loaded machine).
 */
export function serverApi(served: () => Served): <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>> {
  return async <M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> => {
    const url = new URL(served().url);
    const token = url.searchParams.get('token') ?? '';
    const res = await fetch(new URL('/api/call', url.origin), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ method, input }),
    });
    const reply = (await res.json()) as { ok: true; value: MethodOutput<M> } | { ok: false; error: { code: string; message: string } };
    if (!reply.ok) throw new Error(`${method}: ${reply.error.code} ${reply.error.message}`);
    return reply.value;
  };
}

/**
 * How the Compare table sits in its box: its width and the box's, and its width at its narrowest (every cell
 * wrapped where it may), which must leave room: the numbers differ from library to library and machine to machine.
 */
export async function compareTableFit(page: Page): Promise<{ scrollWidth: number; clientWidth: number; narrowest: number }> {
  const [scrollWidth = 0, clientWidth = 0, narrowest = 0] = await page.getByTestId('compare-table-wrap').evaluate((el) => {
    const e = el as unknown as { scrollWidth: number; clientWidth: number; firstElementChild: { style: { width: string }; offsetWidth: number } };
    const table = e.firstElementChild;
    table.style.width = 'min-content';
    const min = table.offsetWidth;
    table.style.width = '';
    return [e.scrollWidth, e.clientWidth, min];
  });
  return { scrollWidth, clientWidth, narrowest };
}
